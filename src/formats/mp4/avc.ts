/**
 * The H.264 and H.265 decoder configuration records of MP4 (ISO/IEC 14496-15 5.3.3 `avcC` and
 * 8.3.3 `hvcC`): parsing, building from SDP parameter sets, and the SDP fmtp they imply
 * (RFC 6184 8.1, RFC 7798 7.1).
 */
import { BadRequestError, ParseError } from '../../core/errors.ts';
import { u16 } from './box-writer.ts';

/*
 * AVCDecoderConfigurationRecord:
 *   configurationVersion(8) = 1 | AVCProfileIndication(8) | profile_compatibility(8) | AVCLevelIndication(8)
 *   '111111' lengthSizeMinusOne(2) | '111' numOfSequenceParameterSets(5)
 *   { sequenceParameterSetLength(16) SPS } ... | numOfPictureParameterSets(8) { length(16) PPS } ...
 *   [profile 100/110/122/144 extension, ignored]
 */
const AVCC_WHAT = 'mp4 avcC';
const AVCC_VERSION = 1;
const AVCC_PROFILE = 1;
const AVCC_LENGTH_SIZE = 4;
const AVCC_NUM_SPS = 5;
const AVCC_HEADER_SIZE = 6;
const AVCC_NUM_SPS_MASK = 0x1f;
const AVCC_RESERVED_NUM_SPS = 0xe0;
const AVCC_RESERVED_LENGTH_SIZE = 0xfc;
const PROFILE_LEVEL_ID_SIZE = 3;
const H264_NAL_TYPE_MASK = 0x1f;
const H264_NAL_SPS = 7;
const H264_NAL_PPS = 8;

/*
 * HEVCDecoderConfigurationRecord: a 23-byte header (version, general profile/tier/level copied from
 * the SPS, chroma format, bit depths, ... lengthSizeMinusOne in the low 2 bits of byte 21, numOfArrays
 * in byte 22), then arrays of { completeness(1) reserved(1) NAL_unit_type(6) | numNalus(16) |
 * { nalUnitLength(16) NAL } ... }.
 */
const HVCC_WHAT = 'mp4 hvcC';
const HVCC_LENGTH_SIZE = 21;
const HVCC_NUM_ARRAYS = 22;
const HVCC_HEADER_SIZE = 23;
const HVCC_NAL_TYPE_MASK = 0x3f;
const HVCC_ARRAY_COMPLETE = 0x80;
const HVCC_GENERAL_PTL = 1;
const HVCC_GENERAL_PTL_SIZE = 12;
const H265_NAL_HEADER_SIZE = 2;
/** Byte of the SPS after the NAL header: vps_id(4) max_sub_layers_minus1(3) temporal_id_nesting(1). */
const H265_SPS_FIRST_BYTE = 1;
const H265_NAL_VPS = 32;
const H265_NAL_SPS = 33;
const H265_NAL_PPS = 34;
const LENGTH_SIZE_MASK = 0x03;
const LENGTH_SIZE_4 = 3;
const U16 = 2;

/** A parsed avcC. NAL units are views into the input. */
export interface AvcConfig {
  profile: number;
  compatibility: number;
  level: number;
  /** NAL unit length field size in bytes: 1, 2 or 4. */
  nalLengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
}

/** A parsed hvcC. NAL units are views into the input. */
export interface HevcConfig {
  /** NAL unit length field size in bytes: 1, 2 or 4. */
  nalLengthSize: number;
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
}

/** Reads `count` units of { length(16), bytes } from `offset`; returns them and the next offset. */
function readNalList(what: string, rec: Buffer, offset: number, count: number): [Buffer[], number] {
  const nals: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    ParseError.need(what, rec, offset, U16, 'NAL unit length');
    const len = rec.readUInt16BE(offset);
    offset += U16;
    ParseError.need(what, rec, offset, len, 'NAL unit');
    nals.push(rec.subarray(offset, offset + len));
    offset += len;
  }
  return [nals, offset];
}

function checkLengthSize(what: string, size: number): number {
  // lengthSizeMinusOne = 2 (3-byte lengths) is reserved by ISO/IEC 14496-15.
  if (size === 3) throw new ParseError(what, 'NAL length size 3 is not allowed', 0);
  return size;
}

/** Parses an AVCDecoderConfigurationRecord (the payload of `avcC`). */
export function parseAvcC(rec: Buffer): AvcConfig {
  ParseError.need(AVCC_WHAT, rec, 0, AVCC_HEADER_SIZE, 'header');
  if (rec[0] !== AVCC_VERSION) throw new ParseError(AVCC_WHAT, `configurationVersion ${rec[0]} is not 1`, 0);
  const nalLengthSize = checkLengthSize(AVCC_WHAT, (rec[AVCC_LENGTH_SIZE] & LENGTH_SIZE_MASK) + 1);
  const [sps, afterSps] = readNalList(
    AVCC_WHAT,
    rec,
    AVCC_HEADER_SIZE,
    rec[AVCC_NUM_SPS] & AVCC_NUM_SPS_MASK,
  );
  ParseError.need(AVCC_WHAT, rec, afterSps, 1, 'numOfPictureParameterSets');
  const [pps] = readNalList(AVCC_WHAT, rec, afterSps + 1, rec[afterSps]);
  return { profile: rec[AVCC_PROFILE], compatibility: rec[2], level: rec[3], nalLengthSize, sps, pps };
}

/**
 * Builds an avcC with 4-byte NAL lengths from SPS and PPS NAL units (RBSP with header, no start
 * code). Profile and level come from the first SPS. The high-profile chroma/bit-depth extension is
 * not written; decoders take those from the SPS.
 */
export function buildAvcC(sps: readonly Buffer[], pps: readonly Buffer[]): Buffer {
  const first = sps[0];
  if (!first || first.length < 1 + PROFILE_LEVEL_ID_SIZE || pps.length === 0) {
    throw new BadRequestError(
      `avcC needs an SPS of 4+ bytes and a PPS (have ${sps.length} SPS, ${pps.length} PPS)`,
    );
  }
  if (sps.length > AVCC_NUM_SPS_MASK || pps.length > 0xff)
    throw new BadRequestError('avcC: too many parameter sets');
  const parts: Buffer[] = [
    Buffer.from([AVCC_VERSION, first[1], first[2], first[3], AVCC_RESERVED_LENGTH_SIZE | LENGTH_SIZE_4]),
    Buffer.from([AVCC_RESERVED_NUM_SPS | sps.length]),
  ];
  for (const nal of sps) parts.push(u16(nal.length), nal);
  parts.push(Buffer.from([pps.length]));
  for (const nal of pps) parts.push(u16(nal.length), nal);
  return Buffer.concat(parts);
}

/** Parses an HEVCDecoderConfigurationRecord (the payload of `hvcC`); SEI and other arrays are skipped. */
export function parseHvcC(rec: Buffer): HevcConfig {
  ParseError.need(HVCC_WHAT, rec, 0, HVCC_HEADER_SIZE, 'header');
  const nalLengthSize = checkLengthSize(HVCC_WHAT, (rec[HVCC_LENGTH_SIZE] & LENGTH_SIZE_MASK) + 1);
  const config: HevcConfig = { nalLengthSize, vps: [], sps: [], pps: [] };
  let offset = HVCC_HEADER_SIZE;
  for (let i = 0; i < rec[HVCC_NUM_ARRAYS]; i++) {
    ParseError.need(HVCC_WHAT, rec, offset, 1 + U16, 'array header');
    const type = rec[offset] & HVCC_NAL_TYPE_MASK;
    const [nals, next] = readNalList(HVCC_WHAT, rec, offset + 1 + U16, rec.readUInt16BE(offset + 1));
    offset = next;
    if (type === H265_NAL_VPS) config.vps.push(...nals);
    else if (type === H265_NAL_SPS) config.sps.push(...nals);
    else if (type === H265_NAL_PPS) config.pps.push(...nals);
  }
  return config;
}

/** Removes emulation prevention bytes (00 00 03 -> 00 00) from the first `max` output bytes. */
function unescapeRbsp(nal: Buffer, max: number): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (let i = 0; i < nal.length && out.length < max; i++) {
    const b = nal[i];
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out.push(b);
  }
  return Buffer.from(out);
}

/**
 * Builds an hvcC with 4-byte NAL lengths from VPS, SPS and PPS NAL units. The general
 * profile/tier/level comes from the first SPS; chroma format and bit depth are written as 4:2:0
 * 8-bit (decoders take the real values from the SPS).
 */
export function buildHvcC(vps: readonly Buffer[], sps: readonly Buffer[], pps: readonly Buffer[]): Buffer {
  const ptlEnd = H265_NAL_HEADER_SIZE + H265_SPS_FIRST_BYTE + HVCC_GENERAL_PTL_SIZE;
  const rbsp = sps[0] ? unescapeRbsp(sps[0], ptlEnd) : Buffer.alloc(0);
  if (vps.length === 0 || pps.length === 0 || rbsp.length < ptlEnd) {
    throw new BadRequestError(`hvcC needs a VPS, an SPS of ${ptlEnd}+ bytes and a PPS`);
  }
  const firstByte = rbsp[H265_NAL_HEADER_SIZE];
  const numTemporalLayers = ((firstByte >> 1) & 0x07) + 1;
  const temporalIdNested = firstByte & 0x01;
  const header = Buffer.alloc(HVCC_HEADER_SIZE);
  header[0] = 1;
  rbsp.copy(header, HVCC_GENERAL_PTL, ptlEnd - HVCC_GENERAL_PTL_SIZE, ptlEnd);
  header.writeUInt16BE(0xf000, 13); // reserved '1111' + min_spatial_segmentation_idc 0
  header[15] = 0xfc; // parallelismType 0 (unknown)
  header[16] = 0xfc | 1; // chroma_format_idc 1 (4:2:0)
  header[17] = 0xf8; // bit_depth_luma_minus8 0
  header[18] = 0xf8; // bit_depth_chroma_minus8 0
  header[HVCC_LENGTH_SIZE] = (numTemporalLayers << 3) | (temporalIdNested << 2) | LENGTH_SIZE_4;
  header[HVCC_NUM_ARRAYS] = 3;
  const parts: Buffer[] = [header];
  for (const [type, nals] of [
    [H265_NAL_VPS, vps],
    [H265_NAL_SPS, sps],
    [H265_NAL_PPS, pps],
  ] as const) {
    parts.push(Buffer.from([HVCC_ARRAY_COMPLETE | type]), u16(nals.length));
    for (const nal of nals) parts.push(u16(nal.length), nal);
  }
  return Buffer.concat(parts);
}

/** A copy of an avcC or hvcC record that declares 4-byte NAL lengths. */
export function withLengthSize4(rec: Buffer, kind: 'avcC' | 'hvcC'): Buffer {
  const copy = Buffer.from(rec);
  const at = kind === 'avcC' ? AVCC_LENGTH_SIZE : HVCC_LENGTH_SIZE;
  copy[at] = (copy[at] & ~LENGTH_SIZE_MASK) | LENGTH_SIZE_4;
  return copy;
}

/** The RFC 6184 fmtp of an avcC: packetization-mode 1, profile-level-id, sprop-parameter-sets. */
export function h264Fmtp(config: AvcConfig): Record<string, string> {
  const sps = config.sps[0];
  const pli =
    sps && sps.length > PROFILE_LEVEL_ID_SIZE
      ? sps.subarray(1, 1 + PROFILE_LEVEL_ID_SIZE)
      : Buffer.from([config.profile, config.compatibility, config.level]);
  const fmtp: Record<string, string> = { 'packetization-mode': '1', 'profile-level-id': pli.toString('hex') };
  const sets = [...config.sps, ...config.pps].map((n) => n.toString('base64'));
  if (sets.length > 0) fmtp['sprop-parameter-sets'] = sets.join(',');
  return fmtp;
}

/** The RFC 7798 fmtp of an hvcC: sprop-vps, sprop-sps, sprop-pps (comma-separated base64). */
export function h265Fmtp(config: HevcConfig): Record<string, string> {
  const fmtp: Record<string, string> = {};
  const add = (key: string, nals: Buffer[]) => {
    if (nals.length > 0) fmtp[key] = nals.map((n) => n.toString('base64')).join(',');
  };
  add('sprop-vps', config.vps);
  add('sprop-sps', config.sps);
  add('sprop-pps', config.pps);
  return fmtp;
}

/** The NAL units of a comma-separated base64 sprop value; empty for undefined. */
export function spropNals(value: string | undefined): Buffer[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => Buffer.from(s.trim(), 'base64'))
    .filter((b) => b.length > 0);
}

/** An avcC built from an RFC 6184 fmtp `sprop-parameter-sets` (SPS and PPS in any order). */
export function avcCFromFmtp(fmtp: Record<string, string> | undefined): Buffer {
  const nals = spropNals(fmtp?.['sprop-parameter-sets']);
  const type = (n: Buffer) => n[0] & H264_NAL_TYPE_MASK;
  return buildAvcC(
    nals.filter((n) => type(n) === H264_NAL_SPS),
    nals.filter((n) => type(n) === H264_NAL_PPS),
  );
}

/** An hvcC built from RFC 7798 fmtp `sprop-vps`, `sprop-sps` and `sprop-pps`. */
export function hvcCFromFmtp(fmtp: Record<string, string> | undefined): Buffer {
  return buildHvcC(
    spropNals(fmtp?.['sprop-vps']),
    spropNals(fmtp?.['sprop-sps']),
    spropNals(fmtp?.['sprop-pps']),
  );
}
