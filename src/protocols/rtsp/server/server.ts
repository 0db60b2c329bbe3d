/**
 * RtspServer: the TCP listener (and the shared UDP sockets) that readers and publishers connect to.
 * It owns every connection and one timer for the whole server, which closes idle connections and
 * sessions and sends the periodic RTCP sender reports: no per-connection or per-packet timers.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import {
  createServer as createTlsServer,
  type SecureContextOptions,
  type Server as TlsServer,
} from 'node:tls';
import type { StreamTrack } from '../../../core/track.ts';
import { RtspAuthenticator } from '../auth.ts';
import { singleUserAccess } from './access.ts';
import { RtspConnection } from './connection.ts';
import type { ResolvedOptions, ServerShared } from './context.ts';
import { DEFAULTS, type RtspServerContext, type RtspServerOptions, type ServerCounters } from './types.ts';
import { UdpTransport } from './udp.ts';

const MAX_TICK_MS = 1000;
const MIN_TICK_MS = 10;

export class RtspServer {
  readonly counters: ServerCounters = {
    connections: 0,
    rejected: 0,
    timeouts: 0,
    badRequests: 0,
    droppedFrames: 0,
    droppedDatagrams: 0,
  };
  readonly #ctx: RtspServerContext;
  readonly #opts: RtspServerOptions;
  readonly #resolved: ResolvedOptions;
  readonly #server: Server;
  readonly #connections = new Set<RtspConnection>();
  #shared: ServerShared | undefined;
  #udp: UdpTransport | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastReports = 0;
  #listening = false;
  #accepting = true;
  #closing: Promise<void> | undefined;
  #serverClosed: Promise<void> | undefined;

  constructor(ctx: RtspServerContext, options: RtspServerOptions) {
    this.#ctx = ctx;
    this.#opts = options;
    this.#resolved = {
      defaultQuery: options.defaultQuery,
      maxConnections: options.maxConnections ?? DEFAULTS.maxConnections,
      sessionTimeoutMs: options.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs,
      firstRequestTimeoutMs: options.firstRequestTimeoutMs ?? DEFAULTS.firstRequestTimeoutMs,
      senderReportIntervalMs: options.senderReportIntervalMs ?? DEFAULTS.senderReportIntervalMs,
      maxPendingRequests: options.maxPendingRequests ?? DEFAULTS.maxPendingRequests,
    };
    // A TLSSocket is a net.Socket: the connection code is the same for RTSP and RTSPS.
    this.#server = options.tls
      ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, (socket) => this.#accept(socket))
      : createServer((socket) => this.#accept(socket));
    this.#server.on('error', (err) => ctx.log.error({ err }, 'RTSP listener error'));
  }

  /** RTSPS: new connections use this certificate (SIGHUP reload). No-op without TLS. */
  setSecureContext(options: SecureContextOptions): void {
    if (this.#opts.tls) (this.#server as TlsServer).setSecureContext(options);
  }

  /** The TCP address once listening. */
  get address(): AddressInfo | undefined {
    const a = this.#server.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** The UDP RTP and RTCP ports, when UDP is on. */
  get udpPorts(): [number, number] | undefined {
    return this.#udp?.ports;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Live connections, for tests and the API. */
  connections(): RtspConnection[] {
    return [...this.#connections];
  }

  /** Binds UDP (a failure only turns UDP off, with a warning), then TCP (a failure rejects). */
  async listen(): Promise<AddressInfo> {
    const log = this.#ctx.log;
    const udpOpts = this.#opts.udp;
    if (udpOpts) {
      const udp = new UdpTransport(log);
      try {
        await udp.listen(udpOpts.host, udpOpts.rtpPort, udpOpts.rtcpPort);
        this.#udp = udp;
      } catch (err) {
        log.warn(
          { err, rtpPort: udpOpts.rtpPort, rtcpPort: udpOpts.rtcpPort },
          'RTSP UDP transport off: cannot bind',
        );
      }
    }
    const access =
      this.#opts.access ??
      (this.#opts.username !== undefined && this.#opts.username !== ''
        ? singleUserAccess(new RtspAuthenticator(this.#opts.username, this.#opts.password ?? ''))
        : undefined);
    this.#shared = {
      registry: this.#ctx.registry,
      log,
      options: this.#resolved,
      udp: this.#udp,
      access,
      counters: this.counters,
      loopback: this.#ctx.loopback,
    };
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(this.#opts.port, this.#opts.host, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.#udp?.close();
      this.#udp = undefined;
      throw err;
    }
    this.#listening = true;
    const r = this.#resolved;
    const tick = Math.min(r.firstRequestTimeoutMs, r.sessionTimeoutMs, r.senderReportIntervalMs) / 4;
    this.#timer = setInterval(() => this.#tick(), Math.max(MIN_TICK_MS, Math.min(MAX_TICK_MS, tick)));
    return this.address!;
  }

  /** New connections are refused from now on; sessions in progress continue. */
  stopAccepting(): void {
    if (!this.#accepting) return;
    this.#accepting = false;
    if (!this.#listening) return;
    this.#serverClosed = new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Idempotent: closes every session and connection, then the UDP sockets, the timer and the listener. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.stopAccepting();
    for (const conn of [...this.#connections]) conn.close();
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#udp?.close();
    await this.#serverClosed;
  }

  #accept(socket: Socket): void {
    if (!this.#accepting || !this.#shared) {
      socket.destroy();
      return;
    }
    if (this.#connections.size >= this.#resolved.maxConnections) {
      this.counters.rejected++;
      this.#ctx.log.debug(
        { remote: socket.remoteAddress, max: this.#resolved.maxConnections },
        'RTSP connection refused: limit',
      );
      socket.destroy();
      return;
    }
    this.counters.connections++;
    const conn = new RtspConnection(socket, this.#shared);
    this.#connections.add(conn);
    socket.once('close', () => this.#connections.delete(conn));
  }

  #tick(): void {
    const now = performance.now();
    if (this.#udp) this.counters.droppedDatagrams = this.#udp.unknown;
    for (const conn of this.#connections) conn.sweep(now);
    if (now - this.#lastReports < this.#resolved.senderReportIntervalMs) return;
    this.#lastReports = now;
    const cache = new Map<StreamTrack, Buffer>();
    for (const conn of this.#connections) conn.sendReports(cache);
  }
}
