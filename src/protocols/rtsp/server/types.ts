/**
 * Public types of the RTSP server: its options and the counters it exposes. The implementation is
 * split by concern: `server.ts` (listener, limits, timers), `connection.ts` (one TCP connection's
 * request state machine), `reader.ts` / `reader-session.ts` (play), `publisher.ts` /
 * `publisher-session.ts` (record), `udp.ts` (the shared RTP/RTCP sockets), `sdp.ts`, `query.ts`.
 */
import type { StreamRegistry } from '../../../core/registry.ts';
import type { Logger } from '../../../log/logger.ts';
import type { RtspAccessControl } from './access.ts';
import type { RtspLoopback } from './loopback.ts';

export interface RtspServerOptions {
  /** TCP address to listen on; undefined = every interface. */
  host?: string;
  /** TCP port (8554 by default in the config; 0 = chosen by the OS). */
  port: number;
  /**
   * UDP ports of the RTP and RTCP sockets shared by every UDP session (MediaMTX's 8000/8001).
   * undefined disables UDP transport (SETUP with `client_port` gets 461). 0 = chosen by the OS.
   */
  udp?: { host?: string; rtpPort: number; rtcpPort: number };
  /** Who may read and publish what (the gateway's `auth:` users); replaces `username`/`password`. */
  access?: RtspAccessControl;
  /** With both set, every request except OPTIONS needs Basic or Digest credentials (401 otherwise). */
  username?: string;
  password?: string;
  /** The codec query used when a reader's URL has none (go2rtc's `rtsp.default_query`), e.g. `video&audio`. */
  defaultQuery?: string;
  /** Connections above this are closed at once. Default 1000. */
  maxConnections?: number;
  /** `Session: id;timeout=N`: a session with no request and no RTP/RTCP from the client for this long is closed (UDP play, record, or not yet playing). Default 60000 ms. */
  sessionTimeoutMs?: number;
  /** A connection that has sent no valid request this long after connecting is closed. Default 10000 ms. */
  firstRequestTimeoutMs?: number;
  /** RTCP sender report period per track, ms. Default 5000. */
  senderReportIntervalMs?: number;
  /** Requests a connection may have queued while one is being handled; more closes it. Default 16. */
  maxPendingRequests?: number;
  /** RTSPS: TLS with this PEM certificate and key on the TCP listener (pass `udp` undefined). */
  tls?: { cert: Buffer; key: Buffer };
}

export interface RtspServerContext {
  registry: StreamRegistry;
  log: Logger;
  /** Private publish routes of the gateway's own children (see loopback.ts); none when undefined. */
  loopback?: RtspLoopback;
}

/** Counters of one connection (also shown in a reader's `info().rtsp`). */
export interface ConnectionCounters {
  requests: number;
  /** Requests answered with 4xx/5xx because they were malformed (no CSeq, bad header, bad SDP...). */
  badRequests: number;
  /** Interleaved frames dropped: unknown channel, unparseable RTP or RTCP, wrong payload type. */
  droppedFrames: number;
}

/** Totals of the whole server, for logs and tests. */
export interface ServerCounters {
  connections: number;
  /** Connections refused because `maxConnections` was reached. */
  rejected: number;
  /** Connections or sessions closed for inactivity. */
  timeouts: number;
  badRequests: number;
  droppedFrames: number;
  /** UDP datagrams from an address that has no session, or that did not parse. */
  droppedDatagrams: number;
}

export const DEFAULTS = {
  maxConnections: 1000,
  sessionTimeoutMs: 60000,
  firstRequestTimeoutMs: 10000,
  senderReportIntervalMs: 5000,
  maxPendingRequests: 16,
};
