/**
 * The SDP (RFC 8866) model: a faithful, line-level description of a session (`SessionDescription`)
 * and the typed views built on top of it (`SessionView`, `MediaView`). Pure types.
 */

/** `a=<key>` or `a=<key>:<value>`; RFC 8866 §5.13. Unknown attributes are kept in order. */
export interface SdpAttribute {
  key: string;
  /** Everything after the first `:`, trailing white space removed; undefined for a flag attribute. */
  value?: string;
}

/** `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`; RFC 8866 §5.2. */
export interface SdpOrigin {
  username: string;
  /** Kept as text: browsers use 64-bit ids that do not fit a JavaScript number. */
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** `c=<nettype> <addrtype> <connection-address>`; RFC 8866 §5.7. `address` may carry `/ttl[/n]`. */
export interface SdpConnection {
  netType: string;
  addrType: string;
  address: string;
}

/** `b=<bwtype>:<bandwidth>`; RFC 8866 §5.8. `bandwidth` in kbit/s for `AS` and `CT`. */
export interface SdpBandwidth {
  type: string;
  bandwidth: number;
}

/** `t=<start-time> <stop-time>` with its `r=` lines; RFC 8866 §5.9. Times are NTP seconds, as text. */
export interface SdpTiming {
  start: string;
  stop: string;
  repeats: string[];
}

/** One `m=` section with the lines that follow it; RFC 8866 §5.14. */
export interface SdpMediaDescription {
  /** `video`, `audio`, `application`, ... (Tapo cameras send `application/TP-LINK`). */
  kind: string;
  /** Transport port; 0 in most RTSP DESCRIBE answers and for a rejected WebRTC section. */
  port: number;
  /** The `/<number of ports>` suffix of the port, when present. */
  portCount?: number;
  /** `RTP/AVP`, `UDP/TLS/RTP/SAVPF`, ... */
  protocol: string;
  /** Payload formats as written: payload type numbers for RTP, anything for other protocols. */
  formats: string[];
  information?: string;
  connections: SdpConnection[];
  bandwidths: SdpBandwidth[];
  encryptionKey?: string;
  attributes: SdpAttribute[];
}

/** A whole session description; RFC 8866 §5. Fields appear in the RFC's order. */
export interface SessionDescription {
  /** `v=`, always 0. */
  version: number;
  origin: SdpOrigin;
  /** `s=`; serialized as `-` when empty. */
  sessionName: string;
  information?: string;
  uri?: string;
  emails: string[];
  phones: string[];
  connection?: SdpConnection;
  bandwidths: SdpBandwidth[];
  /** `t=` lines; serialized as `t=0 0` when empty, since RFC 8866 requires one. */
  timings: SdpTiming[];
  timeZones?: string;
  encryptionKey?: string;
  attributes: SdpAttribute[];
  medias: SdpMediaDescription[];
}

/** The SDP direction attributes; RFC 8866 §6.7. Absent means `sendrecv`. */
export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`; RFC 8866 §6.6. */
export interface SdpRtpmap {
  payloadType: number;
  /** Upper case (`H264`, `OPUS`, `MPEG4-GENERIC`); SDP names are case-insensitive. */
  encoding: string;
  /** Hz. */
  clockRate: number;
  /** Audio channel count, when given. */
  channels?: number;
}

/** `a=rtcp-fb:<pt or *> <type> [<parameter>]`; RFC 4585 §4.2. */
export interface SdpRtcpFb {
  payloadType: number | '*';
  type: string;
  parameter?: string;
}

/** `a=extmap:<id>[/<direction>] <uri> [<attributes>]`; RFC 8285 §8. */
export interface SdpExtmap {
  id: number;
  direction?: SdpDirection;
  uri: string;
  attributes?: string;
}

/** `a=ssrc:<ssrc> <attribute>[:<value>]`; RFC 5576 §4.1. */
export interface SdpSsrc {
  ssrc: number;
  attribute: string;
  value?: string;
}

/** `a=ssrc-group:<semantics> <ssrc>...`; RFC 5576 §4.2. */
export interface SdpSsrcGroup {
  semantics: string;
  ssrcs: number[];
}

/** `a=group:<semantics> <mid>...`; RFC 5888 §5 (BUNDLE: RFC 9143). */
export interface SdpGroup {
  semantics: string;
  mids: string[];
}

/** `a=fingerprint:<hash function> <fingerprint>`; RFC 8122 §5. */
export interface SdpFingerprint {
  /** Lower case: `sha-256`. */
  algorithm: string;
  /** Upper-case hex pairs separated by `:`. */
  value: string;
}

/** `a=setup`; RFC 4145 §4. */
export type SdpSetup = 'active' | 'passive' | 'actpass' | 'holdconn';

/** `a=candidate`; RFC 8839 §5.1. */
export interface SdpCandidate {
  foundation: string;
  /** 1 = RTP, 2 = RTCP. */
  component: number;
  /** Lower case: `udp`, `tcp`. */
  transport: string;
  priority: number;
  /** IP address or an mDNS `.local` name. */
  address: string;
  port: number;
  /** `host`, `srflx`, `prflx`, `relay`. */
  type: string;
  relatedAddress?: string;
  relatedPort?: number;
  /** `tcptype`, `generation`, `ufrag`, `network-id`, ... in order. */
  extensions: [string, string][];
}

/** Session-level facts, read from the session attributes. */
export interface SessionView {
  groups: SdpGroup[];
  /** The mids of the first `a=group:BUNDLE`, or empty. */
  bundle: string[];
  iceLite: boolean;
  control?: string;
  direction?: SdpDirection;
  iceUfrag?: string;
  icePwd?: string;
  iceOptions: string[];
  fingerprints: SdpFingerprint[];
  setup?: SdpSetup;
}

/**
 * One media section with its attributes parsed. ICE, DTLS and direction fields fall back to the
 * session level when the section does not set them (RFC 8839 §5.4, RFC 8122 §5, RFC 8866 §6.7).
 */
export interface MediaView {
  kind: string;
  port: number;
  protocol: string;
  formats: string[];
  /** The formats that are payload type numbers (0..127), in order of preference. */
  payloadTypes: number[];
  rtpmaps: Map<number, SdpRtpmap>;
  /** Keys lower case, values as written. */
  fmtps: Map<number, Record<string, string>>;
  control?: string;
  mid?: string;
  /** Undefined when neither the section nor the session has one (which means `sendrecv`). */
  direction?: SdpDirection;
  iceUfrag?: string;
  icePwd?: string;
  fingerprints: SdpFingerprint[];
  setup?: SdpSetup;
  candidates: SdpCandidate[];
  endOfCandidates: boolean;
  rtcpMux: boolean;
  rtcpRsize: boolean;
  rtcpFb: SdpRtcpFb[];
  extmaps: SdpExtmap[];
  ssrcs: SdpSsrc[];
  ssrcGroups: SdpSsrcGroup[];
  msid?: string;
}
