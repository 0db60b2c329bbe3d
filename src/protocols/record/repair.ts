/**
 * Start-up repair of the `.part` files a crash (SIGKILL, power loss, a full disk) left behind.
 *
 * A recorder only ever appends whole fragments, so a `.part` is ftyp, moov, complete moof + mdat
 * pairs and at most one fragment cut short at the end. Repair keeps everything up to the last
 * complete pair: it truncates the tail, writes the duration of what is left into the mehd,
 * fsyncs and renames the file to its segment name. A part without a moov or without a single
 * complete fragment holds no playable media and is removed.
 */
import { constants } from 'node:fs';
import { access, type FileHandle, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorMessage, ParseError } from '../../core/errors.ts';
import { readBoxHeader } from '../../formats/mp4/box.ts';
import { nodeFs } from './fs.ts';
import { durationField, fragmentEnds, type MoovInfo, readMoov } from './mp4-file.ts';
import { segmentOfPart } from './naming.ts';

/** What happened to one part file. */
export interface RepairResult {
  part: string;
  action: 'repaired' | 'removed' | 'failed';
  /** The segment file it became (`repaired`). */
  segment?: string;
  /** Seconds of media kept (`repaired`). */
  duration?: number;
  /** Bytes kept, and bytes cut off the end. */
  bytes?: number;
  truncated?: number;
  /** Why it was removed or could not be repaired. */
  reason?: string;
}

/** Header bytes read to learn a box's size (with a 64-bit largesize). */
const HEADER_READ = 16;
/** Larger moov or moof boxes are not ours; the file is cut before them. */
const MAX_META_BOX = 16 * 1024 * 1024;

/** Repairs or removes every `.part` file in the stream folders under `root`. Never throws. */
export async function repairAll(root: string): Promise<RepairResult[]> {
  const results: RepairResult[] = [];
  let dirs: string[];
  try {
    dirs = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return results; // no recordings yet
  }
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(join(root, dir));
    } catch {
      continue;
    }
    for (const name of names) {
      if (segmentOfPart(name)) results.push(await repairPart(join(root, dir, name)));
    }
  }
  return results;
}

/** Repairs one `.part` file (see the file comment). Never throws: a failure is in the result. */
export async function repairPart(part: string): Promise<RepairResult> {
  const dir = dirname(part);
  const segment = segmentOfPart(basename(part));
  if (!segment) return { part, action: 'failed', reason: 'not a recording part file' };
  let fh: FileHandle | undefined;
  try {
    fh = await open(part, constants.O_RDWR);
    const scan = await scanFragments(fh);
    if (scan.reason !== undefined) {
      await fh.close();
      fh = undefined;
      await unlink(part);
      return { part, action: 'removed', reason: scan.reason };
    }
    const truncated = scan.size - scan.end;
    if (truncated > 0) await fh.truncate(scan.end);
    if (scan.durationAt !== undefined) {
      await fh.write(durationField(scan.duration, scan.movieTimescale), 0, 8, scan.durationAt);
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    const path = join(dir, segment);
    if (await exists(path)) {
      await unlink(part);
      return { part, action: 'removed', reason: `${segment} exists already` };
    }
    await rename(part, path);
    await nodeFs.syncDir(dir);
    return { part, action: 'repaired', segment: path, duration: scan.duration, bytes: scan.end, truncated };
  } catch (err) {
    await fh?.close().catch(() => undefined);
    return { part, action: 'failed', reason: errorMessage(err) };
  }
}

interface Scan {
  size: number;
  /** End of the last complete moof + mdat pair. */
  end: number;
  /** Seconds of lead-track media up to `end`. */
  duration: number;
  /** File offset of the mehd duration (8 bytes), when there is one. */
  durationAt: number | undefined;
  movieTimescale: number;
  /** Set when nothing is worth keeping. */
  reason?: string;
}

/** Walks the top-level boxes, reading only headers, the moov and each moof. */
async function scanFragments(fh: FileHandle): Promise<Scan> {
  const { size } = await fh.stat();
  const scan: Scan = { size, end: 0, duration: 0, durationAt: undefined, movieTimescale: 0 };
  let timescales: Map<number, number> | undefined;
  let leadEnd = 0;
  let pendingMoof: Map<number, number> | undefined;
  let offset = 0;
  for (;;) {
    const box = await boxAt(fh, offset, size);
    if (!box) break;
    if (box.type === 'moov') {
      if (timescales || box.size > MAX_META_BOX) break;
      const moov = await readAt(fh, offset, box.size);
      let info: MoovInfo;
      try {
        info = readMoov(moov, readBoxHeader(moov, 0));
      } catch (err) {
        if (err instanceof ParseError) break;
        throw err;
      }
      timescales = info.tracks;
      scan.movieTimescale = info.movieTimescale;
      if (info.durationAt !== undefined) scan.durationAt = offset + info.durationAt;
    } else if (box.type === 'moof') {
      if (!timescales || pendingMoof || box.size > MAX_META_BOX) break;
      const moof = await readAt(fh, offset, box.size);
      try {
        pendingMoof = fragmentEnds(moof, readBoxHeader(moof, 0));
      } catch (err) {
        if (err instanceof ParseError) break;
        throw err;
      }
    } else if (box.type === 'mdat') {
      if (!pendingMoof || !timescales) break;
      const [leadId] = timescales.keys();
      leadEnd = Math.max(leadEnd, pendingMoof.get(leadId) ?? 0);
      pendingMoof = undefined;
      scan.end = offset + box.size;
      const scale = timescales.get(leadId) ?? 0;
      scan.duration = scale > 0 ? leadEnd / scale : 0;
    } else if (box.type !== 'ftyp' || offset !== 0) {
      break; // not a recorder's layout from here on
    }
    offset += box.size;
  }
  if (!timescales) scan.reason = 'no moov (crashed before the first keyframe was written)';
  else if (scan.end === 0) scan.reason = 'no complete fragment';
  return scan;
}

/** The type and size of the box at `offset`, or undefined when it is not complete in the file. */
async function boxAt(
  fh: FileHandle,
  offset: number,
  fileSize: number,
): Promise<{ type: string; size: number } | undefined> {
  if (offset + 8 > fileSize) return undefined;
  const head = await readAt(fh, offset, Math.min(HEADER_READ, fileSize - offset));
  try {
    const box = readBoxHeader(head, 0, fileSize - offset);
    return { type: box.type, size: box.end - box.start };
  } catch (err) {
    if (err instanceof ParseError) return undefined;
    throw err;
  }
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
    if (bytesRead === 0) throw new ParseError('recording', `file ends inside a box at ${offset + done}`);
    done += bytesRead;
  }
  return buf;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
