/**
 * Interop: the reader against files ffmpeg wrote, and the fragmented muxer against ffprobe and
 * ffmpeg's decoder. Skipped when ffprobe / ffmpeg are not installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fragment } from '../../../src/formats/mp4/fragment.ts';
import { sampleFrame } from '../../../src/formats/mp4/frame.ts';
import { initSegment } from '../../../src/formats/mp4/init-segment.ts';
import { readMp4 } from '../../../src/formats/mp4/reader.ts';
import type { Mp4File, Mp4TrackFragment } from '../../../src/formats/mp4/types.ts';

const DEMO_PATH = new URL('../../../assets/demo.mp4', import.meta.url);
const TOOL_TIMEOUT_MS = 30_000;

function has(tool: string): boolean {
  return !spawnSync(tool, ['-version'], { stdio: 'ignore' }).error;
}
const HAVE_FFPROBE = has('ffprobe');
const HAVE_FFMPEG = has('ffmpeg');
const ENCODERS = HAVE_FFMPEG
  ? spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' }).stdout
  : '';

function run(tool: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(tool, args, { encoding: 'utf8', timeout: TOOL_TIMEOUT_MS, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${tool} ${args.join(' ')} failed: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

interface ProbedPacket {
  pts: number;
  dts: number;
  size: number;
  key: boolean;
}

function probeStreams(path: string): Record<string, string | number>[] {
  return JSON.parse(run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', path]).stdout).streams;
}

function probePackets(path: string, stream: string): ProbedPacket[] {
  const args = [
    '-v',
    'error',
    '-select_streams',
    stream,
    '-show_entries',
    'packet=pts,dts,size,flags',
    '-of',
    'json',
  ];
  const { packets } = JSON.parse(run('ffprobe', [...args, path]).stdout);
  return packets.map((p: Record<string, string>) => ({
    pts: Number(p['pts']),
    dts: Number(p['dts']),
    size: Number(p['size']),
    key: p['flags'].startsWith('K'),
  }));
}

/**
 * `[dts, pts]` relative to the first dts, with the composition offsets raised so that none is
 * negative: ffmpeg's mov demuxer reports negative offsets (ctts or trun version 1) that way, moving
 * dts down in a plain file and pts up in a fragmented one.
 */
function ffmpegTimes(list: readonly { pts: number; dts: number }[]): [number, number][] {
  const shift = Math.max(0, ...list.map((p) => p.dts - p.pts));
  const first = list[0]?.dts ?? 0;
  return list.map((p) => [p.dts - first, p.pts + shift - first]);
}

/** ffmpeg's decoder output at -v error: empty when every packet decoded cleanly. */
function decodeErrors(path: string): string {
  return run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']).stderr.trim();
}

/** All samples of `file` as init segment + one fragment per video GOP; audio goes with the GOP it overlaps. */
function toFmp4(buf: Buffer, file: Mp4File): Buffer {
  const video = file.tracks.find((t) => t.kind === 'video')!;
  const audio = file.tracks.filter((t) => t.kind === 'audio');
  const starts = video.samples.flatMap((s, i) => (s.keyframe ? [i] : []));
  const parts = [initSegment(file.tracks)];
  const taken = audio.map(() => 0);
  starts.forEach((start, g) => {
    const end = starts[g + 1] ?? video.samples.length;
    const last = g === starts.length - 1;
    const endSeconds = last ? Number.POSITIVE_INFINITY : video.samples[end].dts / video.timescale;
    const tracks: Mp4TrackFragment[] = [
      {
        id: video.id,
        samples: video.samples
          .slice(start, end)
          .map((s) => ({ ...s, data: sampleFrame(buf, video, s).data })),
      },
    ];
    audio.forEach((t, a) => {
      let stop = taken[a];
      while (stop < t.samples.length && t.samples[stop].dts / t.timescale < endSeconds) stop++;
      tracks.push({
        id: t.id,
        samples: t.samples.slice(taken[a], stop).map((s) => ({ ...s, data: sampleFrame(buf, t, s).data })),
      });
      taken[a] = stop;
    });
    parts.push(fragment(g + 1, tracks));
  });
  return Buffer.concat(parts);
}

describe('mp4 interop with ffmpeg', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mediagate-mp4-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('initSegment() and fragment() of the demo give H.264 640x360 and Opus that ffmpeg decodes cleanly', (t) => {
    if (!HAVE_FFPROBE) return t.skip('ffprobe is not installed');
    const buf = readFileSync(DEMO_PATH);
    const file = readMp4(buf);
    const out = join(dir, 'demo-fmp4.mp4');
    writeFileSync(out, toFmp4(buf, file));
    const streams = probeStreams(out);
    assert.deepEqual(
      streams.map((s) => [s['codec_name'], s['width'], s['height']]),
      [
        ['h264', 640, 360],
        ['opus', undefined, undefined],
      ],
    );
    assert.deepEqual([streams[1]['sample_rate'], streams[1]['channels']], ['48000', 1]);
    const packets = probePackets(out, 'v:0');
    assert.deepEqual(
      packets.map((p) => [p.dts, p.size, p.key]),
      file.tracks[0].samples.map((s) => [s.dts, s.size, s.keyframe]),
    );
    assert.equal(probePackets(out, 'a:0').length, file.tracks[1].samples.length);
    if (!HAVE_FFMPEG) return t.skip('ffmpeg is not installed');
    assert.equal(decodeErrors(out), '');
  });

  const sources = [
    {
      name: 'H.265 with B-frames and AAC (ctts version 0)',
      args: [
        '-c:v',
        'libx265',
        '-x265-params',
        'log-level=error:bframes=3:keyint=25',
        '-tag:v',
        'hvc1',
        '-c:a',
        'aac',
        '-ac',
        '2',
      ],
      encoder: 'libx265',
      codecs: ['H265', 'AAC'],
      probed: ['hevc', 'aac'],
    },
    {
      name: 'H.264 with B-frames and negative composition offsets (ctts version 1)',
      args: ['-c:v', 'libx264', '-bf', '2', '-g', '25', '-movflags', '+negative_cts_offsets', '-an'],
      encoder: 'libx264',
      codecs: ['H264'],
      probed: ['h264'],
    },
  ];
  for (const src of sources) {
    test(`readMp4() and the muxer agree with ffprobe on ${src.name}`, (t) => {
      if (!HAVE_FFPROBE || !HAVE_FFMPEG) return t.skip('ffprobe or ffmpeg is not installed');
      if (!ENCODERS.includes(src.encoder)) return t.skip(`ffmpeg has no ${src.encoder}`);
      const input = join(dir, 'source.mp4');
      run('ffmpeg', [
        ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2'],
        ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=2'],
        ...src.args,
        input,
      ]);
      const buf = readFileSync(input);
      const file = readMp4(buf);
      assert.deepEqual(
        file.tracks.map((tr) => tr.codec.name),
        src.codecs,
      );
      const video = file.tracks[0];
      const source = probePackets(input, 'v:0');
      // ffprobe shifts times by the edit list; sizes, pts - dts and key flags must match exactly.
      const shape = (list: { pts: number; dts: number; size: number }[], key: (i: number) => boolean) => {
        const times = ffmpegTimes(list);
        return list.map((p, i) => [p.size, times[i][1] - times[i][0], key(i)]);
      };
      assert.deepEqual(
        shape(video.samples, (i) => video.samples[i].keyframe),
        shape(source, (i) => source[i].key),
      );
      assert.ok(
        video.samples.some((s) => s.pts !== s.dts),
        'the source has B-frames',
      );

      const out = join(dir, 'out.mp4');
      writeFileSync(out, toFmp4(buf, file));
      assert.deepEqual(
        probeStreams(out).map((s) => [s['codec_name'], s['width'], s['height']]),
        src.probed.map((name) => (name === 'aac' ? [name, undefined, undefined] : [name, 320, 240])),
      );
      const muxed = probePackets(out, 'v:0');
      assert.deepEqual(ffmpegTimes(muxed), ffmpegTimes(video.samples));
      assert.deepEqual(
        muxed.map((p) => p.size),
        video.samples.map((s) => s.size),
      );
      assert.equal(decodeErrors(out), '');
    });
  }
});
