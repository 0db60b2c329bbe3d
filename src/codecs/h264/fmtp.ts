/**
 * H.264 SDP and MSE parameters: the RFC 6184 8.1 fmtp (`profile-level-id`, `packetization-mode`,
 * `sprop-parameter-sets`) and the RFC 6381 3.3 codec string (`avc1.64001f`).
 */
import { ParseError } from '../../core/errors.ts';
import { parseSpropNals } from '../param-sets.ts';
import { H264NalType, h264NalType } from './nal.ts';

/** Bytes after the NAL header that make up profile-level-id: profile_idc, constraint flags, level_idc. */
const PROFILE_LEVEL_BYTES = 3;
const SPS_HEADER_BYTES = 1;

/**
 * The 6 hex digits of profile_idc, the constraint byte and level_idc from an SPS NAL unit
 * (`64001f`), as used by `profile-level-id` and the `avc1` codec string. Throws `ParseError` if
 * `sps` is shorter than 4 bytes.
 */
export function h264ProfileLevelId(sps: Uint8Array): string {
  ParseError.need('H264 SPS', sps, SPS_HEADER_BYTES, PROFILE_LEVEL_BYTES, 'profile-level-id');
  return Buffer.from(sps.subarray(SPS_HEADER_BYTES, SPS_HEADER_BYTES + PROFILE_LEVEL_BYTES)).toString('hex');
}

/** RFC 6381 codec string for MSE and HLS (`avc1.64001f`). Throws `ParseError` on a short SPS. */
export function h264CodecString(sps: Uint8Array): string {
  return `avc1.${h264ProfileLevelId(sps)}`;
}

/**
 * The fmtp parameters of an H.264 stream with these parameter sets, packetization mode 1
 * (single NAL, STAP-A, FU-A). Throws `ParseError` on a short SPS.
 */
export function h264FmtpFromParams(sps: Uint8Array, pps: Uint8Array): Record<string, string> {
  return {
    'packetization-mode': '1',
    'profile-level-id': h264ProfileLevelId(sps),
    'sprop-parameter-sets': `${Buffer.from(sps).toString('base64')},${Buffer.from(pps).toString('base64')}`,
  };
}

/** SPS and PPS from `sprop-parameter-sets` (the first of each). Throws `ParseError` on bad base64. */
export function parseSpropParameterSets(value: string): { sps?: Buffer; pps?: Buffer } {
  const out: { sps?: Buffer; pps?: Buffer } = {};
  for (const nal of parseSpropNals(value)) {
    const t = h264NalType(nal);
    if (t === H264NalType.SPS && !out.sps) out.sps = nal;
    else if (t === H264NalType.PPS && !out.pps) out.pps = nal;
  }
  return out;
}
