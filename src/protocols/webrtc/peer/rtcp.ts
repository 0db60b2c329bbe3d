/**
 * The RTCP a peer sends and the feedback it acts on: sender reports with the viewer's own counts
 * (RFC 3550 §6.4.1) and a CNAME (§6.5.1), PLI (RFC 4585 §6.3.1) to a publisher, and the NACK, PLI
 * and FIR a viewer's browser sends. Pure.
 */

import { parseRtcpCompound, serializeRtcp, serializeRtcpCompound } from '../../../rtp/rtcp.ts';
import { expandNackPairs } from '../../../rtp/rtcp-feedback.ts';
import { SdesItemType } from '../../../rtp/rtcp-types.ts';
import type { RtpTrackSender } from '../../rtp/track-sender.ts';

/** A feedback request from a receiver, by the SSRC of the media it is about. */
export type Feedback =
  | { type: 'nack'; mediaSsrc: number; sequences: number[] }
  | { type: 'keyframe'; mediaSsrc: number };

/** The NACK, PLI and FIR requests in a compound packet. Throws `ParseError` for a malformed one. */
export function readFeedback(packet: Buffer): Feedback[] {
  const out: Feedback[] = [];
  for (const p of parseRtcpCompound(packet)) {
    if (p.type === 'nack')
      out.push({ type: 'nack', mediaSsrc: p.mediaSsrc, sequences: expandNackPairs(p.pairs) });
    else if (p.type === 'pli') out.push({ type: 'keyframe', mediaSsrc: p.mediaSsrc });
    else if (p.type === 'fir') for (const e of p.entries) out.push({ type: 'keyframe', mediaSsrc: e.ssrc });
  }
  return out;
}

/**
 * SR + SDES for one viewer: the shared sender's clock mapping with the packet and payload octet
 * counts this viewer was sent (RFC 3550 §6.4.1 counts what this receiver could have received).
 */
export function viewerSenderReport(
  sender: RtpTrackSender,
  packets: number,
  octets: number,
  cname: string,
): Buffer {
  const sr = { ...sender.senderReport(), packetCount: packets >>> 0, octetCount: octets >>> 0 };
  const sdes = {
    type: 'sdes' as const,
    chunks: [{ source: sender.ssrc, items: [{ type: SdesItemType.CNAME, text: cname }] }],
  };
  return serializeRtcpCompound([sr, sdes]);
}

/** A picture loss indication asking `mediaSsrc` for a keyframe. */
export function pictureLoss(senderSsrc: number, mediaSsrc: number): Buffer {
  return serializeRtcp({ type: 'pli', senderSsrc, mediaSsrc });
}
