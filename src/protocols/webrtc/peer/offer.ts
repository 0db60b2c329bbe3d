/**
 * Reading a browser's offer (JSEP, RFC 8829) for the gateway as answerer: the ICE and DTLS
 * parameters, and each media section with the codecs the gateway can carry, in the offer's order.
 * Anything the gateway cannot answer is a `BadRequestError` that says why.
 */
import { BadRequestError, errorMessage } from '../../../core/errors.ts';
import type { Codec, CodecName, MediaKind } from '../../../core/media.ts';
import { sdpToMedias } from '../../../sdp/media.ts';
import { parseSdp } from '../../../sdp/parse.ts';
import type { SdpFingerprint, SessionDescription } from '../../../sdp/types.ts';
import { viewMedia, viewSession } from '../../../sdp/view.ts';
import type { OfferSection, PeerRole } from './types.ts';

/** Codecs the gateway sends to and takes from browsers, per kind. */
export const WEBRTC_CODECS: Record<MediaKind, readonly CodecName[]> = {
  video: ['H264'],
  audio: ['OPUS', 'PCMA', 'PCMU'],
};

export interface ParsedOffer {
  sdp: SessionDescription;
  iceUfrag: string;
  icePwd: string;
  fingerprints: SdpFingerprint[];
  sections: OfferSection[];
}

/**
 * Parses and checks an offer. Throws `BadRequestError` for text that is not SDP, an offer without
 * ICE credentials or DTLS fingerprint, one that asks the gateway to be the DTLS client
 * (`a=setup:passive`), or one without any media section.
 */
export function parseOffer(text: string | Buffer): ParsedOffer {
  let sdp: SessionDescription;
  try {
    sdp = parseSdp(text);
  } catch (err) {
    throw new BadRequestError(`invalid SDP offer: ${errorMessage(err)}`, { cause: err });
  }
  if (sdp.medias.length === 0) throw new BadRequestError('invalid SDP offer: no media section (m=)');
  const session = viewSession(sdp);
  const byMid = new Map(sdpToMedias(sdp, { perspective: 'peer' }).map((m) => [m.id, m]));
  const first = viewMedia(sdp.medias[0], session);
  const iceUfrag = first.iceUfrag;
  const icePwd = first.icePwd;
  if (!iceUfrag || !icePwd) throw new BadRequestError('invalid SDP offer: missing a=ice-ufrag or a=ice-pwd');
  if (first.fingerprints.length === 0) throw new BadRequestError('invalid SDP offer: missing a=fingerprint');
  if (first.setup === 'passive') {
    throw new BadRequestError('invalid SDP offer: a=setup:passive (the gateway is always DTLS server)');
  }
  const sections = sdp.medias.map((md, index): OfferSection => {
    const view = viewMedia(md, session);
    const media = view.mid !== undefined ? byMid.get(view.mid) : undefined;
    const grouped = new Set(view.ssrcGroups.flatMap((g) => g.ssrcs.slice(1)));
    const ssrcs = [...new Set(view.ssrcs.map((s) => s.ssrc))].filter((s) => !grouped.has(s));
    const encodings = [
      ...new Set(view.payloadTypes.map((pt) => view.rtpmaps.get(pt)?.encoding ?? String(pt))),
    ];
    let unusable: string | undefined;
    if (!media) {
      if (md.kind !== 'video' && md.kind !== 'audio') unusable = `${md.kind} section not supported`;
      else if (view.direction === 'inactive') unusable = 'the section is inactive';
      else if (md.port === 0) unusable = 'the offer rejected the section';
      else unusable = `no supported codec in ${md.kind}:${encodings.join(',') || 'none'}`;
    }
    return {
      index,
      kind: md.kind,
      mid: view.mid,
      protocol: md.protocol,
      formats: md.formats,
      unusable,
      media: media && { kind: media.kind, direction: media.direction, codecs: media.codecs },
      encodings,
      rtcpFb: view.rtcpFb,
      rtcpRsize: view.rtcpRsize,
      ssrcs,
    };
  });
  for (const s of sections) {
    if (s.mid === undefined)
      throw new BadRequestError(`invalid SDP offer: media section ${s.index} has no a=mid`);
  }
  return { sdp, iceUfrag, icePwd, fingerprints: first.fingerprints, sections };
}

/** Whether the section can carry media in the gateway's `role` (a viewer's section must be received by the browser). */
export function sectionUsable(section: OfferSection, role: PeerRole): boolean {
  const m = section.media;
  if (!m || !/SAVP/i.test(section.protocol)) return false;
  return role === 'viewer' ? m.direction !== 'recvonly' : m.direction !== 'sendonly';
}

/** The section's codecs the gateway supports, in the offer's order (several H.264 profiles stay). */
export function supportedCodecs(section: OfferSection): Codec[] {
  const m = section.media;
  if (!m) return [];
  const names = WEBRTC_CODECS[m.kind];
  return m.codecs.filter((c) => names.includes(c.name));
}

/** `video:VP8,H264` of what a section offers, for errors. */
export function describeOffered(section: OfferSection): string {
  return `${section.kind}:${section.encodings.join(',') || 'none'}`;
}
