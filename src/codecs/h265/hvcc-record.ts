/**
 * The HEVCDecoderConfigurationRecord (`hvcC` box body, ISO/IEC 14496-15 8.3.3.1): VPS, SPS and PPS
 * for MP4 and fMP4 (MSE).
 *
 *   configurationVersion (8) = 1
 *   general_profile_space (2) | general_tier_flag (1) | general_profile_idc (5)
 *   general_profile_compatibility_flags (32) | general_constraint_indicator_flags (48) | general_level_idc (8)
 *   '1111' (4) | min_spatial_segmentation_idc (12) | '111111' (6) | parallelismType (2)
 *   '111111' (6) | chromaFormat (2) | '11111' (5) | bitDepthLumaMinus8 (3) | '11111' (5) | bitDepthChromaMinus8 (3)
 *   avgFrameRate (16) | constantFrameRate (2) | numTemporalLayers (3) | temporalIdNested (1) | lengthSizeMinusOne (2)
 *   numOfArrays (8) | { array_completeness (1) | 0 (1) | NAL_unit_type (6) | numNalus (16) | { nalUnitLength (16) | NAL unit } }
 */
import { ParseError } from '../../core/errors.ts';
import { H265NalType, h265NalType } from './nal.ts';
import { H265_CONSTRAINT_BYTES, type H265ProfileTierLevel, parseH265Sps } from './sps.ts';

const WHAT = 'hvcC';
const CONFIGURATION_VERSION = 1;
// Byte offsets of the fixed fields.
const OFF_PROFILE = 1;
const OFF_COMPATIBILITY = 2;
const OFF_CONSTRAINTS = 6;
const OFF_LEVEL = 12;
const OFF_MIN_SEGMENTATION = 13;
const OFF_PARALLELISM = 15;
const OFF_CHROMA = 16;
const OFF_BIT_DEPTH_LUMA = 17;
const OFF_BIT_DEPTH_CHROMA = 18;
const OFF_AVG_FRAME_RATE = 19;
/** constantFrameRate, numTemporalLayers, temporalIdNested, lengthSizeMinusOne. */
const OFF_FLAGS = 21;
/** Bytes before numOfArrays. */
const HEADER_SIZE = 22;
const PROFILE_SPACE_SHIFT = 6;
const TIER_SHIFT = 5;
const PROFILE_IDC_MASK = 0x1f;
const CONSTANT_FRAME_RATE_SHIFT = 6;
const TEMPORAL_LAYERS_SHIFT = 3;
const TEMPORAL_ID_NESTED_SHIFT = 2;
/** Per array: completeness and NAL_unit_type byte, numNalus (16). */
const ARRAY_HEADER_SIZE = 3;
const NAL_LENGTH_SIZE = 2;
const MAX_NAL_SIZE = 0xffff;
const MIN_SEGMENTATION_MASK = 0x0fff;
const RESERVED_MIN_SEGMENTATION = 0xf000;
const RESERVED_PARALLELISM = 0xfc;
const RESERVED_CHROMA = 0xfc;
const RESERVED_BIT_DEPTH = 0xf8;
const TWO_BIT_MASK = 0x03;
const BIT_DEPTH_MASK = 0x07;
const ARRAY_COMPLETENESS = 0x80;
const ARRAY_TYPE_MASK = 0x3f;
const LENGTH_SIZE_MINUS_ONE_4 = 3;

/** A parsed hvcC record. */
export interface HevcDecoderConfig extends H265ProfileTierLevel {
  minSpatialSegmentationIdc: number;
  parallelismType: number;
  chromaFormat: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** Average frame rate in frames per 256 seconds; 0 = unspecified. */
  avgFrameRate: number;
  constantFrameRate: number;
  numTemporalLayers: number;
  temporalIdNested: boolean;
  /** Bytes of each NAL length prefix in the samples: 1, 2 or 4. */
  lengthSize: number;
  /** NAL unit arrays by type (VPS, SPS, PPS, SEI...); NAL units are views of the parsed buffer. */
  arrays: { type: number; complete: boolean; nals: Buffer[] }[];
}

/**
 * Builds an hvcC record for one VPS, SPS and PPS with 4-byte NAL lengths, all arrays marked complete
 * (as for an `hvc1` sample entry). Throws `ParseError` when the SPS does not parse.
 */
export function buildHvcC(vps: Buffer, sps: Buffer, pps: Buffer): Buffer {
  const info = parseH265Sps(sps);
  const sets: [number, Buffer][] = [
    [H265NalType.VPS, vps],
    [H265NalType.SPS, sps],
    [H265NalType.PPS, pps],
  ];
  let size = HEADER_SIZE + 1;
  for (const [, nal] of sets) {
    if (nal.length > MAX_NAL_SIZE)
      throw new ParseError(WHAT, `parameter set of ${nal.length} bytes exceeds ${MAX_NAL_SIZE}`);
    size += ARRAY_HEADER_SIZE + NAL_LENGTH_SIZE + nal.length;
  }
  const out = Buffer.alloc(size);
  let o = 0;
  out[o++] = CONFIGURATION_VERSION;
  out[o++] = (info.profileSpace << PROFILE_SPACE_SHIFT) | (info.tierFlag << TIER_SHIFT) | info.profileIdc;
  o = out.writeUInt32BE(info.profileCompatibilityFlags, o);
  o += info.constraintIndicatorFlags.copy(out, o);
  out[o++] = info.levelIdc;
  o = out.writeUInt16BE(RESERVED_MIN_SEGMENTATION, o); // min_spatial_segmentation_idc 0: unknown
  out[o++] = RESERVED_PARALLELISM; // parallelismType 0: unknown
  out[o++] = RESERVED_CHROMA | info.chromaFormatIdc;
  out[o++] = RESERVED_BIT_DEPTH | (info.bitDepthLuma - 8);
  out[o++] = RESERVED_BIT_DEPTH | (info.bitDepthChroma - 8);
  o = out.writeUInt16BE(0, o); // avgFrameRate: unspecified
  out[o++] =
    (info.maxSubLayers << TEMPORAL_LAYERS_SHIFT) |
    ((info.temporalIdNesting ? 1 : 0) << TEMPORAL_ID_NESTED_SHIFT) |
    LENGTH_SIZE_MINUS_ONE_4;
  out[o++] = sets.length;
  for (const [type, nal] of sets) {
    out[o++] = ARRAY_COMPLETENESS | type;
    o = out.writeUInt16BE(1, o);
    o = out.writeUInt16BE(nal.length, o);
    o += nal.copy(out, o);
  }
  return out;
}

/** Parses an hvcC record; NAL units are views that alias `buf`. Throws `ParseError` when malformed. */
export function parseHvcC(buf: Buffer): HevcDecoderConfig {
  ParseError.need(WHAT, buf, 0, HEADER_SIZE + 1, 'header');
  if (buf[0] !== CONFIGURATION_VERSION) throw new ParseError(WHAT, `configurationVersion ${buf[0]} is not 1`);
  const lengthSize = (buf[OFF_FLAGS] & TWO_BIT_MASK) + 1;
  if (lengthSize === 3) throw new ParseError(WHAT, 'lengthSizeMinusOne 2 is not allowed', OFF_FLAGS);
  const config: HevcDecoderConfig = {
    profileSpace: buf[OFF_PROFILE] >> PROFILE_SPACE_SHIFT,
    tierFlag: (buf[OFF_PROFILE] >> TIER_SHIFT) & 1,
    profileIdc: buf[OFF_PROFILE] & PROFILE_IDC_MASK,
    profileCompatibilityFlags: buf.readUInt32BE(OFF_COMPATIBILITY),
    constraintIndicatorFlags: Buffer.from(
      buf.subarray(OFF_CONSTRAINTS, OFF_CONSTRAINTS + H265_CONSTRAINT_BYTES),
    ),
    levelIdc: buf[OFF_LEVEL],
    minSpatialSegmentationIdc: buf.readUInt16BE(OFF_MIN_SEGMENTATION) & MIN_SEGMENTATION_MASK,
    parallelismType: buf[OFF_PARALLELISM] & TWO_BIT_MASK,
    chromaFormat: buf[OFF_CHROMA] & TWO_BIT_MASK,
    bitDepthLuma: (buf[OFF_BIT_DEPTH_LUMA] & BIT_DEPTH_MASK) + 8,
    bitDepthChroma: (buf[OFF_BIT_DEPTH_CHROMA] & BIT_DEPTH_MASK) + 8,
    avgFrameRate: buf.readUInt16BE(OFF_AVG_FRAME_RATE),
    constantFrameRate: buf[OFF_FLAGS] >> CONSTANT_FRAME_RATE_SHIFT,
    numTemporalLayers: (buf[OFF_FLAGS] >> TEMPORAL_LAYERS_SHIFT) & BIT_DEPTH_MASK,
    temporalIdNested: ((buf[OFF_FLAGS] >> TEMPORAL_ID_NESTED_SHIFT) & 1) === 1,
    lengthSize,
    arrays: [],
  };
  const numArrays = buf[HEADER_SIZE];
  let o = HEADER_SIZE + 1;
  for (let a = 0; a < numArrays; a++) {
    ParseError.need(WHAT, buf, o, ARRAY_HEADER_SIZE, 'array header');
    const complete = (buf[o] & ARRAY_COMPLETENESS) !== 0;
    const type = buf[o] & ARRAY_TYPE_MASK;
    const count = buf.readUInt16BE(o + 1);
    o += ARRAY_HEADER_SIZE;
    const nals: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      ParseError.need(WHAT, buf, o, NAL_LENGTH_SIZE, 'nalUnitLength');
      const len = buf.readUInt16BE(o);
      o += NAL_LENGTH_SIZE;
      ParseError.need(WHAT, buf, o, len, 'NAL unit');
      nals.push(buf.subarray(o, o + len));
      o += len;
    }
    config.arrays.push({ type, complete, nals });
  }
  return config;
}

/** The first NAL unit of each parameter-set type in a parsed hvcC record. */
export function hvcCParameterSets(config: HevcDecoderConfig): { vps?: Buffer; sps?: Buffer; pps?: Buffer } {
  const first = (type: number): Buffer | undefined =>
    config.arrays.flatMap((a) => a.nals).find((n) => h265NalType(n) === type);
  return { vps: first(H265NalType.VPS), sps: first(H265NalType.SPS), pps: first(H265NalType.PPS) };
}
