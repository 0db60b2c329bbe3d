/**
 * Interop: FlvDemuxer against FLV files ffmpeg wrote (H.264 with B-frames + AAC, H.264 + G.711),
 * FlvMuxer output checked with ffprobe and ffmpeg's decoders, and enhanced H.265 + Opus (which
 * ffmpeg 5 cannot read in FLV) checked by a round trip TS -> FLV -> TS. Skipped when ffmpeg,
 * ffprobe or an encoder is missing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FlvDemuxer } from '../../../src/formats/flv/demuxer.ts';
import { FlvMuxer } from '../../../src/formats/flv/muxer.ts';
import { TsDemuxer } from '../../../src/formats/ts/demuxer.ts';
import { TsMuxer } from '../../../src/formats/ts/muxer.ts';
import {
  assertMonotonic,
  decodeErrors,
  demuxChunked,
  type Event,
  lavfiInputs,
  makeFile,
  needTools,
  probePackets,
  probeStreams,
  remux,
  split,
} from '../ts/media-helpers.ts';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediagate-flv-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes `buf` to `name` in the temp dir and returns the path. */
function save(name: string, buf: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, buf);
  return path;
}

/** Codec names and decoded frame counts (and picture / sample parameters) as ffprobe sees them. */
function summary(path: string): unknown[] {
  return probeStreams(path).map((s) => [
    s.codec_name,
    s.nb_read_frames,
    s.width,
    s.height,
    s.sample_rate,
    s.channels,
  ]);
}

describe('FLV from ffmpeg: H.264 with B-frames and AAC', { skip: needTools('libx264', 'aac') }, () => {
  let path = '';
  let file: Buffer;
  let events: Event[];
  before(() => {
    file = makeFile(dir, 'h264-aac.flv', [
      ...lavfiInputs(44100),
      '-c:v',
      'libx264',
      '-g',
      '25',
      '-bf',
      '2',
      '-c:a',
      'aac',
      '-f',
      'flv',
    ]);
    path = join(dir, 'h264-aac.flv');
    events = demuxChunked(new FlvDemuxer(), file, 21);
  });

  test('FlvDemuxer.push() gives the same events whatever the chunking and reads onMetaData', () => {
    const d = new FlvDemuxer();
    assert.deepEqual(demuxChunked(d, file, 22, 64), events);
    assert.deepEqual(
      [d.reader.metadata?.['width'], d.reader.metadata?.['height'], d.reader.metadata?.['videocodecid']],
      [320, 240, 7],
    );
    assert.deepEqual(d.reader.videoSize, { width: 320, height: 240 });
    assert.deepEqual(d.stats, {
      tags: d.stats.tags,
      invalidTags: 0,
      framesDropped: 0,
      garbageBytes: 0,
      previousTagSizeErrors: 0,
    });
  });

  test('FlvDemuxer.push() gives every packet ffprobe sees, with its times and key flags', () => {
    const { medias, frames } = split(events);
    assert.deepEqual(
      medias.map((m) => [m.codecs[0].name, m.codecs[0].clockRate, m.codecs[0].channels]),
      [
        ['H264', 90000, undefined],
        ['AAC', 44100, 1],
      ],
    );
    const video = probePackets(path, 'v:0');
    assert.deepEqual(
      frames[0].map((f) => [f.pts / 90, f.dts / 90, f.keyframe]),
      video.map((p) => [p.pts, p.dts, p.key]),
    );
    assert.ok(frames[0].some((f) => f.pts !== f.dts));
    assertMonotonic(frames[0], 'video');
    const audio = probePackets(path, 'a:0');
    assert.equal(frames[1].length, audio.length);
    frames[1].forEach((f, i) => {
      const ms = (f.dts * 1000) / 44100;
      assert.ok(Math.abs(ms - audio[i].dts) <= 1, `audio frame ${i}: ${ms} ms vs ${audio[i].dts}`);
    });
    // Snapped to continuity: every AAC frame lasts exactly 1024 samples.
    assert.ok(frames[1].every((f, i) => i === 0 || f.dts - frames[1][i - 1].dts === 1024));
  });

  test('FlvMuxer.frame() output has the same codecs and frame counts for ffprobe and decodes cleanly', () => {
    const out = save(
      'remux.flv',
      remux(events, (m) => new FlvMuxer(m)),
    );
    assert.deepEqual(summary(out), summary(path));
    assert.equal(decodeErrors(out), '');
    assert.deepEqual(
      split(
        demuxChunked(
          new FlvDemuxer(),
          remux(events, (m) => new FlvMuxer(m)),
          3,
        ),
      ).frames,
      split(events).frames,
    );
  });

  test('TsMuxer.frame() turns the demuxed FLV into MPEG-TS that ffprobe reads the same', () => {
    const out = save(
      'flv-to.ts',
      remux(events, (m) => new TsMuxer(m)),
    );
    assert.deepEqual(summary(out), summary(path));
    assert.equal(decodeErrors(out), '');
  });
});

describe('FLV from ffmpeg: H.264 and G.711', { skip: needTools('libx264', 'pcm_alaw') }, () => {
  test('FlvDemuxer.push() reads A-law audio and FlvMuxer.frame() writes it back', () => {
    const args = [...lavfiInputs(8000), '-c:v', 'libx264', '-g', '25', '-c:a', 'pcm_alaw', '-f', 'flv'];
    const file = makeFile(dir, 'alaw.flv', args);
    const events = demuxChunked(new FlvDemuxer(), file, 31);
    const { medias, frames } = split(events);
    assert.deepEqual(medias[1].codecs[0], { name: 'PCMA', clockRate: 8000, channels: 1 });
    assertMonotonic(frames[1], 'audio');
    const out = save(
      'alaw-remux.flv',
      remux(events, (m) => new FlvMuxer(m)),
    );
    assert.deepEqual(summary(out), summary(join(dir, 'alaw.flv')));
    assert.equal(decodeErrors(out), '');
  });
});

describe('enhanced FLV: H.265 and Opus', { skip: needTools('libx265', 'libopus') }, () => {
  test('FlvMuxer and FlvDemuxer carry H.265 with B-frames and Opus from ffmpeg MPEG-TS back into MPEG-TS intact', () => {
    const args = [
      ...lavfiInputs(48000),
      ...[
        '-c:v',
        'libx265',
        '-x265-params',
        'log-level=error',
        '-g',
        '25',
        '-bf',
        '2',
        '-c:a',
        'libopus',
        '-f',
        'mpegts',
      ],
    ];
    const ts = makeFile(dir, 'h265-opus.ts', args);
    const tsEvents = demuxChunked(new TsDemuxer(), ts, 41);
    const flv = remux(tsEvents, (m) => new FlvMuxer(m));
    const flvEvents = demuxChunked(new FlvDemuxer(), flv, 42);
    const a = split(tsEvents);
    const b = split(flvEvents);
    assert.deepEqual(
      b.medias.map((m) => m.codecs[0].name),
      ['H265', 'OPUS'],
    );
    assert.deepEqual(b.medias[0].codecs[0].fmtp, a.medias[0].codecs[0].fmtp);
    assert.deepEqual(b.frames[0], a.frames[0]); // 40 ms frames: whole milliseconds, exact
    assert.equal(b.frames[1].length, a.frames[1].length);
    for (const [i, f] of b.frames[1].entries()) {
      assert.ok(Math.abs(f.dts - a.frames[1][i].dts) <= 48, `Opus frame ${i}`);
    }
    assert.deepEqual(
      b.frames[1].map((f) => f.data),
      a.frames[1].map((f) => f.data),
    );
    const out = save(
      'h265-opus-via-flv.ts',
      remux(flvEvents, (m) => new TsMuxer(m)),
    );
    assert.deepEqual(summary(out), summary(join(dir, 'h265-opus.ts')));
    assert.equal(decodeErrors(out), '');
  });
});
