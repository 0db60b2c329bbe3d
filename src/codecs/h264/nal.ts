/**
 * H.264 NAL unit header and types (ITU-T H.264 7.3.1, Table 7-1; RFC 6184 5.2 for 24..29).
 *
 *   +---------------+
 *   |0|1|2|3|4|5|6|7|
 *   +-+-+-+-+-+-+-+-+
 *   |F|NRI|  Type   |
 *   +---------------+
 */
import { splitAvcc } from '../avcc.ts';

/** NAL unit types used by mediagate. */
export const H264NalType = {
  /** Coded slice of a non-IDR picture. */
  SLICE: 1,
  SLICE_DPA: 2,
  SLICE_DPB: 3,
  SLICE_DPC: 4,
  /** Coded slice of an IDR picture: a keyframe. */
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  /** Access unit delimiter. */
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
  /** RFC 6184 single-time aggregation packet. */
  STAP_A: 24,
  STAP_B: 25,
  MTAP16: 26,
  MTAP24: 27,
  /** RFC 6184 fragmentation unit. */
  FU_A: 28,
  FU_B: 29,
} as const;

/** Mask of the type field in the NAL header byte. */
export const H264_NAL_TYPE_MASK = 0x1f;
/** Mask of the F and NRI fields in the NAL header byte. */
export const H264_NAL_F_NRI_MASK = 0xe0;
/** Mask of the NRI field alone. */
export const H264_NAL_NRI_MASK = 0x60;

/** The type of an H.264 NAL unit (0 for an empty buffer). */
export function h264NalType(nal: Uint8Array): number {
  return nal.length > 0 ? nal[0] & H264_NAL_TYPE_MASK : 0;
}

/** True for the slice types 1..5 (the NAL units that carry picture data). */
export function isH264Vcl(nal: Uint8Array): boolean {
  const t = h264NalType(nal);
  return t >= H264NalType.SLICE && t <= H264NalType.IDR;
}

/** True when the AVCC frame contains an IDR slice. Throws `ParseError` on malformed AVCC. */
export function isH264Keyframe(avcc: Buffer): boolean {
  return splitAvcc(avcc).some((n) => h264NalType(n) === H264NalType.IDR);
}
