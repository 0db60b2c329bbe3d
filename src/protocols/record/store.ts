/**
 * The finished segments on disk: scanning the recording folder for the API and for retention.
 * Only names the recorder writes are looked at (`<stream dir>/<start>.mp4`); anything else in the
 * folder is left alone.
 */
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readRecordingDuration } from './mp4-file.ts';
import { parseSegmentName, streamDir, streamOfDirName } from './naming.ts';

/** One finished segment file. */
export interface SegmentEntry {
  stream: string;
  name: string;
  path: string;
  /** Start time from the name, ms since the epoch (UTC). */
  startMs: number;
  bytes: number;
  /** Last modification, ms since the epoch. */
  mtimeMs: number;
}

/** A segment as the API lists it. */
export interface SegmentInfo extends SegmentEntry {
  /** Seconds, from the file's mehd; undefined when the file does not say. */
  duration: number | undefined;
}

/** Bytes read from the start of a file to find its duration: init segments are about 1 KiB. */
const HEAD_BYTES = 8192;
/** Durations remembered (by path, size and mtime), so a listing reads each file once. */
const DURATION_CACHE_SIZE = 20_000;

/** The finished segments of one stream, oldest first. An unknown stream has none. */
export async function streamSegments(root: string, stream: string): Promise<SegmentEntry[]> {
  const dir = streamDir(root, stream);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: SegmentEntry[] = [];
  for (const name of names) {
    const startMs = parseSegmentName(name);
    if (startMs === undefined) continue;
    const path = join(dir, name);
    try {
      const s = await stat(path);
      if (s.isFile()) out.push({ stream, name, path, startMs, bytes: s.size, mtimeMs: s.mtimeMs });
    } catch {
      // removed in the meantime (retention, a DELETE)
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** The streams that have a folder under `root`, by name. */
export async function recordedStreams(root: string): Promise<string[]> {
  try {
    const dirs = await readdir(root, { withFileTypes: true });
    return dirs
      .filter((d) => d.isDirectory())
      .map((d) => streamOfDirName(d.name))
      .filter((n): n is string => n !== undefined)
      .sort();
  } catch {
    return [];
  }
}

/** Every finished segment under `root`, oldest first. */
export async function allSegments(root: string): Promise<SegmentEntry[]> {
  const out: SegmentEntry[] = [];
  for (const stream of await recordedStreams(root)) out.push(...(await streamSegments(root, stream)));
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** Reads segment durations from the files' heads, with a cache. */
export class DurationReader {
  readonly #cache = new Map<string, { key: string; duration: number | undefined }>();

  /** The segments with their durations. */
  async describe(entries: readonly SegmentEntry[]): Promise<SegmentInfo[]> {
    const out: SegmentInfo[] = [];
    for (const e of entries) out.push({ ...e, duration: await this.#duration(e) });
    return out;
  }

  async #duration(e: SegmentEntry): Promise<number | undefined> {
    const key = `${e.bytes}:${e.mtimeMs}`;
    const hit = this.#cache.get(e.path);
    if (hit && hit.key === key) return hit.duration;
    let fh: FileHandle | undefined;
    try {
      fh = await open(e.path, 'r');
      const head = Buffer.alloc(Math.min(HEAD_BYTES, e.bytes));
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      const duration = readRecordingDuration(head.subarray(0, bytesRead));
      this.#set(e.path, key, duration);
      return duration;
    } catch {
      return undefined;
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  #set(path: string, key: string, duration: number | undefined): void {
    this.#cache.delete(path);
    if (this.#cache.size >= DURATION_CACHE_SIZE)
      this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(path, { key, duration });
  }
}
