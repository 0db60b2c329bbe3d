/**
 * H.265 sequence parameter set parsing (ITU-T H.265 7.3.2.2.1, profile_tier_level 7.3.3): the
 * profile, tier and level (for hvcC and the codec string) and the picture size after the
 * conformance window.
 *
 *   seq_parameter_set_rbsp() {
 *     sps_video_parameter_set_id u(4) | sps_max_sub_layers_minus1 u(3) | sps_temporal_id_nesting_flag u(1)
 *     profile_tier_level(1, sps_max_sub_layers_minus1)
 *     sps_seq_parameter_set_id ue(v) | chroma_format_idc ue(v) [separate_colour_plane_flag u(1)]
 *     pic_width_in_luma_samples ue(v) | pic_height_in_luma_samples ue(v)
 *     conformance_window_flag u(1) [left, right, top, bottom offsets ue(v)]
 *     bit_depth_luma_minus8 ue(v) | bit_depth_chroma_minus8 ue(v) | ...
 *   }
 *   profile_tier_level() {
 *     general_profile_space u(2) | general_tier_flag u(1) | general_profile_idc u(5)
 *     general_profile_compatibility_flag[32] u(32) | constraint and reserved flags u(48)
 *     general_level_idc u(8) | sub-layer present flags and sub-layer fields ...
 *   }
 */
import { ParseError } from '../../core/errors.ts';
import { BitReader, removeEmulationPrevention } from '../bit-reader.ts';
import { H265_NAL_HEADER_SIZE, H265NalType, h265NalType } from './nal.ts';

const WHAT = 'H265 SPS';
/** Bytes of general_constraint_indicator_flags (48 bits). */
export const H265_CONSTRAINT_BYTES = 6;
const MAX_SUB_LAYERS = 7;
/** Sub-layer flag pairs are padded to 8 entries (7.3.3). */
const SUB_LAYER_FLAG_SLOTS = 8;
const SUB_LAYER_PROFILE_BITS = 88;
const SUB_LAYER_LEVEL_BITS = 8;
const MAX_SPS_ID = 15;
const MAX_CHROMA_FORMAT_IDC = 3;
const CHROMA_444 = 3;
const MAX_BIT_DEPTH_MINUS8 = 8;
/** Picture sizes beyond this many luma samples per side are rejected. */
const MAX_PICTURE_SIDE = 16888;

/** The general profile, tier and level fields (7.3.3), as hvcC and the codec string use them. */
export interface H265ProfileTierLevel {
  profileSpace: number;
  /** 0 Main tier, 1 High tier. */
  tierFlag: number;
  /** 1 Main, 2 Main 10, 3 Main Still Picture, 4 range extensions, ... */
  profileIdc: number;
  /** general_profile_compatibility_flag[0..31], flag 0 in the most significant bit. */
  profileCompatibilityFlags: number;
  /** The 48 bits of progressive/interlaced/constraint flags, 6 bytes. */
  constraintIndicatorFlags: Buffer;
  /** 30 x the level number (93 = level 3.1). */
  levelIdc: number;
}

/** The SPS fields mediagate uses (up to the bit depths). */
export interface H265Sps extends H265ProfileTierLevel {
  vpsId: number;
  /** sps_max_sub_layers_minus1 + 1. */
  maxSubLayers: number;
  temporalIdNesting: boolean;
  spsId: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** Displayed width in pixels, after the conformance window. */
  width: number;
  /** Displayed height in pixels, after the conformance window. */
  height: number;
}

/** Reads profile_tier_level(1, maxSubLayersMinus1) (7.3.3). */
export function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): H265ProfileTierLevel {
  const profileSpace = r.u(2, 'general_profile_space');
  const tierFlag = r.u(1, 'general_tier_flag');
  const profileIdc = r.u(5, 'general_profile_idc');
  const profileCompatibilityFlags = r.u(32, 'general_profile_compatibility_flags');
  const constraintIndicatorFlags = Buffer.alloc(H265_CONSTRAINT_BYTES);
  for (let i = 0; i < H265_CONSTRAINT_BYTES; i++) constraintIndicatorFlags[i] = r.u(8, 'constraint flags');
  const levelIdc = r.u(8, 'general_level_idc');
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.flag('sub_layer_profile_present_flag'));
    levelPresent.push(r.flag('sub_layer_level_present_flag'));
  }
  if (maxSubLayersMinus1 > 0) r.skip(2 * (SUB_LAYER_FLAG_SLOTS - maxSubLayersMinus1), 'reserved_zero_2bits');
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) r.skip(SUB_LAYER_PROFILE_BITS, 'sub-layer profile');
    if (levelPresent[i]) r.skip(SUB_LAYER_LEVEL_BITS, 'sub_layer_level_idc');
  }
  return {
    profileSpace,
    tierFlag,
    profileIdc,
    profileCompatibilityFlags,
    constraintIndicatorFlags,
    levelIdc,
  };
}

/**
 * Parses an SPS NAL unit (with its 2-byte header, emulation prevention still in place) up to the
 * bit depths. Throws `ParseError` when it is truncated, not an SPS, or has out-of-range fields.
 */
export function parseH265Sps(nal: Uint8Array): H265Sps {
  ParseError.need(WHAT, nal, 0, H265_NAL_HEADER_SIZE, 'NAL header');
  if (h265NalType(nal) !== H265NalType.SPS)
    throw new ParseError(WHAT, `NAL type ${h265NalType(nal)} is not an SPS`);
  const r = new BitReader(WHAT, removeEmulationPrevention(nal.subarray(H265_NAL_HEADER_SIZE)));
  const vpsId = r.u(4, 'sps_video_parameter_set_id');
  const maxSubLayersMinus1 = r.u(3, 'sps_max_sub_layers_minus1');
  if (maxSubLayersMinus1 >= MAX_SUB_LAYERS)
    throw new ParseError(WHAT, `sps_max_sub_layers_minus1 ${maxSubLayersMinus1} > 6`);
  const temporalIdNesting = r.flag('sps_temporal_id_nesting_flag');
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
  const spsId = r.ueMax(MAX_SPS_ID, 'sps_seq_parameter_set_id');
  const chromaFormatIdc = r.ueMax(MAX_CHROMA_FORMAT_IDC, 'chroma_format_idc');
  const separateColourPlane = chromaFormatIdc === CHROMA_444 ? r.flag('separate_colour_plane_flag') : false;
  let width = r.ueMax(MAX_PICTURE_SIDE, 'pic_width_in_luma_samples');
  let height = r.ueMax(MAX_PICTURE_SIDE, 'pic_height_in_luma_samples');
  if (r.flag('conformance_window_flag')) {
    // 7.4.3.2.1: offsets are in chroma sample units (Table 6-1).
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    const left = r.ue('conf_win_left_offset');
    const right = r.ue('conf_win_right_offset');
    const top = r.ue('conf_win_top_offset');
    const bottom = r.ue('conf_win_bottom_offset');
    width -= subWidthC * (left + right);
    height -= subHeightC * (top + bottom);
  }
  if (width <= 0 || height <= 0) throw new ParseError(WHAT, `picture size ${width}x${height}`);
  const bitDepthLuma = 8 + r.ueMax(MAX_BIT_DEPTH_MINUS8, 'bit_depth_luma_minus8');
  const bitDepthChroma = 8 + r.ueMax(MAX_BIT_DEPTH_MINUS8, 'bit_depth_chroma_minus8');
  return {
    ...ptl,
    vpsId,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    spsId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    width,
    height,
  };
}
