/**
 * Public types of the WebRTC peer layer: what it needs from a transport (ICE + DTLS + SRTP, see
 * `../transport/`), and the negotiated plan a session is built from. Pure types.
 */
import type { SafeEmitter } from '../../../core/emitter.ts';
import type { Codec, MediaKind } from '../../../core/media.ts';
import type { SdpFingerprint, SdpRtcpFb } from '../../../sdp/types.ts';
import type { WebRtcTransportEvents } from '../transport/types.ts';

/** Which candidates a session offers: both, or only one protocol (`?transport=tcp`). */
export type TransportPolicy = 'any' | 'udp' | 'tcp';

/** The transport's events (`connected`, `rtp`, `rtcp`, `close` once, ...). */
export type PeerTransportEvents = WebRtcTransportEvents;

/**
 * The part of `WebRtcTransport` the peers use; a fake implements it in unit tests. `close()` is
 * idempotent and sends a DTLS close_notify while the socket is still up.
 */
export interface PeerTransport extends SafeEmitter<PeerTransportEvents> {
  readonly id: string | number;
  readonly localUfrag: string;
  readonly localPwd: string;
  readonly localFingerprint: { algorithm: string; value: string };
  /** `new`, `connecting`, `connected`, `closed`. */
  readonly state?: string;
  /** The path ICE selected, once a check succeeded. */
  readonly selected?: { protocol: 'udp' | 'tcp'; address: string; port: number };
  /** SRTP-protects into a new buffer and sends; never modifies `packet`. */
  sendRtp(packet: Buffer): void;
  sendRtcp(packet: Buffer): void;
  /** Bytes accepted but not yet written to the socket (TCP); 0 over UDP. */
  backlogBytes(): number;
  close(reason?: Error): void;
}

/** Creates the transport of one session from the offer's ICE and DTLS parameters. */
export interface PeerTransportFactory {
  createTransport(params: {
    remoteUfrag: string;
    remotePwd: string;
    remoteFingerprints: SdpFingerprint[];
    transports: TransportPolicy;
  }): PeerTransport;
  /** The local candidates (`candidate:` values, as in SDP) for a policy. */
  candidates(transports: TransportPolicy): string[];
}

/** The gateway's role in a session: it sends a stream to a viewer or takes one from a publisher. */
export type PeerRole = 'viewer' | 'publisher';

/** One media section of an offer, as read by `parseOffer`. */
export interface OfferSection {
  /** Index of the `m=` line. */
  index: number;
  /** `video`, `audio`, `application`, ... as written. */
  kind: string;
  mid: string | undefined;
  protocol: string;
  formats: string[];
  /** Why the section cannot carry media (then `media` is undefined). */
  unusable?: string;
  /** The engine's view of the section (gateway's direction) or undefined when it cannot carry media. */
  media: { kind: MediaKind; direction: 'sendonly' | 'recvonly' | 'sendrecv'; codecs: Codec[] } | undefined;
  /** Every encoding offered (`VP8`, `H264`, `RTX`...), upper case, once each, for errors. */
  encodings: string[];
  rtcpFb: SdpRtcpFb[];
  rtcpRsize: boolean;
  /** Primary SSRCs the browser announced for this section (RTX/FEC members of groups left out). */
  ssrcs: number[];
}

/** What the answer says for one section: the codec chosen, or rejected (port 0) with why. */
export type SectionPlan =
  | {
      section: OfferSection;
      /** The offer's codec, its payload type and fmtp as offered. */
      codec: Codec;
      /** `sendrecv`: a viewer's audio section that also takes the browser's microphone (two-way audio). */
      direction: 'sendonly' | 'recvonly' | 'sendrecv';
      /** SSRC the gateway sends with (viewer), for `a=ssrc`. */
      ssrc?: number;
      /** `a=msid` stream and track ids (viewer). */
      msid?: { stream: string; track: string };
      rejected?: undefined;
    }
  | { section: OfferSection; rejected: string };
