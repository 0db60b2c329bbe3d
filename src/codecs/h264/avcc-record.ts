/**
 * The AVCDecoderConfigurationRecord (`avcC` box body, ISO/IEC 14496-15 5.3.3.1): SPS and PPS for
 * MP4, fMP4 (MSE) and FLV.
 *
 *   configurationVersion (8) = 1 | AVCProfileIndication (8) | profile_compatibility (8) | AVCLevelIndication (8)
 *   reserved '111111' (6) | lengthSizeMinusOne (2)
 *   reserved '111' (3) | numOfSequenceParameterSets (5) | { length (16) | SPS NAL unit } ...
 *   numOfPictureParameterSets (8) | { length (16) | PPS NAL unit } ...
 *   if profile_idc in 100, 110, 122, 144 (optional in practice):
 *     '111111' (6) | chroma_format (2) | '11111' (5) | bit_depth_luma_minus8 (3)
 *     '11111' (5) | bit_depth_chroma_minus8 (3) | numOfSequenceParameterSetExt (8) | { length (16) | NAL } ...
 */
import { ParseError } from '../../core/errors.ts';
import { parseH264Sps } from './sps.ts';

const WHAT = 'avcC';
const CONFIGURATION_VERSION = 1;
const HEADER_SIZE = 6;
const LENGTH_SIZE_MASK = 0x03;
const NUM_SPS_MASK = 0x1f;
const MAX_SPS = 31;
const MAX_PPS = 255;
const MAX_NAL_SIZE = 0xffff;
const RESERVED_LENGTH_SIZE = 0xfc;
const RESERVED_NUM_SPS = 0xe0;
const RESERVED_CHROMA = 0xfc;
const CHROMA_FORMAT_MASK = 0x03;
const RESERVED_BIT_DEPTH = 0xf8;
const BIT_DEPTH_MASK = 0x07;
/** Profiles whose record carries chroma format and bit depths (14496-15 5.3.3.1.1). */
const EXTENDED_PROFILES = new Set([100, 110, 122, 144]);

/** A parsed avcC record. */
export interface AvcDecoderConfig {
  profileIdc: number;
  profileCompatibility: number;
  levelIdc: number;
  /** Bytes of each NAL length prefix in the samples: 1, 2 or 4. */
  lengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
  /** Present only when the record has the high-profile extension. */
  chromaFormat?: number;
  bitDepthLuma?: number;
  bitDepthChroma?: number;
  spsExt?: Buffer[];
}

/**
 * Builds an avcC record for one SPS and PPS with 4-byte NAL lengths. Adds the high-profile fields
 * (chroma format, bit depths) from the parsed SPS. Throws `ParseError` when the SPS does not parse.
 */
export function buildAvcC(sps: Buffer, pps: Buffer): Buffer {
  const info = parseH264Sps(sps);
  if (sps.length > MAX_NAL_SIZE || pps.length > MAX_NAL_SIZE) {
    throw new ParseError(
      WHAT,
      `parameter set of ${Math.max(sps.length, pps.length)} bytes exceeds ${MAX_NAL_SIZE}`,
    );
  }
  const ext = EXTENDED_PROFILES.has(info.profileIdc);
  const out = Buffer.alloc(HEADER_SIZE + 2 + sps.length + 1 + 2 + pps.length + (ext ? 4 : 0));
  let o = 0;
  out[o++] = CONFIGURATION_VERSION;
  out[o++] = info.profileIdc;
  out[o++] = info.constraintFlags;
  out[o++] = info.levelIdc;
  out[o++] = RESERVED_LENGTH_SIZE | 3; // 4-byte lengths
  out[o++] = RESERVED_NUM_SPS | 1;
  o = out.writeUInt16BE(sps.length, o);
  o += sps.copy(out, o);
  out[o++] = 1;
  o = out.writeUInt16BE(pps.length, o);
  o += pps.copy(out, o);
  if (ext) {
    out[o++] = RESERVED_CHROMA | info.chromaFormatIdc;
    out[o++] = RESERVED_BIT_DEPTH | (info.bitDepthLuma - 8);
    out[o++] = RESERVED_BIT_DEPTH | (info.bitDepthChroma - 8);
    out[o++] = 0;
  }
  return out;
}

/** Parses an avcC record; NAL units are views that alias `buf`. Throws `ParseError` when malformed. */
export function parseAvcC(buf: Buffer): AvcDecoderConfig {
  ParseError.need(WHAT, buf, 0, HEADER_SIZE, 'header');
  if (buf[0] !== CONFIGURATION_VERSION) throw new ParseError(WHAT, `configurationVersion ${buf[0]} is not 1`);
  const lengthSize = (buf[4] & LENGTH_SIZE_MASK) + 1;
  if (lengthSize === 3) throw new ParseError(WHAT, 'lengthSizeMinusOne 2 is not allowed', 4);
  let o = HEADER_SIZE;
  const readList = (count: number, field: string): Buffer[] => {
    const list: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      ParseError.need(WHAT, buf, o, 2, `${field} length`);
      const len = buf.readUInt16BE(o);
      o += 2;
      ParseError.need(WHAT, buf, o, len, field);
      list.push(buf.subarray(o, o + len));
      o += len;
    }
    return list;
  };
  const sps = readList(Math.min(buf[5] & NUM_SPS_MASK, MAX_SPS), 'SPS');
  ParseError.need(WHAT, buf, o, 1, 'numOfPictureParameterSets');
  const pps = readList(Math.min(buf[o++], MAX_PPS), 'PPS');
  const config: AvcDecoderConfig = {
    profileIdc: buf[1],
    profileCompatibility: buf[2],
    levelIdc: buf[3],
    lengthSize,
    sps,
    pps,
  };
  // The extension is mandatory for these profiles but many writers omit it: read it only if present.
  if (EXTENDED_PROFILES.has(config.profileIdc) && buf.length - o >= 4) {
    config.chromaFormat = buf[o++] & CHROMA_FORMAT_MASK;
    config.bitDepthLuma = (buf[o++] & BIT_DEPTH_MASK) + 8;
    config.bitDepthChroma = (buf[o++] & BIT_DEPTH_MASK) + 8;
    config.spsExt = readList(buf[o++], 'SPS extension');
  }
  return config;
}
