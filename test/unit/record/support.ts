/**
 * Shared pieces of the recording tests: the demo clip's real H.264 + Opus frames on a timeline the
 * test controls, recorders on bare tracks, temporary folders, fake file systems and a reader of
 * the segment files the recorder writes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from '../../../src/core/media.ts';
import { StreamTrack } from '../../../src/core/track.ts';
import { children, readBoxes, readFullBoxHeader } from '../../../src/formats/mp4/box.ts';
import { readMp4, trackFrames } from '../../../src/formats/mp4/index.ts';
import type { RecordFile, RecordFs } from '../../../src/protocols/record/fs.ts';
import { nodeFs } from '../../../src/protocols/record/fs.ts';
import { fragmentEnds, readMoov } from '../../../src/protocols/record/mp4-file.ts';
import { Recorder, type RecorderOptions } from '../../../src/protocols/record/recorder.ts';

const DEMO_BUF = readFileSync(new URL('../../../assets/demo.mp4', import.meta.url));
const DEMO = readMp4(DEMO_BUF);
export const [DEMO_VIDEO, DEMO_AUDIO] = DEMO.tracks;
const VIDEO_FRAMES = [...trackFrames(DEMO_BUF, DEMO_VIDEO)];
const AUDIO_FRAMES = [...trackFrames(DEMO_BUF, DEMO_AUDIO)];
/** The clip is 10 s long, 25 fps, a keyframe every second, Opus in 20 ms packets. */
export const DEMO_SECONDS = 10;

export interface Timed {
  kind: 'video' | 'audio';
  /** Seconds on the test's timeline. */
  time: number;
  frame: Frame;
}

/**
 * The demo's frames from `from` to `to` seconds of a looped timeline, in time order, with
 * timestamps shifted by `shift` seconds (a discontinuity when it changes between calls).
 */
export function demoFrames(from: number, to: number, shift = 0): Timed[] {
  const out: Timed[] = [];
  for (let loop = Math.floor(from / DEMO_SECONDS); loop * DEMO_SECONDS < to; loop++) {
    const base = loop * DEMO_SECONDS;
    for (const [kind, frames, clock] of [
      ['video', VIDEO_FRAMES, 90000],
      ['audio', AUDIO_FRAMES, 48000],
    ] as const) {
      for (const f of frames) {
        const time = base + f.dts / clock;
        if (time < from || time >= to) continue;
        const offset = Math.round((base + shift) * clock);
        out.push({ kind, time, frame: { ...f, pts: f.pts + offset, dts: f.dts + offset } });
      }
    }
  }
  return out.sort((a, b) => a.time - b.time || (a.kind === 'video' ? -1 : 1));
}

export function demoTracks(): { video: StreamTrack; audio: StreamTrack } {
  return {
    video: new StreamTrack(0, { ...DEMO_VIDEO.codec }),
    audio: new StreamTrack(1, { ...DEMO_AUDIO.codec }),
  };
}

/** Writes the frames into the tracks (every reader gets them). */
export function feed(tracks: { video: StreamTrack; audio: StreamTrack }, frames: Timed[]): void {
  for (const t of frames) tracks[t.kind].write(t.frame);
}

/** A recorder attached to bare tracks and playing. */
export function recorderOn(
  tracks: StreamTrack[],
  opts: Partial<RecorderOptions> & { dir: string },
): Recorder {
  const r = new Recorder({ stream: 'cam', segmentSeconds: 2, fs: nodeFs, ...opts });
  for (const t of tracks) r.attachTrack(t);
  r.play();
  return r;
}

/** Polls `ready` every 10 ms; throws after `timeoutMs`. */
export async function until(ready: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${ready}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mediagate-record-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The files of a folder, sorted (hidden ones included). */
export function files(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export interface SegmentFile {
  top: string[];
  /** mehd duration, seconds. */
  duration: number | undefined;
  /** Track ids in moov order. */
  tracks: number[];
  fragments: {
    sequence: number;
    baseDts: Map<number, number>;
    ends: Map<number, number>;
    firstSync: boolean;
  }[];
  /** End of the lead track in seconds, from the fragments. */
  leadEnd: number;
  /** The SPS inside the avcC, hex (to tell init segments apart). */
  avcC: string;
}

const SYNC_FLAGS = 0x02000000;

/** Reads a recorded segment completely: every box must be whole. */
export function readSegment(path: string): SegmentFile {
  const buf = readFileSync(path);
  const top = readBoxes(buf, 0, buf.length);
  const moov = top.find((b) => b.type === 'moov');
  if (!moov) throw new Error(`${path}: no moov`);
  const info = readMoov(buf, moov);
  const ids = [...info.tracks.keys()];
  const fragments: SegmentFile['fragments'] = [];
  let leadEnd = 0;
  for (const moof of top.filter((b) => b.type === 'moof')) {
    const baseDts = new Map<number, number>();
    let firstSync = false;
    let sequence = 0;
    for (const child of children(buf, moof)) {
      if (child.type === 'mfhd') sequence = buf.readUInt32BE(readFullBoxHeader(buf, child).body);
      if (child.type !== 'traf') continue;
      const parts = children(buf, child);
      const tfhd = parts.find((b) => b.type === 'tfhd')!;
      const tfdt = parts.find((b) => b.type === 'tfdt')!;
      const trun = parts.find((b) => b.type === 'trun')!;
      const id = buf.readUInt32BE(readFullBoxHeader(buf, tfhd).body);
      baseDts.set(id, Number(buf.readBigUInt64BE(readFullBoxHeader(buf, tfdt).body)));
      const th = readFullBoxHeader(buf, trun);
      const count = buf.readUInt32BE(th.body);
      // data_offset, then duration, size, flags[, cto]: the first sample's flags.
      if (id === ids[0] && count > 0) firstSync = buf.readUInt32BE(th.body + 8 + 8) === SYNC_FLAGS;
    }
    const ends = fragmentEnds(buf, moof);
    leadEnd = Math.max(leadEnd, (ends.get(ids[0]) ?? 0) / (info.tracks.get(ids[0]) ?? 1));
    fragments.push({ sequence, baseDts, ends, firstSync });
  }
  const at = buf.indexOf('avcC');
  return {
    top: top.map((b) => b.type),
    duration: info.duration,
    tracks: ids,
    fragments,
    leadEnd,
    avcC: at > 0 ? buf.subarray(at + 4, at + 4 + 40).toString('hex') : '',
  };
}

/** A file system in front of the real one whose appends wait for `release()` or fail on demand. */
export class GatedFs implements RecordFs {
  appends = 0;
  failWith: Error | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  mkdir = nodeFs.mkdir;
  rename = nodeFs.rename;
  unlink = nodeFs.unlink;
  syncDir = nodeFs.syncDir;

  async create(path: string): Promise<RecordFile> {
    const file = await nodeFs.create(path);
    return {
      append: async (buffers) => {
        this.appends++;
        if (this.#gate) await this.#gate;
        if (this.failWith) {
          // Half of it made it to the disk, as when the disk fills up.
          const all = Buffer.concat(buffers);
          await file.append([all.subarray(0, all.length >> 1)]);
          throw this.failWith;
        }
        await file.append(buffers);
      },
      writeAt: (data, position) => file.writeAt(data, position),
      sync: () => file.sync(),
      close: () => file.close(),
    };
  }
}
