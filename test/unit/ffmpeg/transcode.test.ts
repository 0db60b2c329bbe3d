import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { MediaRequest } from '../../../src/core/consumer.ts';
import { UnsupportedError } from '../../../src/core/errors.ts';
import type { Codec, Media } from '../../../src/core/media.ts';
import type { FrameSink, SourceConnection, SourceDriver } from '../../../src/core/source.ts';
import { Stream, type StreamHooks, type TranscodeRequest } from '../../../src/core/stream.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { FfmpegBinary } from '../../../src/protocols/ffmpeg/binary.ts';
import type { FfmpegContext } from '../../../src/protocols/ffmpeg/context.ts';
import { DEFAULT_TEMPLATES } from '../../../src/protocols/ffmpeg/templates.ts';
import {
  FfmpegTranscoder,
  inputQuery,
  planTargets,
  streamPolicy,
  templateFor,
} from '../../../src/protocols/ffmpeg/transcoder.ts';
import { RtspLoopback } from '../../../src/protocols/rtsp/server/loopback.ts';
import { FakeDriver, H264, H265, media, OPUS, RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

const AAC: Codec = { name: 'AAC', clockRate: 44100, channels: 1 };
const WEBRTC: MediaRequest[] = [
  { kind: 'video', codecs: [H264] },
  { kind: 'audio', codecs: [OPUS, { name: 'PCMA', clockRate: 8000 }] },
];

/**
 * A transcoder driver that behaves like the ffmpeg one: before it delivers, it reads the stream
 * back (a consumer of the stream, as ffmpeg's RTSP reader is), which needs the stream's queue.
 */
class LoopbackDriver implements SourceDriver {
  readonly inner: FakeDriver;
  readers: RecordingConsumer[] = [];
  failWith: Error | undefined;
  constructor(
    private readonly stream: () => Stream,
    medias: Media[],
  ) {
    this.inner = new FakeDriver(medias);
  }
  async connect(sink: FrameSink, signal: AbortSignal): Promise<SourceConnection> {
    if (this.failWith) throw this.failWith;
    const reader = new RecordingConsumer([{ kind: 'video', codecs: [H265] }]);
    await this.stream().addConsumer(reader);
    reader.play();
    this.readers.push(reader);
    const conn = await this.inner.connect(sink, signal);
    conn.once('close', () => reader.close());
    return conn;
  }
}

let before: ResourceCounts;
const streams: Stream[] = [];

function setup(sourceMedias: Media[], targetMedias: Media[]) {
  const source = new FakeDriver(sourceMedias);
  const plans: TranscodeRequest[] = [];
  let stream!: Stream;
  const transcoder = new LoopbackDriver(() => stream, targetMedias);
  const hooks: StreamHooks = {
    transcoder: {
      plan(req) {
        plans.push(req);
        return { key: 'video=h264', url: 'ffmpeg:cam#video=h264', driver: transcoder };
      },
    },
  };
  stream = new Stream(
    'cam',
    [{ url: 'fake://cam', driver: source }],
    { idleTimeoutMs: 50, minBackoffMs: 20 },
    hooks,
  );
  streams.push(stream);
  return { stream, source, transcoder, plans };
}

beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await assertNoLeaks(before);
});

describe('Stream with a transcoder hook', { timeout: 10000 }, () => {
  test('stream.addConsumer() asks the transcoder for what no source has, without deadlocking on its read-back, and attaches its track', async () => {
    const { stream, source, transcoder, plans } = setup([media(H265)], [media(H264)]);
    const viewer = new RecordingConsumer([{ kind: 'video', codecs: [H264] }]);
    await stream.addConsumer(viewer);
    assert.equal(plans.length, 1);
    assert.deepEqual(plans[0].missing, [{ kind: 'video', codecs: [H264] }]);
    assert.deepEqual(
      plans[0].offered().map((m) => m.codecs[0].name),
      ['H265'],
      'offered: the sources only',
    );
    assert.deepEqual(
      viewer.tracks.map((t) => t.codec.name),
      ['H264'],
    );
    assert.equal(transcoder.readers.length, 1, 'the transcoder reads the H.265 of the source');
    viewer.play();
    transcoder.inner.last.send(0, { keyframe: true });
    assert.equal(viewer.received.length, 1);
    assert.equal(source.attempts, 1);
  });

  test('stream.addConsumer() shares one transcoder among consumers and shows who it serves', async () => {
    const { stream, transcoder, plans } = setup([media(H265)], [media(H264)]);
    const a = new RecordingConsumer([{ kind: 'video', codecs: [H264] }]);
    const b = new RecordingConsumer([{ kind: 'video', codecs: [H264] }]);
    const direct = new RecordingConsumer([{ kind: 'video', codecs: [H265] }]);
    await Promise.all([stream.addConsumer(a), stream.addConsumer(b), stream.addConsumer(direct)]);
    assert.equal(transcoder.inner.attempts, 1, 'one ffmpeg for both');
    assert.ok(plans.length <= 2);
    assert.equal(a.tracks[0], b.tracks[0]);
    const info = stream.info();
    assert.deepEqual(
      info.producers.map((p) => [p.url, p.transcoder ?? false]),
      [
        ['fake://cam', false],
        ['ffmpeg:cam#video=h264', true],
      ],
    );
    const served = info.consumers.filter((c) => c.transcoders).map((c) => c.id);
    assert.deepEqual(
      served.sort(),
      [a.id, b.id].sort(),
      'the direct reader and the read-back are not transcoded',
    );
  });

  test("stream.addConsumer() keeps the consumer's order when one kind comes from the source and one from a transcoder", async () => {
    const source = new FakeDriver([media(H265), media(OPUS)]);
    let stream!: Stream;
    const transcoder = new LoopbackDriver(() => stream, [media(H264)]);
    stream = new Stream(
      'cam',
      [{ url: 'fake://cam', driver: source }],
      { idleTimeoutMs: 50 },
      {
        transcoder: { plan: () => ({ key: 'video=h264', url: 'ffmpeg:cam#video=h264', driver: transcoder }) },
      },
    );
    streams.push(stream);
    const viewer = new RecordingConsumer(WEBRTC);
    await stream.addConsumer(viewer);
    assert.deepEqual(
      viewer.tracks.map((t) => t.codec.name),
      ['H264', 'OPUS'],
    );
  });

  test("stream.addConsumer() rejects naming the transcoder's failure when it cannot start", async () => {
    const { stream, transcoder } = setup([media(H265)], [media(H264)]);
    transcoder.failWith = new UnsupportedError('ffmpeg not found (ffmpeg.bin=/nope)');
    const viewer = new RecordingConsumer([{ kind: 'video', codecs: [H264] }]);
    await assert.rejects(stream.addConsumer(viewer), (err: Error) => {
      assert.ok(err instanceof UnsupportedError);
      assert.equal(
        err.message,
        'codecs not matched: video:H265 => video:H264 (transcoding failed: ffmpeg:cam#video=h264: ffmpeg not found (ffmpeg.bin=/nope))',
      );
      return true;
    });
    viewer.close();
  });

  test("stream.close() closes the transcoder's connection; replaceSources() drops the transcoder and its consumers", async () => {
    const first = setup([media(H265)], [media(H264)]);
    const viewer = new RecordingConsumer([{ kind: 'video', codecs: [H264] }]);
    await first.stream.addConsumer(viewer);
    const closes: number[] = [];
    viewer.on('close', () => closes.push(1));
    await first.stream.replaceSources([{ url: 'fake://other', driver: new FakeDriver([media(H264)]) }]);
    assert.equal(closes.length, 1, 'its reader was closed once');
    assert.equal(first.transcoder.inner.last.closed, true);
    assert.equal(first.stream.info().producers.length, 1);

    const second = setup([media(H265)], [media(H264)]);
    await second.stream.addConsumer(new RecordingConsumer([{ kind: 'video', codecs: [H264] }]));
    second.stream.close();
    assert.equal(second.transcoder.inner.last.closed, true);
    assert.equal(second.transcoder.readers[0].closed, true, 'its read-back too');
  });

  test('a transcoder stops idle_timeout after its last reader, like any source', async () => {
    const { stream, transcoder } = setup([media(H265)], [media(H264)]);
    const viewer = new RecordingConsumer([{ kind: 'video', codecs: [H264] }]);
    await stream.addConsumer(viewer);
    viewer.play();
    viewer.close();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(transcoder.inner.last.closed, true);
  });
});

describe('FfmpegTranscoder', () => {
  const ctx = (transcode: 'auto' | 'never'): FfmpegContext => ({
    binary: { bin: 'ffmpeg', check: async () => undefined } as FfmpegBinary,
    templates: DEFAULT_TEMPLATES,
    registry: undefined as never,
    loopback: new RtspLoopback(),
    log: silentLogger(),
    allowExec: false,
    transcode,
  });
  const request = (urls: string[], missing: MediaRequest[], offered: Media[]): TranscodeRequest => ({
    stream: 'cam',
    sourceUrls: urls,
    missing,
    offered: () => offered,
  });

  test('transcoder.plan() makes H.264 and Opus for a WebRTC viewer of an H.265 + AAC camera, under one key', () => {
    const plan = new FfmpegTranscoder(ctx('auto')).plan(
      request(['rtsp://cam'], WEBRTC, [media(H265), media(AAC)]),
    );
    assert.equal(plan?.key, 'video=h264&audio=opus');
    assert.equal(plan?.url, 'ffmpeg:cam#video=h264#audio=opus');
  });

  test('transcoder.plan() follows ffmpeg.transcode and a #transcode= fragment on a source URL', () => {
    const args: [MediaRequest[], Media[]] = [WEBRTC, [media(H265)]];
    assert.equal(new FfmpegTranscoder(ctx('never')).plan(request(['rtsp://cam'], ...args)), undefined);
    assert.equal(
      new FfmpegTranscoder(ctx('auto')).plan(request(['rtsp://cam#transcode=never'], ...args)),
      undefined,
    );
    assert.ok(
      new FfmpegTranscoder(ctx('never')).plan(request(['rtsp://cam#transport=udp#transcode=auto'], ...args)),
    );
    assert.equal(streamPolicy(['a', 'ffmpeg:x#video=h264#transcode=NEVER']), 'never');
    assert.equal(streamPolicy(['rtsp://x#transcode=neverever']), undefined);
  });

  test('planTargets() skips kinds the sources lack and requests for any codec, and picks the first codec ffmpeg makes', () => {
    assert.deepEqual(planTargets(WEBRTC, [media(H265)]), [{ kind: 'video', template: 'h264' }]);
    assert.deepEqual(planTargets([{ kind: 'audio', codecs: 'any' }], [media(AAC)]), []);
    assert.deepEqual(
      planTargets(
        [
          {
            kind: 'audio',
            codecs: [
              { name: 'L16', clockRate: 8000 },
              { name: 'PCMU', clockRate: 16000 },
            ],
          },
        ],
        [media(AAC)],
      ),
      [{ kind: 'audio', template: 'pcmu/16000' }],
    );
    assert.equal(templateFor({ name: 'JPEG', clockRate: 90000 }), undefined);
  });

  test('inputQuery() reads back only the converted kinds, in the codecs the sources offer', () => {
    assert.equal(inputQuery([{ kind: 'video', template: 'h264' }], [media(H265), media(AAC)]), 'video=h265');
    assert.equal(
      inputQuery(
        [
          { kind: 'video', template: 'h264' },
          { kind: 'audio', template: 'opus' },
        ],
        [media(H265), media(AAC), media(H265)],
      ),
      'video=h265&audio=aac',
    );
    assert.throws(() => inputQuery([{ kind: 'audio', template: 'opus' }], [media(H265)]), /no audio/);
  });
});
