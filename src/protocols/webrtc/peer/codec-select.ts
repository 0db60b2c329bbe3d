/**
 * Picking one payload type of an offer section: for a viewer the one that best fits the source's
 * codec, for a publisher the one the gateway ingests best. Pure.
 *
 * H.264 (RFC 6184 §8.1): the gateway's payloader fragments with FU-A, so `packetization-mode=1`
 * comes first; then a `profile-level-id` equal to the source's, then the same profile_idc (the
 * first byte), then constrained baseline `42e01f`, which every decoder takes. Browsers send
 * `level-asymmetry-allowed=1` and decode any level, so the level is not compared.
 */
import type { Codec } from '../../../core/media.ts';
import { codecMatches } from '../../../core/negotiate.ts';

const CONSTRAINED_BASELINE = '42e01f';

function h264Score(offered: Codec, source: Codec | undefined): number {
  const fmtp = offered.fmtp ?? {};
  const offeredProfile = (fmtp['profile-level-id'] ?? '42001f').toLowerCase();
  const sourceProfile = source?.fmtp?.['profile-level-id']?.toLowerCase();
  let score = fmtp['packetization-mode'] === '1' ? 100 : 0;
  if (sourceProfile && offeredProfile === sourceProfile) score += 30;
  else if (sourceProfile && offeredProfile.slice(0, 2) === sourceProfile.slice(0, 2)) score += 20;
  if (offeredProfile === CONSTRAINED_BASELINE) score += 5;
  return score;
}

/** The best of `candidates` by `score`, the earliest on a tie (the offer's preference). */
function best(candidates: Codec[], score: (c: Codec) => number): Codec | undefined {
  let winner: Codec | undefined;
  let top = -1;
  for (const c of candidates) {
    const s = score(c);
    if (s > top) {
      top = s;
      winner = c;
    }
  }
  return winner;
}

/** The offered codec to send `source` with, or undefined when the section has none that fits. */
export function chooseSendCodec(offered: readonly Codec[], source: Codec): Codec | undefined {
  const fits = offered.filter((c) => codecMatches(c, source));
  return source.name === 'H264' ? best(fits, (c) => h264Score(c, source)) : fits[0];
}

/**
 * The offered codec a publisher should send: H.264 by the rules above (no source to match, so
 * constrained baseline wins among packetization-mode 1), Opus before G.711, otherwise the offer's order.
 */
export function chooseReceiveCodec(offered: readonly Codec[]): Codec | undefined {
  const h264 = offered.filter((c) => c.name === 'H264');
  if (h264.length > 0) return best(h264, (c) => h264Score(c, undefined));
  return offered.find((c) => c.name === 'OPUS') ?? offered[0];
}
