/**
 * From an offer to a plan: which section carries which track with which payload type, and which
 * sections are rejected and why. Pure; the viewer and publisher build their answers from it.
 *
 * Two-way audio: with `talk` (the stream has a back channel), the first audio section the browser
 * sends on takes its microphone: `sendrecv` when the section also plays a track, `recvonly` when
 * the stream has no audio for it (or the browser only sends there).
 */
import type { MediaRequest } from '../../../core/consumer.ts';
import { BadRequestError } from '../../../core/errors.ts';
import type { Codec } from '../../../core/media.ts';
import type { StreamTrack } from '../../../core/track.ts';
import { chooseReceiveCodec, chooseSendCodec } from './codec-select.ts';
import { describeOffered, type ParsedOffer, sectionUsable, supportedCodecs, WEBRTC_CODECS } from './offer.ts';
import type { OfferSection, SectionPlan } from './types.ts';

/** The viewer's requests to the stream: one per section it could play, codecs in the offer's order. */
export function viewerRequests(offer: ParsedOffer): MediaRequest[] {
  const requests: MediaRequest[] = [];
  for (const section of offer.sections) {
    if (!sectionUsable(section, 'viewer')) continue;
    const codecs = supportedCodecs(section);
    const seen = new Set<string>();
    const unique = codecs.filter((c) => !seen.has(c.name) && seen.add(c.name));
    if (section.media && unique.length > 0) requests.push({ kind: section.media.kind, codecs: unique });
  }
  if (requests.length === 0)
    throw new BadRequestError(`codecs not matched: ${noCodecReason(offer, 'viewer')}`);
  return requests;
}

/** Why no section of the offer could carry media: what it offered against what the gateway has. */
function noCodecReason(offer: ParsedOffer, role: 'viewer' | 'publisher'): string {
  const offered = offer.sections.map(describeOffered).join(', ');
  const ours = Object.entries(WEBRTC_CODECS)
    .map(([kind, names]) => `${kind}:${names.join(',')}`)
    .join(', ');
  return role === 'viewer' ? `${ours} => ${offered}` : `${offered} => ${ours}`;
}

function rejectReason(section: OfferSection, role: 'viewer' | 'publisher'): string | undefined {
  if (!section.media) return section.unusable ?? 'section not supported';
  if (!sectionUsable(section, role)) {
    return role === 'viewer'
      ? 'the browser does not receive on this section'
      : 'the browser does not send on this section';
  }
  if (supportedCodecs(section).length === 0) return `no supported codec in ${describeOffered(section)}`;
  return undefined;
}

/** The section that takes the browser's microphone, and the codec the browser sends it in. */
export interface TalkBinding {
  mid: string;
  /** The answer's codec for the section, with the payload type the browser's RTP carries. */
  codec: Codec;
  /** SSRCs the offer announced for the section (the browser may use another: then learned). */
  ssrcs: number[];
}

export interface ViewerBinding {
  track: StreamTrack;
  /** The payload type the browser expects for the track's codec. */
  payloadType: number;
  mid: string;
}

/**
 * Assigns the consumer's negotiated tracks to the offer's sections in order (each track once) and
 * chooses each section's payload type. `ssrcOf` gives the SSRC the gateway sends a track with.
 */
export function planViewer(
  offer: ParsedOffer,
  tracks: readonly StreamTrack[],
  ssrcOf: (track: StreamTrack) => number,
  streamId: string,
  talk = false,
): { plans: SectionPlan[]; bindings: ViewerBinding[]; talk?: TalkBinding } {
  const free = [...tracks];
  const plans: SectionPlan[] = [];
  const bindings: ViewerBinding[] = [];
  let talking: TalkBinding | undefined;
  /** The section as the microphone's only (`recvonly` from the gateway), or false. */
  const listenOnly = (section: OfferSection): boolean => {
    if (!talk || talking || !browserSendsAudio(section)) return false;
    const codec = chooseReceiveCodec(supportedCodecs(section));
    if (!codec) return false;
    plans.push({ section, codec, direction: 'recvonly' });
    talking = { mid: section.mid ?? String(section.index), codec, ssrcs: section.ssrcs };
    return true;
  };
  for (const section of offer.sections) {
    const reason = rejectReason(section, 'viewer');
    if (reason !== undefined) {
      if (!listenOnly(section)) plans.push({ section, rejected: reason });
      continue;
    }
    const offered = supportedCodecs(section);
    let chosen: { track: StreamTrack; codec: (typeof offered)[number] } | undefined;
    for (const track of free) {
      const codec = track.kind === section.media?.kind ? chooseSendCodec(offered, track.codec) : undefined;
      if (codec) {
        chosen = { track, codec };
        break;
      }
    }
    if (!chosen) {
      if (!listenOnly(section))
        plans.push({ section, rejected: `the stream has no track for ${describeOffered(section)}` });
      continue;
    }
    free.splice(free.indexOf(chosen.track), 1);
    const ssrc = ssrcOf(chosen.track);
    const mid = section.mid ?? String(section.index);
    const both = talk && !talking && browserSendsAudio(section);
    if (both) talking = { mid, codec: chosen.codec, ssrcs: section.ssrcs };
    plans.push({
      section,
      codec: chosen.codec,
      direction: both ? 'sendrecv' : 'sendonly',
      ssrc,
      msid: { stream: streamId, track: `${chosen.track.kind}-${mid}` },
    });
    bindings.push({ track: chosen.track, payloadType: chosen.codec.payloadType ?? 0, mid });
  }
  return talking ? { plans, bindings, talk: talking } : { plans, bindings };
}

/** An SRTP audio section the browser sends on (`sendrecv` or `sendonly` in its offer). */
function browserSendsAudio(section: OfferSection): boolean {
  const m = section.media;
  return (
    m !== undefined &&
    m.kind === 'audio' &&
    (m.direction === 'sendrecv' || m.direction === 'recvonly') &&
    /SAVP/i.test(section.protocol)
  );
}

/** The publisher's plan: each section the browser sends on gets the codec to ingest. */
export function planPublisher(offer: ParsedOffer): SectionPlan[] {
  const plans = offer.sections.map((section): SectionPlan => {
    const reason = rejectReason(section, 'publisher');
    const codec = reason === undefined ? chooseReceiveCodec(supportedCodecs(section)) : undefined;
    if (!codec) return { section, rejected: reason ?? 'no codec' };
    return { section, codec, direction: 'recvonly' };
  });
  if (plans.every((p) => p.rejected !== undefined)) {
    throw new BadRequestError(`codecs not matched: ${noCodecReason(offer, 'publisher')}`);
  }
  return plans;
}
