/**
 * Public types of the WebRTC transport layer: server options, per-transport options, events and
 * counters.
 */
import type { Logger } from '../../../log/logger.ts';
import type { SrtpProfile } from '../srtp/index.ts';
import type { DataChannel } from './datachannel.ts';

/** Which candidate protocols a peer may use. */
export type TransportProtocols = 'any' | 'udp' | 'tcp';

export interface WebRtcServerOptions {
  /** Address to bind both sockets to; default `0.0.0.0` (IPv4). An IPv6 address binds IPv6. */
  host?: string;
  /** UDP port; 0 = ephemeral. */
  udpPort: number;
  /** TCP port; 0 = ephemeral. Default: the UDP port's number (the bound one when ephemeral). */
  tcpPort?: number;
  /**
   * Extra candidates from config `webrtc.candidates`: `ip:port`, `[ipv6]:port` or a bare `ip`
   * (then the listening ports are used). Each becomes a UDP and a TCP candidate.
   */
  announcedAddresses?: string[];
  log: Logger;
  /** No valid STUN request for this long closes a transport (RFC 7675). Default 30 000 ms. */
  consentTimeoutMs?: number;
  /** A transport not connected (ICE + DTLS) after this long is closed. Default 30 000 ms. */
  connectTimeoutMs?: number;
  /** A TCP connection without a valid STUN request after this long is closed. Default 5 000 ms. */
  tcpStunTimeoutMs?: number;
  /**
   * TCP connections that have not yet sent a valid STUN request, at most. At the limit a new
   * connection closes the oldest such one (a real peer authenticates within a round trip, so a
   * flood of idle connections cannot lock it out). Default 256.
   */
  maxPendingTcpConnections?: number;
  /** Period of the one timer that sweeps the timeouts above. Default 1 000 ms. */
  sweepIntervalMs?: number;
  /** Largest RFC 4571 frame accepted on TCP; a longer one closes the connection. Default 18 432 bytes. */
  maxTcpFrameSize?: number;
  /** SRTP profiles offered in DTLS, in order of preference. Default: AES-GCM-128, then AES-CM-80. */
  srtpProfiles?: SrtpProfile[];
  /** How long `close()` waits for TCP peers to close their side before destroying. Default 1 000 ms. */
  closeDeadlineMs?: number;
}

export interface CreateTransportOptions {
  /** The peer's `a=ice-ufrag`. */
  remoteUfrag: string;
  /** The peer's `a=ice-pwd` (kept for a full-ICE future; ICE-lite never sends checks). */
  remotePwd: string;
  /** The peer's `a=fingerprint`s; its DTLS certificate must match one of them. */
  remoteFingerprints: { algorithm: string; value: string }[];
  /** Paths the peer may select; STUN over another protocol is refused. */
  transports: TransportProtocols;
  /** `a=sctp-port` of both sides. Default 5000. */
  sctpPort?: number;
  /** Largest DataChannel message we send, bytes (`a=max-message-size` of the peer). Default 262 144. */
  maxMessageSize?: number;
}

export type TransportState = 'new' | 'connecting' | 'connected' | 'closed';

export interface SelectedPath {
  protocol: 'udp' | 'tcp';
  address: string;
  port: number;
}

export type WebRtcTransportEvents = {
  /** DTLS is up and the SRTP keys are in place. */
  connected: [];
  /** A decrypted RTP packet. */
  rtp: [packet: Buffer];
  /** A decrypted RTCP compound packet. */
  rtcp: [packet: Buffer];
  /** The peer opened a DataChannel. */
  datachannel: [channel: DataChannel];
  /** Once; undefined when closed by `close()` without a reason. */
  close: [reason: Error | undefined];
  /** Private: tells the server to drop its routes (mediasoup's `@close`). */
  '@close': [];
};

/** Packet counters of one transport. */
export interface TransportCounters {
  rtpIn: number;
  rtpOut: number;
  rtcpIn: number;
  rtcpOut: number;
  /** Bytes received on any path (STUN, DTLS, SRTP). */
  bytesIn: number;
  /** Bytes sent on any path. */
  bytesOut: number;
  /** Outgoing RTP/RTCP dropped: not connected, not RTP, or the socket was gone. */
  dropped: number;
  /** Incoming SRTP/SRTCP that failed authentication, replay or parsing. */
  srtpErrors: number;
  /** Valid STUN binding requests. */
  stunIn: number;
  /** STUN responses sent. */
  stunOut: number;
  dtlsIn: number;
  dtlsOut: number;
  /** Incoming RTP/RTCP before the keys were there. */
  earlyMedia: number;
}

/** Counters of the server's shared sockets. */
export interface ServerCounters {
  udpIn: number;
  tcpFramesIn: number;
  /** Binding requests for a ufrag we do not know. */
  stunUnknownUsername: number;
  /** Binding requests that failed integrity, fingerprint or format checks. */
  stunRejected: number;
  /** STUN-looking packets that did not parse, and STUN that is not a Binding request. */
  stunMalformed: number;
  /** Packets of no RFC 7983 range, or from an address/connection no transport owns. */
  unrouted: number;
  tcpAccepted: number;
  /** TCP connections closed for broken framing, STUN timeout, or after `stopAccepting()`. */
  tcpRejected: number;
  /** TCP connections closed unauthenticated to make room under `maxPendingTcpConnections`. */
  tcpEvicted: number;
}
