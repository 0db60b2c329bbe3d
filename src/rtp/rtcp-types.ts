/**
 * The RTCP packet model: one interface per packet kind, joined in the `RtcpPacket` union that is
 * discriminated by `type`. Numbers are the unsigned wire values unless a field says otherwise.
 */

/** RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1). */
export const RtcpPacketType = {
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
  /** Transport-layer feedback (RFC 4585): generic NACK is FMT 1. */
  RTPFB: 205,
  /** Payload-specific feedback (RFC 4585, RFC 5104): PLI is FMT 1, FIR is FMT 4, REMB FMT 15. */
  PSFB: 206,
} as const;

/** Feedback message types (the FMT field) this layer parses. */
export const RtcpFeedbackFormat = {
  /** RTPFB generic NACK (RFC 4585 §6.2.1). */
  NACK: 1,
  /** PSFB picture loss indication (RFC 4585 §6.3.1). */
  PLI: 1,
  /** PSFB full intra request (RFC 5104 §4.3.1). */
  FIR: 4,
} as const;

/** One reception report block (RFC 3550 §6.4.1), as carried by SR and RR. */
export interface ReceptionReport {
  /** SSRC of the source this block reports on. */
  ssrc: number;
  /** Fraction of packets lost since the last report, fixed point: lost/expected × 256, 0-255. */
  fractionLost: number;
  /** Cumulative packets lost; signed 24-bit (duplicates can make it negative). */
  totalLost: number;
  /** Extended highest sequence number received: cycles × 65536 + highest sequence number. */
  highestSequence: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR from this source (`ntpMiddle32()`), 0 if none. */
  lastSenderReport: number;
  /** Delay since that SR in units of 1/65536 second. */
  delaySinceLastSenderReport: number;
}

/** Sender report (RFC 3550 §6.4.1). Profile-specific extensions after the blocks are dropped. */
export interface SenderReport {
  type: 'sr';
  ssrc: number;
  /** NTP timestamp, seconds since 1900-01-01 modulo 2^32 (see `ntp.ts`). */
  ntpSeconds: number;
  /** NTP timestamp, fraction of a second in units of 2^-32 s. */
  ntpFraction: number;
  /** The same instant as the NTP timestamp, in RTP timestamp units. */
  rtpTimestamp: number;
  /** Packets sent since the start of transmission, modulo 2^32. */
  packetCount: number;
  /** Payload octets sent since the start of transmission, modulo 2^32. */
  octetCount: number;
  /** At most 31 blocks. */
  reports: ReceptionReport[];
}

/** Receiver report (RFC 3550 §6.4.2). Profile-specific extensions after the blocks are dropped. */
export interface ReceiverReport {
  type: 'rr';
  ssrc: number;
  /** At most 31 blocks. */
  reports: ReceptionReport[];
}

/** SDES item types (RFC 3550 §6.5). */
export const SdesItemType = {
  CNAME: 1,
  NAME: 2,
  EMAIL: 3,
  PHONE: 4,
  LOC: 5,
  TOOL: 6,
  NOTE: 7,
  PRIV: 8,
} as const;

/** One SDES item; `text` is decoded as UTF-8 and at most 255 bytes long when encoded. */
export interface SdesItem {
  type: number;
  text: string;
}

/** The items describing one source. */
export interface SdesChunk {
  /** SSRC or CSRC the items describe. */
  source: number;
  items: SdesItem[];
}

/** Source description (RFC 3550 §6.5), at most 31 chunks. */
export interface SourceDescription {
  type: 'sdes';
  chunks: SdesChunk[];
}

/** Goodbye (RFC 3550 §6.6). */
export interface Goodbye {
  type: 'bye';
  /** At most 31 SSRC/CSRC identifiers. */
  sources: number[];
  /** Optional reason for leaving, at most 255 bytes as UTF-8. */
  reason?: string;
}

/** One PID/BLP pair of a generic NACK (RFC 4585 §6.2.1). */
export interface NackPair {
  /** Packet ID: the first lost sequence number. */
  pid: number;
  /** Bitmask of following lost packets: bit i set means `pid + i + 1` is lost too. */
  blp: number;
}

/** Generic NACK: RTPFB, FMT 1 (RFC 4585 §6.2.1). `nackToSequences()` expands the pairs. */
export interface GenericNack {
  type: 'nack';
  senderSsrc: number;
  mediaSsrc: number;
  pairs: NackPair[];
}

/** Picture loss indication: PSFB, FMT 1 (RFC 4585 §6.3.1). */
export interface PictureLossIndication {
  type: 'pli';
  senderSsrc: number;
  mediaSsrc: number;
}

/** One FIR request (RFC 5104 §4.3.1.1). */
export interface FirEntry {
  /** SSRC of the media sender that should send a decoder refresh point. */
  ssrc: number;
  /** 8-bit command sequence number, incremented per new request. */
  sequenceNumber: number;
}

/** Full intra request: PSFB, FMT 4 (RFC 5104 §4.3.1). `mediaSsrc` is 0 on the wire by the RFC. */
export interface FullIntraRequest {
  type: 'fir';
  senderSsrc: number;
  mediaSsrc: number;
  entries: FirEntry[];
}

/** Any other packet (APP, XR, REMB, TWCC, ...), kept as it came. */
export interface RawRtcp {
  type: 'raw';
  /** The 8-bit packet type (PT). */
  packetType: number;
  /** The 5-bit count / FMT field. */
  count: number;
  /** Everything after the 4-byte header, padding removed; from a parser a view into the input. */
  body: Buffer;
}

/** One RTCP packet of a compound packet, discriminated by `type`. */
export type RtcpPacket =
  | SenderReport
  | ReceiverReport
  | SourceDescription
  | Goodbye
  | GenericNack
  | PictureLossIndication
  | FullIntraRequest
  | RawRtcp;
