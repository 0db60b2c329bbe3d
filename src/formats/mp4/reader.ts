/**
 * Reads a non-fragmented MP4 held in memory (ISO/IEC 14496-12): ftyp, moov/mvhd and per trak
 * tkhd, mdhd, hdlr and the sample table. Unknown boxes are skipped, edit lists are ignored, and
 * tracks with an unsupported codec are listed in `skipped`. The only error thrown is ParseError.
 */
import { ParseError } from '../../core/errors.ts';
import { kindOf } from '../../core/media.ts';
import {
  type Box,
  children,
  findChild,
  findPath,
  need,
  readBoxes,
  readFullBoxHeader,
  requireChild,
} from './box.ts';
import { readSampleEntry } from './sample-entry.ts';
import { readSampleTable } from './sample-table.ts';
import type { Mp4File, Mp4Track } from './types.ts';

const WHAT = 'mp4';
const U32 = 4;
const U64 = 8;
const FOURCC = 4;
/** ftyp: major_brand(32) minor_version(32) compatible_brands(32)... */
const FTYP_BRANDS = 8;
/** tkhd after version/flags: times and track_ID up to duration, then 52 bytes up to width/height. */
const TKHD_TIMES_V0 = 8;
const TKHD_TIMES_V1 = 16;
const TKHD_AFTER_ID_V0 = 8;
const TKHD_AFTER_ID_V1 = 12;
const TKHD_TO_WIDTH = 52;
const FIXED_16_16 = 16;
/** hdlr after version/flags: pre_defined(32) handler_type(32). */
const HDLR_TYPE = 4;

/** timescale and duration of an mvhd or mdhd (8.2.2, 8.4.2): both put them after the times. */
function readTimescale(buf: Buffer, box: Box): { timescale: number; duration: number } {
  const { version, body } = readFullBoxHeader(buf, box);
  const times = version === 1 ? 2 * U64 : 2 * U32;
  const durationSize = version === 1 ? U64 : U32;
  need(buf, box, body, times + U32 + durationSize, 'timescale and duration');
  const timescale = buf.readUInt32BE(body + times);
  if (timescale === 0) throw new ParseError(`mp4 ${box.type}`, 'timescale is 0', body + times);
  const at = body + times + U32;
  const duration = version === 1 ? Number(buf.readBigUInt64BE(at)) : buf.readUInt32BE(at);
  return { timescale, duration };
}

/** track_ID and the display width/height (16.16, whole pixels) of a tkhd (8.3.2). */
function readTkhd(buf: Buffer, tkhd: Box): { id: number; width: number; height: number } {
  const { version, body } = readFullBoxHeader(buf, tkhd);
  const idAt = body + (version === 1 ? TKHD_TIMES_V1 : TKHD_TIMES_V0);
  const widthAt = idAt + U32 + (version === 1 ? TKHD_AFTER_ID_V1 : TKHD_AFTER_ID_V0) + TKHD_TO_WIDTH;
  need(buf, tkhd, idAt, widthAt + 2 * U32 - idAt, 'track_ID to height');
  return {
    id: buf.readUInt32BE(idAt),
    width: buf.readUInt32BE(widthAt) >>> FIXED_16_16,
    height: buf.readUInt32BE(widthAt + U32) >>> FIXED_16_16,
  };
}

function readHandler(buf: Buffer, hdlr: Box): string {
  const { body } = readFullBoxHeader(buf, hdlr);
  need(buf, hdlr, body + HDLR_TYPE, FOURCC, 'handler_type');
  return buf.toString('latin1', body + HDLR_TYPE, body + HDLR_TYPE + FOURCC);
}

function readBrands(buf: Buffer, ftyp: Box | undefined): { majorBrand: string; compatibleBrands: string[] } {
  if (!ftyp) return { majorBrand: '', compatibleBrands: [] };
  need(buf, ftyp, ftyp.payload, FTYP_BRANDS, 'major_brand and minor_version');
  const compatibleBrands: string[] = [];
  for (let at = ftyp.payload + FTYP_BRANDS; at + FOURCC <= ftyp.end; at += FOURCC) {
    compatibleBrands.push(buf.toString('latin1', at, at + FOURCC));
  }
  return { majorBrand: buf.toString('latin1', ftyp.payload, ftyp.payload + FOURCC), compatibleBrands };
}

/** Reads one trak; just its id and format (or handler type) when it is not supported. */
function readTrak(buf: Buffer, trak: Box): Mp4Track | { id: number; format: string } {
  const tkhd = readTkhd(buf, requireChild(buf, trak, 'tkhd'));
  const mdia = requireChild(buf, trak, 'mdia');
  const { timescale, duration } = readTimescale(buf, requireChild(buf, mdia, 'mdhd'));
  const handler = readHandler(buf, requireChild(buf, mdia, 'hdlr'));
  if (handler !== 'vide' && handler !== 'soun') return { id: tkhd.id, format: handler };
  const stbl = findPath(buf, mdia, ['minf', 'stbl']);
  if (!stbl) throw new ParseError(WHAT, `track ${tkhd.id} has no minf/stbl`, mdia.start);
  const { format, info } = readSampleEntry(buf, requireChild(buf, stbl, 'stsd'), timescale);
  if (!info) return { id: tkhd.id, format };
  const track: Mp4Track = {
    id: tkhd.id,
    kind: kindOf(info.codec),
    codec: info.codec,
    timescale,
    duration,
    samples: readSampleTable(buf, stbl),
  };
  if (track.kind === 'video') {
    track.width = info.width || tkhd.width;
    track.height = info.height || tkhd.height;
  }
  if (info.avcC) track.avcC = info.avcC;
  if (info.hvcC) track.hvcC = info.hvcC;
  if (info.nalLengthSize !== undefined) track.nalLengthSize = info.nalLengthSize;
  if (info.audioSpecificConfig) track.audioSpecificConfig = info.audioSpecificConfig;
  if (info.dOps) track.dOps = info.dOps;
  return track;
}

/**
 * Parses an MP4 file held in `buf`: brands, movie timescale/duration and the tracks with their
 * sample tables. Samples are referenced by offset into `buf` (see `sampleFrame()`); `buf` is not
 * modified. Throws ParseError for anything malformed, never another error.
 */
export function readMp4(buf: Buffer): Mp4File {
  const top = readBoxes(buf, 0, buf.length);
  const moov = top.find((b) => b.type === 'moov');
  if (!moov) throw new ParseError(WHAT, `no moov among ${top.length} top-level boxes`, 0);
  const movie = readTimescale(buf, requireChild(buf, moov, 'mvhd'));
  const file: Mp4File = {
    ...readBrands(
      buf,
      top.find((b) => b.type === 'ftyp'),
    ),
    timescale: movie.timescale,
    duration: movie.duration,
    fragmented: findChild(buf, moov, 'mvex') !== undefined,
    tracks: [],
    skipped: [],
  };
  for (const trak of children(buf, moov)) {
    if (trak.type !== 'trak') continue;
    const track = readTrak(buf, trak);
    if ('samples' in track) file.tracks.push(track);
    else file.skipped.push(track);
  }
  return file;
}
