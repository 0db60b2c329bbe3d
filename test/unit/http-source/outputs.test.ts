/**
 * The byte-stream outputs without sockets: `ByteStreamConsumer` starts at the first video
 * keyframe and rebases times to it, the stall rule closes a reader that stopped reading, and the
 * MPEG-TS and ADTS consumers write what ffprobe-free parsers read back.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAdtsHeader } from '../../../src/codecs/aac/adts.ts';
import type { Frame } from '../../../src/core/media.ts';
import { StreamTrack } from '../../../src/core/track.ts';
import { TsDemuxer } from '../../../src/formats/ts/demuxer.ts';
import { ByteStreamConsumer } from '../../../src/protocols/http/out/byte-consumer.ts';
import { AdtsStreamConsumer, TsStreamConsumer } from '../../../src/protocols/http/out/consumers.ts';
import { StalledReaderError, StallWatch } from '../../../src/protocols/http/out/stall.ts';
import { SYNTHETIC_MEDIAS, syntheticAudio, syntheticVideo } from '../ts/media-helpers.ts';

class Recorder extends ByteStreamConsumer {
  readonly type = 'test';
  started_: string[] = [];
  written: [number, Frame][] = [];
  backlog = 0;
  protected override backlogBytes(): number {
    return this.backlog;
  }
  protected start(): void {
    this.started_.push('start');
  }
  protected write(index: number, frame: Frame): void {
    this.written.push([index, frame]);
  }
  protected onClose(): void {}
}

/** A ServerResponse stand-in: a stream that collects what is written, with writeHead. */
function fakeResponse() {
  const body = new PassThrough();
  const chunks: Buffer[] = [];
  body.on('data', (c: Buffer) => chunks.push(c));
  const res = Object.assign(body, {
    headersSent: false,
    statusCode: 0,
    headers: {} as Record<string, string>,
    writeHead(status: number, headers: Record<string, string>) {
      res.headersSent = true;
      res.statusCode = status;
      res.headers = headers;
      return res;
    },
  });
  return {
    res: res as unknown as ServerResponse & { headers: Record<string, string> },
    bytes: () => Buffer.concat(chunks),
  };
}

function tracks(): [StreamTrack, StreamTrack] {
  return [
    new StreamTrack(0, SYNTHETIC_MEDIAS[0].codecs[0]),
    new StreamTrack(1, SYNTHETIC_MEDIAS[1].codecs[0]),
  ];
}

describe('HTTP byte-stream outputs', () => {
  test('ByteStreamConsumer starts at the first video keyframe and counts times from it', () => {
    const [video, audio] = tracks();
    const c = new Recorder([]);
    c.attachTrack(video);
    c.attachTrack(audio);
    c.play();
    const v = syntheticVideo(12, 10).map((f) => ({ ...f, pts: f.pts + 90000, dts: f.dts + 90000 }));
    audio.write({ pts: 44100, dts: 44100, keyframe: true, data: Buffer.from([1]) }); // before the start: dropped
    for (const f of v.slice(1, 10)) video.write(f); // no keyframe yet
    assert.equal(c.written.length, 0);
    video.write(v[10]);
    audio.write({ pts: 44100 + 5 * 4410, dts: 44100 + 5 * 4410, keyframe: true, data: Buffer.from([2]) });
    video.write(v[11]);
    assert.deepEqual(c.started_, ['start']);
    assert.deepEqual(
      c.written.map(([i, f]) => [i, f.dts]),
      [
        [0, 0],
        [1, 4410],
        [0, 3600],
      ],
    );
    c.close();
  });

  test('ByteStreamConsumer closes with StalledReaderError when its backlog stays over the limit', async () => {
    const [video] = tracks();
    const c = new Recorder([]);
    Object.defineProperty(c, 'stall', { value: new StallWatch(50) });
    c.maxBacklogBytes = 100;
    c.attachTrack(video);
    c.play();
    let closed: Error | undefined;
    c.once('close', (err) => {
      closed = err;
    });
    const frames = syntheticVideo(20, 10);
    video.write(frames[0]);
    c.backlog = 1000;
    video.write(frames[1]);
    await sleep(80);
    video.write(frames[2]);
    assert.ok(closed instanceof StalledReaderError, String(closed));
    assert.equal(c.counters.drops, 1);
  });

  test('TsStreamConsumer writes a 200 video/mp2t response that TsDemuxer reads back as H.264 and AAC', () => {
    const [video, audio] = tracks();
    const { res, bytes } = fakeResponse();
    const c = new TsStreamConsumer(res);
    c.attachTrack(video);
    c.attachTrack(audio);
    c.play();
    const v = syntheticVideo(20, 10);
    const a = syntheticAudio(30);
    for (let i = 0; i < 20; i++) {
      video.write(v[i]);
      audio.write(a[i]);
    }
    c.close();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'video/mp2t');
    const demuxer = new TsDemuxer();
    const events = [...demuxer.push(bytes()), ...demuxer.flush()];
    const first = events[0];
    assert.equal(first.type, 'tracks');
    assert.deepEqual(first.type === 'tracks' ? first.medias.map((m) => m.codecs[0].name) : [], [
      'H264',
      'AAC',
    ]);
    assert.ok(events.filter((e) => e.type === 'frame').length >= 30);
  });

  test('AdtsStreamConsumer writes each AAC frame with an ADTS header from the track config', () => {
    const [, audio] = tracks();
    const { res, bytes } = fakeResponse();
    const c = new AdtsStreamConsumer(res);
    c.attachTrack(audio);
    c.play();
    const a = syntheticAudio(3);
    for (const f of a) audio.write(f);
    c.close();
    const out = bytes();
    const h = parseAdtsHeader(out, 0);
    assert.deepEqual([h.sampleRate, h.channelConfig, h.frameLength], [44100, 2, 7 + a[0].data.length]);
    assert.equal(
      out.length,
      a.reduce((n, f) => n + 7 + f.data.length, 0),
    );
  });
});
