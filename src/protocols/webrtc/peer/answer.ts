/**
 * The gateway's SDP answer (JSEP, RFC 8829 §5.3) to a browser's offer: ICE-lite (RFC 8445 §2.5)
 * with every local candidate in the answer, DTLS server (`a=setup:passive`, RFC 8842), one BUNDLE
 * transport (RFC 9143) with rtcp-mux, and one payload type per accepted section. A section the
 * gateway cannot serve is rejected with port 0 and keeps its `a=mid` (RFC 8829 §5.3.1). Pure.
 */
import type { Codec } from '../../../core/media.ts';
import { formatFmtpParams, formatRtpmap } from '../../../sdp/attributes.ts';
import { serializeSdp } from '../../../sdp/serialize.ts';
import type { SdpAttribute, SdpMediaDescription, SdpRtcpFb, SessionDescription } from '../../../sdp/types.ts';
import type { SectionPlan } from './types.ts';

export interface LocalParams {
  ufrag: string;
  pwd: string;
  fingerprint: { algorithm: string; value: string };
  /** `candidate:` values (with or without that prefix). */
  candidates: string[];
  /** `o=` session id, decimal. */
  sessionId: string;
  /** RTCP CNAME of the gateway's streams in this session. */
  cname: string;
}

/**
 * Feedback the gateway handles: as sender it answers generic NACK (RFC 4585 §6.2.1), PLI (§6.3.1)
 * and FIR (RFC 5104 §4.3.1); as receiver it sends PLI only.
 */
function supportedFeedback(fb: SdpRtcpFb, direction: 'sendonly' | 'recvonly' | 'sendrecv'): boolean {
  if (fb.type === 'nack' && fb.parameter === 'pli') return true;
  if (direction === 'recvonly') return false;
  return (fb.type === 'nack' && fb.parameter === undefined) || (fb.type === 'ccm' && fb.parameter === 'fir');
}

function rtpmapName(codec: Codec): string {
  return codec.name === 'OPUS' ? 'opus' : codec.name;
}

function candidateValue(candidate: string): string {
  return candidate.replace(/^a=/, '').replace(/^candidate:/i, '');
}

/** The answer's text for `plans`, one per offer section in order. */
export function buildAnswer(plans: readonly SectionPlan[], local: LocalParams): string {
  const accepted = plans.flatMap((p) => (p.rejected === undefined ? [p.section.mid ?? ''] : []));
  const sdp: SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      sessionId: local.sessionId,
      sessionVersion: '2',
      netType: 'IN',
      addrType: 'IP4',
      address: '127.0.0.1',
    },
    sessionName: '-',
    emails: [],
    phones: [],
    bandwidths: [],
    timings: [{ start: '0', stop: '0', repeats: [] }],
    attributes: [
      { key: 'group', value: `BUNDLE ${accepted.join(' ')}` },
      { key: 'ice-lite' },
      { key: 'msid-semantic', value: ' WMS *' },
    ],
    medias: plans.map((plan) =>
      plan.rejected === undefined ? acceptedSection(plan, local) : rejectedSection(plan),
    ),
  };
  return serializeSdp(sdp);
}

function rejectedSection(plan: SectionPlan): SdpMediaDescription {
  const s = plan.section;
  return {
    kind: s.kind,
    port: 0,
    protocol: s.protocol,
    formats: s.formats.slice(0, 1),
    connections: [{ netType: 'IN', addrType: 'IP4', address: '0.0.0.0' }],
    bandwidths: [],
    attributes: [...(s.mid !== undefined ? [{ key: 'mid', value: s.mid }] : []), { key: 'inactive' }],
  };
}

function acceptedSection(
  plan: Extract<SectionPlan, { rejected?: undefined }>,
  local: LocalParams,
): SdpMediaDescription {
  const s = plan.section;
  const pt = plan.codec.payloadType ?? 0;
  const a: SdpAttribute[] = [{ key: 'rtcp', value: '9 IN IP4 0.0.0.0' }];
  for (const c of local.candidates) a.push({ key: 'candidate', value: candidateValue(c) });
  a.push({ key: 'end-of-candidates' });
  a.push({ key: 'ice-ufrag', value: local.ufrag }, { key: 'ice-pwd', value: local.pwd });
  a.push({ key: 'fingerprint', value: `${local.fingerprint.algorithm} ${local.fingerprint.value}` });
  a.push({ key: 'setup', value: 'passive' });
  a.push({ key: 'mid', value: s.mid ?? '' });
  a.push({ key: plan.direction });
  if (plan.msid) a.push({ key: 'msid', value: `${plan.msid.stream} ${plan.msid.track}` });
  a.push({ key: 'rtcp-mux' });
  if (s.rtcpRsize) a.push({ key: 'rtcp-rsize' });
  const codec = plan.codec;
  const channels =
    codec.name === 'OPUS' ? 2 : codec.channels && codec.channels > 1 ? codec.channels : undefined;
  a.push({ key: 'rtpmap', value: formatRtpmap(pt, rtpmapName(codec), codec.clockRate, channels) });
  const feedback = new Set<string>();
  for (const fb of s.rtcpFb) {
    if ((fb.payloadType !== pt && fb.payloadType !== '*') || !supportedFeedback(fb, plan.direction)) continue;
    feedback.add(`${pt} ${fb.type}${fb.parameter !== undefined ? ` ${fb.parameter}` : ''}`);
  }
  for (const value of feedback) a.push({ key: 'rtcp-fb', value });
  if (codec.fmtp && Object.keys(codec.fmtp).length > 0) {
    a.push({ key: 'fmtp', value: `${pt} ${formatFmtpParams(codec.fmtp)}` });
  }
  if (plan.ssrc !== undefined) {
    a.push({ key: 'ssrc', value: `${plan.ssrc} cname:${local.cname}` });
    if (plan.msid) a.push({ key: 'ssrc', value: `${plan.ssrc} msid:${plan.msid.stream} ${plan.msid.track}` });
  }
  return {
    kind: s.kind,
    port: 9,
    protocol: s.protocol,
    formats: [String(pt)],
    connections: [{ netType: 'IN', addrType: 'IP4', address: '0.0.0.0' }],
    bandwidths: [],
    attributes: a,
  };
}
