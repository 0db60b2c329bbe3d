/**
 * What a recording adds to the muxer's fMP4 and reads back from it. Pure: buffers in, values out.
 *
 * - The init segment gets a Movie Extends Header (`mehd`, ISO/IEC 14496-12 8.8.2: "the overall
 *   duration, including fragments, of a fragmented movie") as the first child of `mvex`. Its
 *   64-bit duration is 0 while the segment is written and set when it is finished, so a listing
 *   reads a segment's duration from its first few KiB instead of walking every fragment.
 * - A leftover `.part` file is a sequence of top-level boxes: ftyp, moov, then moof + mdat pairs,
 *   the last one possibly cut short by a crash. `fragmentEnds()` reads one moof's decode end times
 *   so the duration of what survived can be written into its `mehd`.
 */
import { ParseError } from '../../core/errors.ts';
import {
  type Box,
  children,
  findChild,
  findPath,
  readBoxes,
  readBoxHeader,
  readFullBoxHeader,
} from '../../formats/mp4/box.ts';
import { fullBox, u64 } from '../../formats/mp4/box-writer.ts';

const WHAT = 'recording';
const BOX_HEADER = 8;
/** mehd version 1: 64-bit fragment_duration. */
const MEHD_VERSION_64 = 1;
/** Offset of the duration in a version-1 mehd: header (8) + version/flags (4). */
const MEHD_DURATION_AT = 12;
const U32 = 4;
const U64 = 8;
// tfhd optional fields (8.8.7.1)
const TFHD_BASE_DATA_OFFSET = 0x000001;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x000002;
const TFHD_DEFAULT_DURATION = 0x000008;
// trun optional fields (8.8.8.1)
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_FIRST_SAMPLE_FLAGS = 0x000004;
const TRUN_SAMPLE_DURATION = 0x000100;
const TRUN_SAMPLE_SIZE = 0x000200;
const TRUN_SAMPLE_FLAGS = 0x000400;
const TRUN_SAMPLE_CTS = 0x000800;

/** An init segment ready for a recording file. */
export interface RecordingInit {
  data: Buffer;
  /** Where in `data` (and so in the file) the 8-byte mehd duration lives. */
  durationOffset: number;
  /** Units per second of that duration (the mvhd timescale). */
  timescale: number;
}

const initCache = new WeakMap<Buffer, RecordingInit>();

/**
 * The muxer's init segment (ftyp + moov with mvex) with an empty `mehd` added. Cached per input
 * buffer: the muxer shares one buffer per configuration. Throws ParseError for an init segment
 * without mvex or with 64-bit box sizes (the muxer writes neither).
 */
export function recordingInit(init: Buffer): RecordingInit {
  const cached = initCache.get(init);
  if (cached) return cached;
  const moov = readBoxes(init, 0, init.length).find((b) => b.type === 'moov');
  if (!moov) throw new ParseError(WHAT, 'init segment has no moov');
  const mvex = findChild(init, moov, 'mvex');
  if (!mvex) throw new ParseError(WHAT, 'init segment has no mvex', moov.start);
  if (moov.payload - moov.start !== BOX_HEADER || mvex.payload - mvex.start !== BOX_HEADER) {
    throw new ParseError(WHAT, 'init segment uses 64-bit box sizes', moov.start);
  }
  const mehd = fullBox('mehd', MEHD_VERSION_64, 0, u64(0));
  const data = Buffer.concat([init.subarray(0, mvex.payload), mehd, init.subarray(mvex.payload)]);
  data.writeUInt32BE(moov.end - moov.start + mehd.length, moov.start);
  data.writeUInt32BE(mvex.end - mvex.start + mehd.length, mvex.start);
  const result = {
    data,
    durationOffset: mvex.payload + MEHD_DURATION_AT,
    timescale: movieTimescale(init, moov),
  };
  initCache.set(init, result);
  return result;
}

/** The 8 bytes to write at `durationOffset` for a duration in seconds. */
export function durationField(seconds: number, timescale: number): Buffer {
  return u64(Math.max(0, Math.round(seconds * timescale)));
}

function movieTimescale(buf: Buffer, moov: Box): number {
  const mvhd = findChild(buf, moov, 'mvhd');
  if (!mvhd) throw new ParseError(WHAT, 'moov has no mvhd', moov.start);
  const h = readFullBoxHeader(buf, mvhd);
  // version 1: 64-bit creation and modification times.
  const at = h.body + (h.version === 1 ? 2 * U64 : 2 * U32);
  ParseError.need(WHAT, buf, at, U32, 'mvhd timescale');
  return buf.readUInt32BE(at);
}

/** What a recording's moov says. */
export interface MoovInfo {
  /** track_ID -> media timescale, in file order: the first is the lead track. */
  tracks: Map<number, number>;
  /** Units per second of the movie header and the mehd. */
  movieTimescale: number;
  /** Offset in `buf` of a 64-bit mehd duration (version 1, as recorders write); undefined without. */
  durationAt: number | undefined;
  /** The mehd duration in seconds; undefined without a mehd or while it says 0. */
  duration: number | undefined;
}

/** Reads a moov box (in `buf`). Throws ParseError when it is malformed. */
export function readMoov(buf: Buffer, moov: Box): MoovInfo {
  const scale = movieTimescale(buf, moov);
  const info: MoovInfo = {
    tracks: trackTimescales(buf, moov),
    movieTimescale: scale,
    durationAt: undefined,
    duration: undefined,
  };
  const mehd = findPath(buf, moov, ['mvex', 'mehd']);
  if (!mehd) return info;
  const h = readFullBoxHeader(buf, mehd);
  ParseError.need(WHAT, buf, h.body, h.version === 1 ? U64 : U32, 'mehd duration');
  const units = h.version === 1 ? Number(buf.readBigUInt64BE(h.body)) : buf.readUInt32BE(h.body);
  if (h.version === 1) info.durationAt = h.body;
  if (units > 0 && scale > 0) info.duration = units / scale;
  return info;
}

/**
 * The duration (seconds) in the mehd of a recording, from the first bytes of the file (at least
 * up to the end of moov). Undefined for a file this cannot tell (no moov in `head`, no mehd, a
 * foreign layout, a segment still being written); never throws.
 */
export function readRecordingDuration(head: Buffer): number | undefined {
  try {
    let offset = 0;
    while (offset + BOX_HEADER <= head.length) {
      const b = readBoxHeader(head, offset, Number.MAX_SAFE_INTEGER);
      if (b.type === 'moov') return b.end <= head.length ? readMoov(head, b).duration : undefined;
      offset = b.end;
    }
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
  return undefined;
}

/** The tracks of a moov: track_ID -> timescale, in file order (the first is the lead track). */
function trackTimescales(buf: Buffer, moov: Box): Map<number, number> {
  const out = new Map<number, number>();
  for (const trak of children(buf, moov).filter((b) => b.type === 'trak')) {
    const tkhd = findChild(buf, trak, 'tkhd');
    const mdhd = findPath(buf, trak, ['mdia', 'mdhd']);
    if (!tkhd || !mdhd) continue;
    const th = readFullBoxHeader(buf, tkhd);
    const idAt = th.body + (th.version === 1 ? 2 * U64 : 2 * U32);
    ParseError.need(WHAT, buf, idAt, U32, 'tkhd track_ID');
    const mh = readFullBoxHeader(buf, mdhd);
    const scaleAt = mh.body + (mh.version === 1 ? 2 * U64 : 2 * U32);
    ParseError.need(WHAT, buf, scaleAt, U32, 'mdhd timescale');
    out.set(buf.readUInt32BE(idAt), buf.readUInt32BE(scaleAt));
  }
  return out;
}

/**
 * The decode end (tfdt + the sum of the sample durations) of each track in one moof, in that
 * track's timescale units: track_ID -> end. Throws ParseError for a malformed moof.
 */
export function fragmentEnds(buf: Buffer, moof: Box): Map<number, number> {
  const out = new Map<number, number>();
  for (const traf of children(buf, moof).filter((b) => b.type === 'traf')) {
    const tfhdBox = findChild(buf, traf, 'tfhd');
    const tfdtBox = findChild(buf, traf, 'tfdt');
    if (!tfhdBox || !tfdtBox) continue;
    const tfhd = readFullBoxHeader(buf, tfhdBox);
    ParseError.need(WHAT, buf, tfhd.body, U32, 'tfhd track_ID');
    const id = buf.readUInt32BE(tfhd.body);
    let at = tfhd.body + U32;
    if (tfhd.flags & TFHD_BASE_DATA_OFFSET) at += U64;
    if (tfhd.flags & TFHD_SAMPLE_DESCRIPTION_INDEX) at += U32;
    let defaultDuration = 0;
    if (tfhd.flags & TFHD_DEFAULT_DURATION) {
      ParseError.need(WHAT, buf, at, U32, 'tfhd default_sample_duration');
      defaultDuration = buf.readUInt32BE(at);
    }
    const tfdt = readFullBoxHeader(buf, tfdtBox);
    ParseError.need(WHAT, buf, tfdt.body, tfdt.version === 1 ? U64 : U32, 'tfdt');
    let end = tfdt.version === 1 ? Number(buf.readBigUInt64BE(tfdt.body)) : buf.readUInt32BE(tfdt.body);
    for (const trunBox of children(buf, traf).filter((b) => b.type === 'trun')) {
      end += trunDuration(buf, trunBox, defaultDuration);
    }
    out.set(id, Math.max(out.get(id) ?? 0, end));
  }
  return out;
}

function trunDuration(buf: Buffer, trunBox: Box, defaultDuration: number): number {
  const trun = readFullBoxHeader(buf, trunBox);
  ParseError.need(WHAT, buf, trun.body, U32, 'trun sample_count');
  const count = buf.readUInt32BE(trun.body);
  let at = trun.body + U32;
  if (trun.flags & TRUN_DATA_OFFSET) at += U32;
  if (trun.flags & TRUN_FIRST_SAMPLE_FLAGS) at += U32;
  if (!(trun.flags & TRUN_SAMPLE_DURATION)) return count * defaultDuration;
  let perSample = U32;
  for (const flag of [TRUN_SAMPLE_SIZE, TRUN_SAMPLE_FLAGS, TRUN_SAMPLE_CTS])
    if (trun.flags & flag) perSample += U32;
  ParseError.need(WHAT, buf, at, count * perSample, 'trun samples');
  let total = 0;
  for (let i = 0; i < count; i++) total += buf.readUInt32BE(at + i * perSample);
  return total;
}
