/**
 * H.265 SDP and MSE parameters: the RFC 7798 7.1 fmtp (`sprop-vps`, `sprop-sps`, `sprop-pps`,
 * `profile-id`, `tier-flag`, `level-id`) and the ISO/IEC 14496-15 Annex E codec string
 * (`hvc1.1.6.L93.B0`).
 */
import { ParseError } from '../../core/errors.ts';
import { parseSpropNals } from '../param-sets.ts';
import { type H265ProfileTierLevel, parseH265Sps } from './sps.ts';

const PROFILE_SPACE_LETTERS = ['', 'A', 'B', 'C'];
const COMPATIBILITY_FLAG_BITS = 32;

/** Reverses the 32 bits of general_profile_compatibility_flags (Annex E: flag 0 becomes bit 0). */
function reverseBits32(v: number): number {
  let out = 0;
  for (let i = 0; i < COMPATIBILITY_FLAG_BITS; i++) out = out * 2 + (Math.floor(v / 2 ** i) % 2);
  return out;
}

/**
 * ISO/IEC 14496-15 Annex E codec string for MSE and HLS (`hvc1.1.6.L93.B0`): profile space and
 * idc, compatibility flags bit-reversed in hex, tier and level, and the constraint bytes with
 * trailing zero bytes left out (at least one is kept).
 */
export function h265CodecString(ptl: H265ProfileTierLevel, sampleEntry: 'hvc1' | 'hev1' = 'hvc1'): string {
  const constraints = [...ptl.constraintIndicatorFlags];
  while (constraints.length > 1 && constraints[constraints.length - 1] === 0) constraints.pop();
  return [
    sampleEntry,
    `${PROFILE_SPACE_LETTERS[ptl.profileSpace] ?? ''}${ptl.profileIdc}`,
    reverseBits32(ptl.profileCompatibilityFlags).toString(16).toUpperCase(),
    `${ptl.tierFlag ? 'H' : 'L'}${ptl.levelIdc}`,
    ...constraints.map((b) => b.toString(16).toUpperCase()),
  ].join('.');
}

/** Codec string straight from an SPS NAL unit. Throws `ParseError` when it does not parse. */
export function h265CodecStringFromSps(sps: Uint8Array): string {
  return h265CodecString(parseH265Sps(sps));
}

/**
 * The fmtp parameters of an H.265 stream with these parameter sets. `profile-id`, `tier-flag` and
 * `level-id` are added when the SPS parses.
 */
export function h265FmtpFromParams(
  vps: Uint8Array,
  sps: Uint8Array,
  pps: Uint8Array,
): Record<string, string> {
  const fmtp: Record<string, string> = {};
  try {
    const info = parseH265Sps(sps);
    fmtp['profile-id'] = String(info.profileIdc);
    fmtp['tier-flag'] = String(info.tierFlag);
    fmtp['level-id'] = String(info.levelIdc);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
  fmtp['sprop-vps'] = Buffer.from(vps).toString('base64');
  fmtp['sprop-sps'] = Buffer.from(sps).toString('base64');
  fmtp['sprop-pps'] = Buffer.from(pps).toString('base64');
  return fmtp;
}

/**
 * VPS, SPS and PPS from `sprop-vps`, `sprop-sps` and `sprop-pps` (the first of each list).
 * Throws `ParseError` on a value that is not base64.
 */
export function parseH265Sprop(fmtp: Record<string, string>): { vps?: Buffer; sps?: Buffer; pps?: Buffer } {
  const first = (key: string): Buffer | undefined => {
    const v = fmtp[key];
    return v ? parseSpropNals(v)[0] : undefined;
  };
  return { vps: first('sprop-vps'), sps: first('sprop-sps'), pps: first('sprop-pps') };
}
