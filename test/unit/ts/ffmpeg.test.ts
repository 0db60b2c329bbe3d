/**
 * Interop: TsDemuxer against MPEG-TS files ffmpeg wrote (H.264 + AAC, H.264 with B-frames, H.265
 * with B-frames + Opus), and TsMuxer output checked with ffprobe and ffmpeg's decoders. Skipped
 * when ffmpeg, ffprobe or an encoder is missing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseSpropParameterSets } from '../../../src/codecs/h264/fmtp.ts';
import { parseH264Sps } from '../../../src/codecs/h264/sps.ts';
import { parseH265Sprop } from '../../../src/codecs/h265/fmtp.ts';
import { parseH265Sps } from '../../../src/codecs/h265/sps.ts';
import type { Media } from '../../../src/core/media.ts';
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
} from './media-helpers.ts';

interface Case {
  name: string;
  file: string;
  encoders: string[];
  args: string[];
  video: 'H264' | 'H265';
  audio: 'AAC' | 'OPUS';
  audioRate: number;
  bframes: boolean;
}

const CASES: Case[] = [
  {
    name: 'H.264 and AAC',
    file: 'h264-aac.ts',
    encoders: ['libx264', 'aac'],
    args: [...lavfiInputs(44100), '-c:v', 'libx264', '-g', '25', '-bf', '0', '-c:a', 'aac', '-f', 'mpegts'],
    video: 'H264',
    audio: 'AAC',
    audioRate: 44100,
    bframes: false,
  },
  {
    name: 'H.264 with B-frames and AAC',
    file: 'h264-bf.ts',
    encoders: ['libx264', 'aac'],
    args: [...lavfiInputs(48000), '-c:v', 'libx264', '-g', '25', '-bf', '2', '-c:a', 'aac', '-f', 'mpegts'],
    video: 'H264',
    audio: 'AAC',
    audioRate: 48000,
    bframes: true,
  },
  {
    name: 'H.265 with B-frames and Opus',
    file: 'h265-opus.ts',
    encoders: ['libx265', 'libopus'],
    args: [
      ...lavfiInputs(48000),
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
    video: 'H265',
    audio: 'OPUS',
    audioRate: 48000,
    bframes: true,
  },
];

/** Picture size from the parameter sets in a video codec's fmtp. */
function pictureSize(media: Media): { width: number; height: number } {
  const codec = media.codecs[0];
  const fmtp = codec.fmtp ?? {};
  if (codec.name === 'H264') {
    const { sps } = parseSpropParameterSets(fmtp['sprop-parameter-sets'] ?? '');
    assert.ok(sps, 'sprop has an SPS');
    return parseH264Sps(sps);
  }
  const { sps } = parseH265Sprop(fmtp);
  assert.ok(sps, 'sprop-sps is set');
  return parseH265Sps(sps);
}

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mediagate-ts-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const c of CASES) {
  describe(`MPEG-TS from ffmpeg: ${c.name}`, { skip: needTools(...c.encoders) }, () => {
    let file: Buffer;
    let path: string;
    let events: Event[];
    before(() => {
      file = makeFile(dir, c.file, c.args);
      path = join(dir, c.file);
      events = demuxChunked(new TsDemuxer(), file, 11);
    });

    test('TsDemuxer.push() gives the same events whatever the chunking', () => {
      assert.deepEqual(demuxChunked(new TsDemuxer(), file, 12, 100), events);
      const whole = new TsDemuxer();
      assert.deepEqual([...whole.push(file), ...whole.flush()], events);
      assert.deepEqual(whole.stats, {
        packets: file.length / 188,
        garbageBytes: 0,
        droppedPackets: 0,
        continuityErrors: 0,
        psiErrors: 0,
        pesDropped: 0,
        framesDropped: 0,
      });
    });

    test('TsDemuxer.push() finds the codecs, picture size and audio parameters', () => {
      const { medias } = split(events);
      assert.deepEqual(
        medias.map((m) => [m.kind, m.codecs[0].name, m.codecs[0].clockRate]),
        [
          ['video', c.video, 90000],
          ['audio', c.audio, c.audioRate],
        ],
      );
      const size = pictureSize(medias[0]);
      assert.deepEqual([size.width, size.height], [320, 240]);
      assert.equal(medias[1].codecs[0].channels, 1);
      if (c.audio === 'AAC') assert.match(medias[1].codecs[0].fmtp?.['config'] ?? '', /^1[0-9a-f]{3}$/);
    });

    test('TsDemuxer.push() gives every packet ffprobe sees, with its times and key flags', () => {
      const { frames } = split(events);
      const video = probePackets(path, 'v:0');
      assert.equal(frames[0].length, video.length);
      assert.deepEqual(
        frames[0].map((f) => [f.pts, f.dts, f.keyframe]),
        video.map((p) => [p.pts, p.dts, p.key]),
      );
      assert.equal(frames[0].filter((f) => f.keyframe).length, 2);
      assertMonotonic(frames[0], 'video');
      assert.equal(frames[0].at(-1)!.dts - frames[0][0].dts, (frames[0].length - 1) * 3600);
      assert.equal(
        frames[0].some((f) => f.pts !== f.dts),
        c.bframes,
      );
      const audio = probePackets(path, 'a:0');
      assert.equal(frames[1].length, audio.length);
      frames[1].forEach((f, i) => {
        const ticks = (f.dts * 90000) / c.audioRate;
        assert.ok(Math.abs(ticks - audio[i].dts) <= 2, `audio frame ${i}: ${ticks} vs ${audio[i].dts}`);
      });
      assertMonotonic(frames[1], 'audio');
    });

    test('TsMuxer.frame() output is read by ffprobe with the same codecs and frame counts and decodes cleanly', () => {
      const out = join(dir, `remux-${c.file}`);
      writeFileSync(
        out,
        remux(events, (m) => new TsMuxer(m)),
      );
      const want = probeStreams(path);
      const got = probeStreams(out);
      assert.deepEqual(
        got.map((s) => [s.codec_name, s.nb_read_frames, s.width, s.height, s.sample_rate, s.channels]),
        want.map((s) => [s.codec_name, s.nb_read_frames, s.width, s.height, s.sample_rate, s.channels]),
      );
      assert.equal(decodeErrors(out), '');
      // And our own demuxer reads our output back to the same frames.
      assert.deepEqual(split(demuxChunked(new TsDemuxer(), remuxed(events), 3)).frames, split(events).frames);
    });
  });
}

function remuxed(events: Event[]): Buffer {
  return remux(events, (m) => new TsMuxer(m));
}
