/**
 * Helpers shared by the MPEG-TS and FLV tests: making real files with ffmpeg, probing them with
 * ffprobe, feeding demuxers in random chunks, and synthetic H.264 / AAC frames for streams that
 * need no ffmpeg.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Media } from '../../../src/core/media.ts';
import { H264_SAMPLES, xorshift } from '../codecs/fixtures.ts';

const TOOL_TIMEOUT_MS = 30_000;

function has(tool: string): boolean {
  return !spawnSync(tool, ['-version'], { stdio: 'ignore' }).error;
}
export const HAVE_FFMPEG = has('ffmpeg');
export const HAVE_FFPROBE = has('ffprobe');
const ENCODERS = HAVE_FFMPEG
  ? spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' }).stdout
  : '';

/** A `skip` option for node:test: false when the tools and encoders are there, else the reason. */
export function needTools(...encoders: string[]): false | string {
  if (!HAVE_FFMPEG || !HAVE_FFPROBE) return 'ffmpeg / ffprobe not installed';
  const missing = encoders.filter((e) => !new RegExp(`\\s${e}\\s`).test(ENCODERS));
  return missing.length > 0 ? `ffmpeg lacks encoders ${missing.join(', ')}` : false;
}

export function run(tool: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(tool, args, { encoding: 'utf8', timeout: TOOL_TIMEOUT_MS, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${tool} ${args.join(' ')} failed: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The lavfi test sources: 320x240 at 25 fps and a 440 Hz sine at `rate` Hz, `seconds` long. */
export function lavfiInputs(rate: number, seconds = 2): string[] {
  return [
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=320x240:rate=25',
    '-f',
    'lavfi',
    '-i',
    `sine=f=440:sample_rate=${rate}`,
    '-t',
    String(seconds),
    '-pix_fmt',
    'yuv420p',
  ];
}

/** Runs ffmpeg with `args` writing `dir/name` and returns the file. */
export function makeFile(dir: string, name: string, args: string[]): Buffer {
  const path = join(dir, name);
  run('ffmpeg', ['-v', 'error', '-y', ...args, path]);
  return readFileSync(path);
}

export interface ProbedStream {
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  nb_read_frames?: string;
  nb_read_packets?: string;
}

/** ffprobe's streams with decoded frame counts (`-count_frames`) and packet counts. */
export function probeStreams(path: string): ProbedStream[] {
  const args = ['-v', 'error', '-show_streams', '-count_frames', '-count_packets', '-of', 'json', path];
  return JSON.parse(run('ffprobe', args).stdout).streams;
}

/** ffprobe's packets of one stream: pts, dts (in the stream's time base) and the key flag. */
export function probePackets(path: string, stream: string): { pts: number; dts: number; key: boolean }[] {
  const args = [
    '-v',
    'error',
    '-select_streams',
    stream,
    '-show_entries',
    'packet=pts,dts,flags',
    '-of',
    'json',
  ];
  const { packets } = JSON.parse(run('ffprobe', [...args, path]).stdout);
  return packets.map((p: Record<string, string>) => ({
    pts: Number(p['pts']),
    dts: Number(p['dts']),
    key: p['flags'].startsWith('K'),
  }));
}

/** ffmpeg's decoder output at -v error: empty when every packet decoded cleanly. */
export function decodeErrors(path: string): string {
  return run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']).stderr.trim();
}

/** The events shape both demuxers share. */
export type Event = { type: 'tracks'; medias: Media[] } | { type: 'frame'; track: number; frame: Frame };

export interface Demuxer {
  push(chunk: Buffer): Event[];
  flush(): Event[];
}

/** Feeds `buf` in chunks of 1..`maxChunk` bytes chosen by `seed`, then flushes. */
export function demuxChunked(demuxer: Demuxer, buf: Buffer, seed: number, maxChunk = 4096): Event[] {
  const rand = xorshift(seed);
  const events: Event[] = [];
  for (let o = 0; o < buf.length; ) {
    const n = 1 + Math.floor(rand() * maxChunk);
    // A copy, so a demuxer that kept views of a chunk would see it overwritten below.
    const chunk = Buffer.from(buf.subarray(o, o + n));
    events.push(...demuxer.push(chunk));
    chunk.fill(0xa5);
    o += n;
  }
  events.push(...demuxer.flush());
  return events;
}

/** The tracks event (asserted to be first and only once) and the frames per track. */
export function split(events: readonly Event[]): { medias: Media[]; frames: Frame[][] } {
  const tracks = events.filter((e) => e.type === 'tracks');
  assert.equal(tracks.length, 1, 'one tracks event');
  assert.equal(events[0].type, 'tracks', 'the tracks event comes first');
  const medias = (tracks[0] as { medias: Media[] }).medias;
  const frames: Frame[][] = medias.map(() => []);
  for (const e of events) if (e.type === 'frame') frames[e.track].push(e.frame);
  return { medias, frames };
}

/** Muxes demuxed events with a muxer of the TsMuxer / FlvMuxer shape. */
export function remux(
  events: readonly Event[],
  make: (medias: Media[]) => { header(): Buffer; frame(track: number, frame: Frame): Buffer },
): Buffer {
  const parts: Buffer[] = [];
  let muxer: ReturnType<typeof make> | undefined;
  for (const e of events) {
    if (e.type === 'tracks') {
      muxer = make(e.medias);
      parts.push(muxer.header());
    } else if (muxer) {
      parts.push(muxer.frame(e.track, e.frame));
    }
  }
  return Buffer.concat(parts);
}

/** Asserts that the dts of `frames` strictly increase. */
export function assertMonotonic(frames: readonly Frame[], what: string): void {
  for (let i = 1; i < frames.length; i++) {
    assert.ok(
      frames[i].dts > frames[i - 1].dts,
      `${what}: dts ${frames[i].dts} after ${frames[i - 1].dts} at ${i}`,
    );
  }
}

/** The 640x360 high-profile SPS and PPS of the codec fixtures. */
export const SPS = H264_SAMPLES.find((s) => s.width === 640)?.sps ?? H264_SAMPLES[0].sps;
export const PPS = H264_SAMPLES.find((s) => s.width === 640)?.pps ?? H264_SAMPLES[0].pps;

/** AVCC of NAL units. */
export function avcc(...nals: Buffer[]): Buffer {
  return Buffer.concat(
    nals.flatMap((n) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(n.length);
      return [len, n];
    }),
  );
}

/**
 * `count` synthetic H.264 frames at 25 fps (90 kHz): an IDR with SPS and PPS every `gop` frames,
 * slices of `size` pseudo-random bytes otherwise. Not decodable, but well-formed for containers.
 */
export function syntheticVideo(count: number, gop = 10, size = 300, seed = 1): Frame[] {
  const rand = xorshift(seed);
  const frames: Frame[] = [];
  for (let i = 0; i < count; i++) {
    const key = i % gop === 0;
    const slice = Buffer.alloc(size + Math.floor(rand() * size));
    for (let k = 0; k < slice.length; k++) slice[k] = 1 + Math.floor(rand() * 255);
    slice[0] = key ? 0x65 : 0x41;
    const data = key ? avcc(SPS, PPS, slice) : avcc(slice);
    frames.push({ pts: i * 3600, dts: i * 3600, keyframe: key, data });
  }
  return frames;
}

/** `count` synthetic AAC frames (44.1 kHz, 1024 samples each) of pseudo-random bytes. */
export function syntheticAudio(count: number, seed = 2): Frame[] {
  const rand = xorshift(seed);
  return Array.from({ length: count }, (_, i) => {
    const data = Buffer.alloc(100 + Math.floor(rand() * 200));
    for (let k = 0; k < data.length; k++) data[k] = Math.floor(rand() * 256);
    return { pts: i * 1024, dts: i * 1024, keyframe: true, data };
  });
}

/** H.264 + AAC media descriptions matching the synthetic frames. */
export const SYNTHETIC_MEDIAS: Media[] = [
  {
    kind: 'video',
    direction: 'recvonly',
    codecs: [
      {
        name: 'H264',
        clockRate: 90000,
        fmtp: { 'sprop-parameter-sets': `${SPS.toString('base64')},${PPS.toString('base64')}` },
      },
    ],
  },
  {
    kind: 'audio',
    direction: 'recvonly',
    codecs: [{ name: 'AAC', clockRate: 44100, channels: 2, fmtp: { config: '1210' } }],
  },
];

/** Synthetic frames of both tracks interleaved by time: [track, frame] pairs. */
export function syntheticInterleaved(videoFrames: number, seed = 1): [number, Frame][] {
  const video = syntheticVideo(videoFrames, 10, 300, seed);
  const audio = syntheticAudio(Math.floor((videoFrames * 44100) / 25 / 1024), seed + 1);
  const all: [number, Frame, number][] = [
    ...video.map((f): [number, Frame, number] => [0, f, f.dts / 90000]),
    ...audio.map((f): [number, Frame, number] => [1, f, f.dts / 44100]),
  ];
  all.sort((a, b) => a[2] - b[2] || a[0] - b[0]);
  return all.map(([t, f]) => [t, f]);
}
