/**
 * The control connection of the RTSP client: one TCP (or TLS) socket carrying requests, responses
 * matched by CSeq (RFC 2326 §12.17) and interleaved binary frames (§10.12). It answers 401
 * challenges (Digest preferred, then Basic) and keeps authorizing later requests. It knows nothing
 * about sessions or media; it emits `frame` for each interleaved frame and `close` once.
 */
import { type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { SafeEmitter } from '../../../core/emitter.ts';
import { errorMessage, InvalidStateError, TimeoutError } from '../../../core/errors.ts';
import { VERSION } from '../../../version.ts';
import { authorize, type Challenge, parseChallenges } from '../auth.ts';
import {
  interleavedHeader,
  RtspDecoder,
  type RtspRequest,
  type RtspResponse,
  serializeRequest,
  serializeResponse,
} from '../message.ts';
import { RtspStatusError } from './errors.ts';
import type { RtspSourceOptions } from './url.ts';

/** How long a closing connection may take to flush its TEARDOWN before the socket is destroyed, ms. */
export const TEARDOWN_GRACE_MS = 200;
const USER_AGENT = `mediagate/${VERSION}`;
const UNAUTHORIZED = 401;

interface Pending {
  method: string;
  resolve: (res: RtspResponse) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export type ConnEvents = {
  /** One interleaved frame; `data` is a view that stays valid (the decoder never rewrites it). */
  frame: [channel: number, data: Buffer];
  close: [error: Error | undefined];
};

export class RtspClientConn extends SafeEmitter<ConnEvents> {
  /** Session id sent with every request once set (by the first SETUP answer). */
  session: string | undefined;
  /** Method of the last request sent, for timeout messages. */
  lastMethod: string | undefined;

  readonly #opts: RtspSourceOptions;
  readonly #socket: Socket;
  readonly #decoder = new RtspDecoder();
  readonly #pending = new Map<number, Pending>();
  #cseq = 0;
  #challenge: Challenge | undefined;
  #nc = 0;
  #closed = false;
  #closeError: Error | undefined;
  #graceTimer: NodeJS.Timeout | undefined;

  /** Starts connecting at once; requests made before the socket is up are queued by the socket. */
  constructor(opts: RtspSourceOptions) {
    super();
    this.#opts = opts;
    const socket = opts.tls
      ? tlsConnect({
          host: opts.host,
          port: opts.port,
          rejectUnauthorized: false,
          servername: isIp(opts.host) ? undefined : opts.host,
        })
      : tcpConnect({ host: opts.host, port: opts.port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.close(new Error(`${opts.display}: ${err.message}`, { cause: err })));
    socket.on('close', () => {
      clearTimeout(this.#graceTimer);
      this.#graceTimer = undefined;
      this.close(new Error(`${opts.display}: connection closed by the server`));
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True while the TCP (or TLS) connection is still being set up. */
  get connecting(): boolean {
    return this.#socket.connecting;
  }

  /** `address:port` of the server once connected, else the host and port of the URL. */
  get remoteAddress(): string {
    const a = this.#socket.remoteAddress;
    return a
      ? `${a.includes(':') ? `[${a}]` : a}:${this.#socket.remotePort}`
      : `${this.#opts.host}:${this.#opts.port}`;
  }

  /** The server's IP address (undefined before connect); UDP packets are accepted from it only. */
  get remoteIp(): string | undefined {
    return this.#socket.remoteAddress;
  }

  /** The local IP address of the connection; UDP sockets bind to it. */
  get localIp(): string | undefined {
    return this.#socket.localAddress;
  }

  /**
   * Sends a request and resolves with the answer, whatever its status, except 401: that is answered
   * once with credentials, and a second 401 rejects with RtspStatusError "authentication failed".
   * Rejects with TimeoutError after `timeoutMs` and with the close reason if the connection closes.
   */
  async request(
    method: string,
    url: string,
    headers: [string, string][] = [],
    timeoutMs = this.#opts.connectTimeoutMs,
  ): Promise<RtspResponse> {
    const first = await this.#send(method, url, headers, timeoutMs);
    if (first.status !== UNAUTHORIZED) return first;
    const label = this.#opts.display;
    if (this.#opts.user === undefined) {
      throw new RtspStatusError(
        label,
        method,
        UNAUTHORIZED,
        `${method} requires authentication (401) and the URL has no user and password`,
      );
    }
    const offered = parseChallenges(first.headers.get('www-authenticate') ?? '');
    const challenge = offered.find((c) => c.scheme === 'digest') ?? offered.find((c) => c.scheme === 'basic');
    if (!challenge) {
      const header = first.headers.get('www-authenticate') ?? 'none';
      throw new RtspStatusError(
        label,
        method,
        UNAUTHORIZED,
        `${method}: unsupported authentication "${header.slice(0, 60)}"`,
      );
    }
    this.#challenge = challenge;
    this.#nc = 0;
    const second = await this.#send(method, url, headers, timeoutMs);
    if (second.status === UNAUTHORIZED) {
      throw new RtspStatusError(
        label,
        method,
        UNAUTHORIZED,
        `authentication failed (401 to ${method} with ${challenge.scheme} credentials)`,
      );
    }
    return second;
  }

  /** Bytes written but not yet sent by the socket (back-channel audio is dropped above a limit). */
  get backlogBytes(): number {
    return this.#socket.writableLength;
  }

  /** Sends one interleaved frame (RTCP to the server); dropped when the socket is gone. */
  sendFrame(channel: number, data: Buffer): void {
    if (this.#closed || !this.#socket.writable) return;
    this.#socket.write(Buffer.concat([interleavedHeader(channel, data.length), data]));
  }

  /**
   * Idempotent. Rejects every pending request with the reason (or InvalidStateError), emits `close`
   * once. With `teardownUrl` and a live session a TEARDOWN is written first and the socket gets
   * TEARDOWN_GRACE_MS to flush it; otherwise the socket is destroyed at once.
   */
  close(error?: Error, teardownUrl?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    const reason = error ?? new InvalidStateError(`${this.#opts.display}: connection closed`);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.#pending.clear();
    const socket = this.#socket;
    if (teardownUrl && this.session && socket.writable && !socket.connecting) {
      socket.end(this.#serialize('TEARDOWN', teardownUrl, []));
      this.#graceTimer = setTimeout(() => {
        this.#graceTimer = undefined;
        socket.destroy();
      }, TEARDOWN_GRACE_MS);
    } else {
      socket.destroy();
    }
    this.emit('close', error);
    this.removeAllListeners();
  }

  #send(method: string, url: string, headers: [string, string][], timeoutMs: number): Promise<RtspResponse> {
    if (this.#closed) {
      return Promise.reject(
        this.#closeError ?? new InvalidStateError(`${this.#opts.display}: connection closed`),
      );
    }
    const cseq = ++this.#cseq;
    const data = this.#serialize(method, url, headers, cseq);
    this.lastMethod = method;
    return new Promise<RtspResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(cseq);
        reject(new TimeoutError(`${this.#opts.display}: no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(cseq, { method, resolve, reject, timer });
      this.#socket.write(data);
    });
  }

  #serialize(method: string, url: string, extra: [string, string][], cseq = ++this.#cseq): Buffer {
    const headers: [string, string][] = [
      ['cseq', String(cseq)],
      ['user-agent', USER_AGENT],
    ];
    if (this.session) headers.push(['session', this.session]);
    if (this.#challenge && this.#opts.user !== undefined) {
      headers.push([
        'authorization',
        authorize(this.#challenge, this.#opts.user, this.#opts.pass ?? '', method, url, ++this.#nc),
      ]);
    }
    headers.push(...extra);
    return serializeRequest(method, url, headers);
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return; // bytes after TEARDOWN
    let items: ReturnType<RtspDecoder['push']>;
    try {
      items = this.#decoder.push(chunk);
    } catch (err) {
      // A malformed answer: the stream is out of sync and cannot be trusted any more.
      this.close(err instanceof Error ? err : new Error(errorMessage(err)));
      return;
    }
    for (const item of items) {
      if (this.#closed) return;
      if (item.kind === 'frame') this.emit('frame', item.channel, item.data);
      else if (item.kind === 'response') this.#onResponse(item);
      else this.#onServerRequest(item);
    }
  }

  #onResponse(res: RtspResponse): void {
    const header = res.headers.get('cseq');
    let cseq = header !== undefined && /^\s*\d+/.test(header) ? Number.parseInt(header, 10) : undefined;
    // Some cameras leave CSeq out; with exactly one request outstanding the answer is clear.
    if (cseq === undefined && this.#pending.size === 1) cseq = this.#pending.keys().next().value;
    const pending = cseq === undefined ? undefined : this.#pending.get(cseq);
    if (!pending || cseq === undefined) return; // late answer to a request that timed out
    this.#pending.delete(cseq);
    clearTimeout(pending.timer);
    pending.resolve(res);
  }

  /** Servers may ping the client (GET_PARAMETER, OPTIONS); answer so that they keep the session. */
  #onServerRequest(req: RtspRequest): void {
    if (!this.#socket.writable) return;
    const ok = req.method === 'OPTIONS' || req.method === 'GET_PARAMETER' || req.method === 'SET_PARAMETER';
    const headers: [string, string][] = [['cseq', req.headers.get('cseq') ?? '0']];
    this.#socket.write(
      ok ? serializeResponse(200, 'OK', headers) : serializeResponse(501, 'Not Implemented', headers),
    );
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
