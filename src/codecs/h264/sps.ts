/**
 * H.264 sequence parameter set parsing (ITU-T H.264 7.3.2.1.1, VUI E.1.1): enough to get the
 * profile, level, picture size after cropping and, when the VUI has timing info, the frame rate.
 *
 *   seq_parameter_set_data() {
 *     profile_idc u(8) | constraint_set0..5_flag, reserved u(8) | level_idc u(8) | sps_id ue(v)
 *     if (high profile) { chroma_format_idc ue(v) [separate_colour_plane_flag u(1)]
 *       bit_depth_luma_minus8 ue(v) | bit_depth_chroma_minus8 ue(v) | qpprime_y_zero... u(1)
 *       seq_scaling_matrix_present_flag u(1) [scaling lists] }
 *     log2_max_frame_num_minus4 ue(v) | pic_order_cnt_type ue(v) [...]
 *     max_num_ref_frames ue(v) | gaps_in_frame_num_value_allowed_flag u(1)
 *     pic_width_in_mbs_minus1 ue(v) | pic_height_in_map_units_minus1 ue(v)
 *     frame_mbs_only_flag u(1) [mb_adaptive_frame_field_flag u(1)] | direct_8x8_inference_flag u(1)
 *     frame_cropping_flag u(1) [left, right, top, bottom ue(v)] | vui_parameters_present_flag u(1) [vui]
 *   }
 */
import { ParseError } from '../../core/errors.ts';
import { BitReader, removeEmulationPrevention } from '../bit-reader.ts';
import { H264NalType, h264NalType } from './nal.ts';

const WHAT = 'H264 SPS';
/** profile_idc values whose SPS carries chroma_format_idc and bit depths (7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);
const MAX_SPS_ID = 31;
const MAX_CHROMA_FORMAT_IDC = 3;
const CHROMA_444 = 3;
const MAX_BIT_DEPTH_MINUS8 = 6;
const MAX_LOG2_MINUS4 = 12;
const MAX_POC_TYPE = 2;
const MAX_POC_CYCLE = 255;
const MAX_REF_FRAMES = 16;
const MACROBLOCK_SIZE = 16;
/** Picture sizes beyond this many macroblocks per side are rejected (16384 pixels). */
const MAX_MBS_PER_SIDE = 1024;
const SCALING_LISTS_420 = 8;
const SCALING_LISTS_444 = 12;
const SMALL_SCALING_LISTS = 6;
const SCALING_LIST_4X4 = 16;
const SCALING_LIST_8X8 = 64;
const DELTA_SCALE_LIMIT = 128;
const ASPECT_RATIO_EXTENDED_SAR = 255;

/** The SPS fields mediagate uses. */
export interface H264Sps {
  profileIdc: number;
  /** The constraint_set0..5 flags and reserved bits: the byte between profile and level. */
  constraintFlags: number;
  /** level_idc: 10 x the level number (31 = level 3.1). */
  levelIdc: number;
  spsId: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (1 when the profile does not signal it). */
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** False for interlaced-capable streams (field or MBAFF coding). */
  frameMbsOnly: boolean;
  /** Displayed width in pixels, after cropping. */
  width: number;
  /** Displayed height in pixels, after cropping. */
  height: number;
  /** Frames per second from VUI timing info (time_scale / 2 / num_units_in_tick), if present. */
  fps?: number;
  /** Sample aspect ratio [width, height] from the VUI, if present. */
  sar?: [number, number];
}

/** Table E-1: sample aspect ratios by aspect_ratio_idc 1..16. */
const SAR_TABLE: ReadonlyArray<[number, number]> = [
  [1, 1],
  [12, 11],
  [10, 11],
  [16, 11],
  [40, 33],
  [24, 11],
  [20, 11],
  [32, 11],
  [80, 33],
  [18, 11],
  [15, 11],
  [64, 33],
  [160, 99],
  [4, 3],
  [3, 2],
  [2, 1],
];

/**
 * Parses an SPS NAL unit (with its 1-byte header, emulation prevention still in place).
 * Throws `ParseError` when it is truncated, not an SPS, or has out-of-range fields. A damaged
 * VUI only leaves `fps` and `sar` undefined.
 */
export function parseH264Sps(nal: Uint8Array): H264Sps {
  ParseError.need(WHAT, nal, 0, 1, 'NAL header');
  if (h264NalType(nal) !== H264NalType.SPS)
    throw new ParseError(WHAT, `NAL type ${h264NalType(nal)} is not an SPS`);
  const r = new BitReader(WHAT, removeEmulationPrevention(nal.subarray(1)));
  const profileIdc = r.u(8, 'profile_idc');
  const constraintFlags = r.u(8, 'constraint flags');
  const levelIdc = r.u(8, 'level_idc');
  const spsId = r.ueMax(MAX_SPS_ID, 'seq_parameter_set_id');
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ueMax(MAX_CHROMA_FORMAT_IDC, 'chroma_format_idc');
    if (chromaFormatIdc === CHROMA_444) separateColourPlane = r.flag('separate_colour_plane_flag');
    bitDepthLuma = 8 + r.ueMax(MAX_BIT_DEPTH_MINUS8, 'bit_depth_luma_minus8');
    bitDepthChroma = 8 + r.ueMax(MAX_BIT_DEPTH_MINUS8, 'bit_depth_chroma_minus8');
    r.skip(1, 'qpprime_y_zero_transform_bypass_flag');
    if (r.flag('seq_scaling_matrix_present_flag')) {
      const lists = chromaFormatIdc === CHROMA_444 ? SCALING_LISTS_444 : SCALING_LISTS_420;
      for (let i = 0; i < lists; i++) {
        if (r.flag('seq_scaling_list_present_flag')) {
          skipScalingList(r, i < SMALL_SCALING_LISTS ? SCALING_LIST_4X4 : SCALING_LIST_8X8);
        }
      }
    }
  }
  r.ueMax(MAX_LOG2_MINUS4, 'log2_max_frame_num_minus4');
  const pocType = r.ueMax(MAX_POC_TYPE, 'pic_order_cnt_type');
  if (pocType === 0) {
    r.ueMax(MAX_LOG2_MINUS4, 'log2_max_pic_order_cnt_lsb_minus4');
  } else if (pocType === 1) {
    r.skip(1, 'delta_pic_order_always_zero_flag');
    r.se('offset_for_non_ref_pic');
    r.se('offset_for_top_to_bottom_field');
    const cycle = r.ueMax(MAX_POC_CYCLE, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se('offset_for_ref_frame');
  }
  r.ueMax(MAX_REF_FRAMES, 'max_num_ref_frames');
  r.skip(1, 'gaps_in_frame_num_value_allowed_flag');
  const widthMbs = r.ueMax(MAX_MBS_PER_SIDE - 1, 'pic_width_in_mbs_minus1') + 1;
  const heightMapUnits = r.ueMax(MAX_MBS_PER_SIDE - 1, 'pic_height_in_map_units_minus1') + 1;
  const frameMbsOnly = r.flag('frame_mbs_only_flag');
  if (!frameMbsOnly) r.skip(1, 'mb_adaptive_frame_field_flag');
  r.skip(1, 'direct_8x8_inference_flag');
  const fieldFactor = frameMbsOnly ? 1 : 2;
  let width = widthMbs * MACROBLOCK_SIZE;
  let height = fieldFactor * heightMapUnits * MACROBLOCK_SIZE;
  if (r.flag('frame_cropping_flag')) {
    // 7.4.2.1.1: crop units depend on ChromaArrayType and field coding.
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    const cropX = chromaArrayType === 0 ? 1 : subWidthC;
    const cropY = (chromaArrayType === 0 ? 1 : subHeightC) * fieldFactor;
    const left = r.ue('frame_crop_left_offset');
    const right = r.ue('frame_crop_right_offset');
    const top = r.ue('frame_crop_top_offset');
    const bottom = r.ue('frame_crop_bottom_offset');
    width -= cropX * (left + right);
    height -= cropY * (top + bottom);
    if (width <= 0 || height <= 0) throw new ParseError(WHAT, `cropping leaves ${width}x${height}`);
  }
  const sps: H264Sps = {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    frameMbsOnly,
    width,
    height,
  };
  if (r.flag('vui_parameters_present_flag')) {
    try {
      parseVui(r, sps);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
    }
  }
  return sps;
}

/** 7.3.2.1.1.1 scaling_list(): only the delta_scale codes are read. */
function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size && next !== 0; j++) {
    const delta = r.se('delta_scale');
    if (delta < -DELTA_SCALE_LIMIT || delta >= DELTA_SCALE_LIMIT)
      throw new ParseError(WHAT, `delta_scale ${delta} out of range`);
    next = (last + delta + 256) % 256;
    if (next !== 0) last = next;
  }
}

/** E.1.1 vui_parameters() up to the timing info. */
function parseVui(r: BitReader, sps: H264Sps): void {
  if (r.flag('aspect_ratio_info_present_flag')) {
    const idc = r.u(8, 'aspect_ratio_idc');
    if (idc === ASPECT_RATIO_EXTENDED_SAR) {
      sps.sar = [r.u(16, 'sar_width'), r.u(16, 'sar_height')];
    } else if (idc >= 1 && idc <= SAR_TABLE.length) {
      sps.sar = [...SAR_TABLE[idc - 1]];
    }
  }
  if (r.flag('overscan_info_present_flag')) r.skip(1, 'overscan_appropriate_flag');
  if (r.flag('video_signal_type_present_flag')) {
    r.skip(4, 'video_format, video_full_range_flag');
    if (r.flag('colour_description_present_flag')) r.skip(24, 'colour description');
  }
  if (r.flag('chroma_loc_info_present_flag')) {
    r.ue('chroma_sample_loc_type_top_field');
    r.ue('chroma_sample_loc_type_bottom_field');
  }
  if (r.flag('timing_info_present_flag')) {
    const unitsInTick = r.u(32, 'num_units_in_tick');
    const timeScale = r.u(32, 'time_scale');
    // One frame is two field ticks (E.2.1, with field_rate = time_scale / num_units_in_tick).
    if (unitsInTick > 0 && timeScale > 0) sps.fps = timeScale / (2 * unitsInTick);
  }
}
