/**
 * The parts of SETUP (RFC 2326 §10.4) shared by readers and publishers: choosing a transport the
 * server can do from the client's `Transport` alternatives, and the interface a session uses to
 * route interleaved channels and UDP ports through its connection.
 */
import type { Socket } from 'node:net';
import { ParseError } from '../../../core/errors.ts';
import { parseTransports, type TransportSpec } from '../transport.ts';
import { RtspStatusError, type ServerShared } from './context.ts';
import type { ConnectionCounters } from './types.ts';
import type { UdpRoute } from './udp.ts';

/** What a session needs from the connection it runs on. */
export interface SessionHost {
  readonly shared: ServerShared;
  readonly socket: Socket;
  readonly counters: ConnectionCounters;
  /** The peer's address, kept after the socket is gone. */
  readonly remoteAddress: string;
  readonly userAgent: string | undefined;
  readonly closed: boolean;
  /** The session id, created on first call (the first SETUP). */
  sessionId(): string;
  /** Routes an interleaved channel to `handler` until the session ends. */
  routeChannel(channel: number, handler: (data: Buffer) => void): void;
  channelFree(channel: number): boolean;
  /** Routes datagrams from the peer's `ports` until the session ends. */
  routeUdp(ports: [number, number], route: UdpRoute): void;
}

/**
 * The first alternative of a `Transport` header the server supports: unicast TCP interleaved, or
 * unicast UDP with `client_port` when UDP is enabled. Throws RtspStatusError 461 otherwise.
 */
export function chooseTransport(value: string | undefined, udp: boolean): TransportSpec {
  if (!value) throw new RtspStatusError(461, 'SETUP without a Transport header');
  let specs: TransportSpec[];
  try {
    specs = parseTransports(value);
  } catch (err) {
    if (err instanceof ParseError) throw new RtspStatusError(461, err.message);
    throw err;
  }
  for (const spec of specs) {
    if (spec.multicast) continue;
    if (spec.protocol === 'tcp') return spec;
    if (udp && spec.clientPort && spec.clientPort[0] > 0 && spec.clientPort[1] > 0) return spec;
  }
  throw new RtspStatusError(
    461,
    `no supported transport in "${value.slice(0, 120)}"${udp ? '' : ' (UDP is off)'}`,
  );
}

/** The interleaved channels to use: the client's pair if free, else the next free even pair. */
export function claimChannels(host: SessionHost, wanted: [number, number] | undefined): [number, number] {
  if (wanted && wanted[0] !== wanted[1] && host.channelFree(wanted[0]) && host.channelFree(wanted[1])) {
    return wanted;
  }
  for (let ch = 0; ch < 255; ch += 2) {
    if (host.channelFree(ch) && host.channelFree(ch + 1)) return [ch, ch + 1];
  }
  throw new RtspStatusError(461, 'no free interleaved channels');
}
