/**
 * H.265 NAL unit header and types (ITU-T H.265 7.3.1.2, Table 7-1; RFC 7798 4.4 for 48..50).
 *
 *   +---------------+---------------+
 *   |0|1|2|3|4|5|6|7|0|1|2|3|4|5|6|7|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |F|   Type    |  LayerId  | TID |
 *   +-------------+-----------------+
 */
import { splitAvcc } from '../avcc.ts';

/** NAL unit types used by mediagate. */
export const H265NalType = {
  TRAIL_N: 0,
  TRAIL_R: 1,
  /** First IRAP type: 16..21 start a GOP (keyframes). */
  BLA_W_LP: 16,
  BLA_W_RADL: 17,
  BLA_N_LP: 18,
  IDR_W_RADL: 19,
  IDR_N_LP: 20,
  CRA_NUT: 21,
  /** Last VCL type (22..31 are reserved VCL types). */
  RSV_VCL31: 31,
  VPS: 32,
  SPS: 33,
  PPS: 34,
  /** Access unit delimiter. */
  AUD: 35,
  EOS: 36,
  EOB: 37,
  FD: 38,
  PREFIX_SEI: 39,
  SUFFIX_SEI: 40,
  /** RFC 7798 aggregation packet. */
  AP: 48,
  /** RFC 7798 fragmentation unit. */
  FU: 49,
  /** RFC 7798 payload content information. */
  PACI: 50,
} as const;

/** Bytes of the NAL unit header. */
export const H265_NAL_HEADER_SIZE = 2;
/** Type field: bits 1..6 of the first header byte. */
export const H265_NAL_TYPE_MASK = 0x7e;
/** Bit position of the type field in the first header byte. */
export const H265_NAL_TYPE_SHIFT = 1;
/** F bit and the high bit of LayerId in the first header byte, kept when the type is replaced. */
export const H265_NAL_FIRST_BYTE_KEEP_MASK = 0x81;

/** The type of an H.265 NAL unit (0 for an empty buffer). */
export function h265NalType(nal: Uint8Array): number {
  return nal.length > 0 ? (nal[0] & H265_NAL_TYPE_MASK) >> H265_NAL_TYPE_SHIFT : 0;
}

/** True for VCL NAL units (types 0..31, the ones that carry picture data). */
export function isH265Vcl(nal: Uint8Array): boolean {
  return nal.length > 0 && h265NalType(nal) <= H265NalType.RSV_VCL31;
}

/** True for IRAP pictures (BLA, IDR, CRA: types 16..21), which a decoder can start from. */
export function isH265IrapNal(nal: Uint8Array): boolean {
  const t = h265NalType(nal);
  return nal.length > 0 && t >= H265NalType.BLA_W_LP && t <= H265NalType.CRA_NUT;
}

/** True when the AVCC frame contains an IRAP picture. Throws `ParseError` on malformed AVCC. */
export function isH265Keyframe(avcc: Buffer): boolean {
  return splitAvcc(avcc).some(isH265IrapNal);
}
