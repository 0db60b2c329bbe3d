/**
 * RtmpServer: the TCP listener publishers (OBS, ffmpeg, encoders) and players connect to. It owns
 * every connection and one timer for all of them, which closes connections that do not finish the
 * handshake and `connect` in time or stay idle (neither publishing nor playing): no per-connection
 * timers.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { TimeoutError } from '../../../core/errors.ts';
import type { StreamRegistry } from '../../../core/registry.ts';
import { labelHandle } from '../../../diag/handles.ts';
import type { Logger } from '../../../log/logger.ts';
import { RtmpConnection } from '../connection.ts';
import type { ChunkLimits } from '../types.ts';
import type { RtmpAccess } from './access.ts';
import { RtmpServerSession } from './session.ts';

export interface RtmpServerOptions {
  host: string | undefined;
  port: number;
  /** Connections at once; more are refused. Default 1000. */
  maxConnections?: number;
  /** Time for the handshake and `connect`, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Time a connection may stay without publishing or playing, ms. Default 60000. */
  idleTimeoutMs?: number;
  /** Chunk parser limits. */
  limits?: ChunkLimits;
}

export interface RtmpServerContext {
  registry: StreamRegistry;
  log: Logger;
  access: RtmpAccess;
}

const DEFAULT_MAX_CONNECTIONS = 1000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** A message stream's unfinished messages: a 4K keyframe fits many times. */
const DEFAULT_LIMITS: ChunkLimits = { maxMessageSize: 16 * 1024 * 1024, maxChunkStreams: 64 };
const TICK_MS = 1000;

export class RtmpServer {
  readonly #ctx: RtmpServerContext;
  readonly #opts: Required<Omit<RtmpServerOptions, 'host'>> & { host: string | undefined };
  readonly #server: Server;
  readonly #sessions = new Set<RtmpServerSession>();
  #timer: NodeJS.Timeout | undefined;
  #accepting = true;
  #listening = false;
  #serverClosed: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(ctx: RtmpServerContext, options: RtmpServerOptions) {
    this.#ctx = ctx;
    this.#opts = {
      host: options.host,
      port: options.port,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      limits: options.limits ?? DEFAULT_LIMITS,
    };
    this.#server = createServer((socket) => this.#accept(socket));
    this.#server.on('error', (err) => ctx.log.error({ err }, 'RTMP listener error'));
    labelHandle(this.#server, 'rtmp');
  }

  get address(): AddressInfo | undefined {
    const a = this.#server.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  get connectionCount(): number {
    return this.#sessions.size;
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#listening = true;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    return this.address!;
  }

  /** New connections are refused from now on; sessions in progress continue. */
  stopAccepting(): void {
    if (!this.#accepting) return;
    this.#accepting = false;
    if (this.#listening) this.#serverClosed = new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Idempotent: closes every session (its publishers and players first), the timer and the listener. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.stopAccepting();
    for (const session of [...this.#sessions]) session.close();
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#serverClosed;
  }

  #accept(socket: Socket): void {
    if (!this.#accepting) {
      socket.destroy();
      return;
    }
    if (this.#sessions.size >= this.#opts.maxConnections) {
      this.#ctx.log.debug({ remote: socket.remoteAddress }, 'RTMP connection refused: limit');
      socket.destroy();
      return;
    }
    const conn = new RtmpConnection(socket, 'server', this.#opts.limits);
    const session = new RtmpServerSession(conn, this.#ctx);
    this.#sessions.add(session);
    conn.once('close', () => this.#sessions.delete(session));
  }

  #tick(): void {
    const now = performance.now();
    for (const session of this.#sessions) {
      if (session.connectedAt === 0) {
        if (now - session.openedAt > this.#opts.connectTimeoutMs) {
          session.close(new TimeoutError(`no RTMP connect within ${this.#opts.connectTimeoutMs} ms`));
        }
      } else if (session.active) {
        session.lastActiveAt = now;
      } else if (now - session.lastActiveAt > this.#opts.idleTimeoutMs) {
        session.close(new TimeoutError(`RTMP connection idle for ${this.#opts.idleTimeoutMs} ms`));
      }
    }
  }
}
