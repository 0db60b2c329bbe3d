/**
 * PeerSession: one browser's WebRTC session, the owner of its transport and of its endpoint (a
 * viewer Consumer or a publisher SourceConnection). Whoever ends it first (the browser's close
 * alert, consent expiry, WHEP DELETE, the WebSocket closing, the stream being deleted, shutdown),
 * `close()` runs once: the endpoint first, so nothing writes into a closed transport, then the
 * transport, whose DTLS close alert can still leave. Calling it again, or from inside its own
 * close events, is a no-op (go2rtc #1330, "close of closed channel", was exactly that race).
 */
import { randomUUID } from 'node:crypto';
import { SafeEmitter } from '../../../core/emitter.ts';
import type { PeerRole, PeerTransport } from './types.ts';

/** The session's media side: WebRtcViewer or WebRtcPublisher. */
export interface PeerEndpoint extends SafeEmitter<{ close: [error: Error | undefined] }> {
  readonly closed: boolean;
  start(transport: PeerTransport): void;
  handleRtp(packet: Buffer): void;
  handleRtcp(packet: Buffer): void;
  close(error?: Error): void;
}

export interface PeerSessionInfo {
  id: string;
  role: PeerRole;
  stream: string;
  createdAt: string;
  connectedAt?: string;
  /** The transport's state. */
  state?: string;
  /** The selected path, `udp:192.0.2.7:51234`. */
  path?: string;
}

export interface PeerSessionOptions {
  role: PeerRole;
  stream: string;
}

export class PeerSession extends SafeEmitter<{ close: [error: Error | undefined] }> {
  readonly id = randomUUID();
  readonly role: PeerRole;
  readonly stream: string;
  readonly createdAt = Date.now();
  connectedAt: number | undefined;
  #closed = false;

  constructor(
    readonly transport: PeerTransport,
    readonly endpoint: PeerEndpoint,
    opts: PeerSessionOptions,
  ) {
    super();
    this.role = opts.role;
    this.stream = opts.stream;
    // Connect and consent timeouts are the transport's: they end in its `close`.
    transport.on('connected', () => {
      if (this.#closed) return;
      this.connectedAt = Date.now();
      endpoint.start(transport);
    });
    transport.on('rtp', (packet) => endpoint.handleRtp(packet));
    transport.on('rtcp', (packet) => endpoint.handleRtcp(packet));
    transport.on('close', (error) => this.close(error ?? new Error('peer closed the connection')));
    endpoint.on('close', (error) => this.close(error));
    if (endpoint.closed) this.close(new Error(`${opts.role} closed before the session started`));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** For `GET /api/webrtc`. */
  info(): PeerSessionInfo {
    const selected = this.transport.selected;
    return {
      id: this.id,
      role: this.role,
      stream: this.stream,
      createdAt: new Date(this.createdAt).toISOString(),
      connectedAt: this.connectedAt ? new Date(this.connectedAt).toISOString() : undefined,
      state: this.transport.state,
      path: selected ? `${selected.protocol}:${selected.address}:${selected.port}` : undefined,
    };
  }

  /** Idempotent: closes the endpoint, then the transport (with its DTLS close alert); emits `close` once. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.endpoint.close(error);
    this.transport.close(error);
    this.emit('close', error);
    this.removeAllListeners();
  }
}
