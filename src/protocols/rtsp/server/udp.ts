/**
 * The UDP side of the RTSP server (RFC 2326 §10.12 "RTP/AVP" transport): one RTP and one RTCP
 * socket shared by every session, as MediaMTX does on :8000/:8001. Datagrams are routed to the
 * session that registered the sender's address and port; anything else is dropped and counted, and
 * the server only ever sends to the address of the session's own RTSP connection (no `destination=`),
 * so it cannot be used to flood a third party.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from '../../../log/logger.ts';

/** Receives the datagrams of one registered peer port. */
export interface UdpRoute {
  onDatagram(data: Buffer, rtcp: boolean): void;
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are the same peer. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function key(address: string, port: number): string {
  return `${plainAddress(address)}:${port}`;
}

export class UdpTransport {
  /** Datagrams from an unregistered peer. */
  unknown = 0;
  #rtp: Socket | undefined;
  #rtcp: Socket | undefined;
  #ipv6 = false;
  readonly #routes = new Map<string, UdpRoute>();
  #closed = false;

  constructor(private readonly log: Logger) {}

  /** Ports bound, once listening. */
  get ports(): [number, number] {
    return [this.#rtp?.address().port ?? 0, this.#rtcp?.address().port ?? 0];
  }

  /** Binds both sockets; on failure both are closed and the error is thrown. */
  async listen(host: string | undefined, rtpPort: number, rtcpPort: number): Promise<void> {
    try {
      await this.#bindBoth(host, rtpPort, rtcpPort);
    } catch (err) {
      // Every interface: dual-stack if the host has IPv6, else IPv4 only.
      if (host !== undefined || (err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw err;
      await this.#bindBoth('0.0.0.0', rtpPort, rtcpPort);
    }
  }

  async #bindBoth(host: string | undefined, rtpPort: number, rtcpPort: number): Promise<void> {
    this.#ipv6 = host === undefined || host.includes(':');
    const bindHost = host ?? '::';
    try {
      this.#rtp = await this.#bind(bindHost, rtpPort, false);
      this.#rtcp = await this.#bind(bindHost, rtcpPort, true);
    } catch (err) {
      this.#rtp?.close();
      this.#rtp = undefined;
      throw err;
    }
  }

  #bind(host: string, port: number, rtcp: boolean): Promise<Socket> {
    const socket = createSocket({ type: this.#ipv6 ? 'udp6' : 'udp4' });
    socket.on('message', (data: Buffer, rinfo: RemoteInfo) => this.#onMessage(data, rinfo, rtcp));
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => {
        socket.close();
        reject(err);
      };
      socket.once('error', failed);
      socket.bind(port, host, () => {
        socket.off('error', failed);
        socket.on('error', (err) => this.log.debug({ err }, 'RTSP UDP socket error'));
        resolve(socket);
      });
    });
  }

  /** Routes the datagrams from `address:rtpPort` and `address:rtcpPort` to `route`. */
  register(address: string, ports: readonly [number, number], route: UdpRoute): void {
    this.#routes.set(key(address, ports[0]), route);
    this.#routes.set(key(address, ports[1]), route);
  }

  unregister(address: string, ports: readonly [number, number], route: UdpRoute): void {
    for (const port of ports) {
      const k = key(address, port);
      if (this.#routes.get(k) === route) this.#routes.delete(k);
    }
  }

  /** Sends from the RTP socket (rtcp false) or the RTCP one. Errors (unreachable peer) are ignored. */
  send(data: Buffer, address: string, port: number, rtcp: boolean): void {
    const socket = rtcp ? this.#rtcp : this.#rtp;
    if (!socket || this.#closed) return;
    const plain = plainAddress(address);
    // A dual-stack socket reaches IPv4 peers through their IPv4-mapped address.
    const to = this.#ipv6 && !plain.includes(':') ? `::ffff:${plain}` : plain;
    socket.send(data, port, to);
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#routes.clear();
    for (const socket of [this.#rtp, this.#rtcp]) {
      try {
        socket?.close();
      } catch {
        // not bound yet or already closed
      }
    }
    this.#rtp = undefined;
    this.#rtcp = undefined;
  }

  #onMessage(data: Buffer, rinfo: RemoteInfo, rtcp: boolean): void {
    const route = this.#routes.get(key(rinfo.address, rinfo.port));
    if (!route) {
      this.unknown++;
      return;
    }
    route.onDatagram(data, rtcp);
  }
}
