/**
 * What the connections of one RTSP server share (registry, options, UDP sockets, counters), and the
 * reply type the request handlers return.
 */
import type { StreamRegistry } from '../../../core/registry.ts';
import type { Logger } from '../../../log/logger.ts';
import { STATUS_TEXT } from '../message.ts';
import type { RtspAccessControl } from './access.ts';
import type { RtspLoopback } from './loopback.ts';
import type { ServerCounters } from './types.ts';
import type { UdpTransport } from './udp.ts';

/** Options with every default applied. */
export interface ResolvedOptions {
  defaultQuery: string | undefined;
  maxConnections: number;
  sessionTimeoutMs: number;
  firstRequestTimeoutMs: number;
  senderReportIntervalMs: number;
  maxPendingRequests: number;
}

export interface ServerShared {
  readonly registry: StreamRegistry;
  readonly log: Logger;
  readonly options: ResolvedOptions;
  /** undefined when UDP transport is disabled or its ports could not be bound. */
  readonly udp: UdpTransport | undefined;
  /** Asked before every request but OPTIONS; undefined = no authentication. */
  readonly access: RtspAccessControl | undefined;
  readonly counters: ServerCounters;
  readonly loopback: RtspLoopback | undefined;
}

/** A response a handler wants sent. `after` runs once it is queued on the socket (PLAY starts the flow there). */
export interface Reply {
  status: number;
  headers?: [string, string][];
  body?: Buffer;
  after?: () => void;
}

/** A handler's way out with a given status; the message goes to the debug log and the reason phrase. */
export class RtspStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RtspStatusError';
  }
}

export function reasonOf(status: number): string {
  return (
    STATUS_TEXT[status] ?? (status < 300 ? 'OK' : status < 500 ? 'Bad Request' : 'Internal Server Error')
  );
}
