/**
 * RtspConnection: one TCP connection to the RTSP server and the session it carries (one session per
 * connection). Requests are handled one at a time in arrival order; interleaved frames are routed
 * at once to the channel's handler. Anything malformed is answered with its status and counted; a
 * stream the decoder cannot resynchronize on (bad header block, over the limits) ends the
 * connection, never the process.
 *
 *   init --DESCRIBE--> described --SETUP--> ready --PLAY--> playing
 *   init --ANNOUNCE--> announced --SETUP(record)--> ready --RECORD--> recording
 *   any  --TEARDOWN--> init (the connection stays open)
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { StreamTrack } from '../../../core/track.ts';
import { VERSION } from '../../../version.ts';
import { RtspDecoder, type RtspRequest, serializeResponse } from '../message.ts';
import { parseSession } from '../transport.ts';
import { type Reply, reasonOf, type ServerShared } from './context.ts';
import { PublisherSession } from './publisher-session.ts';
import { parseTarget } from './query.ts';
import { ReaderSession } from './reader-session.ts';
import type { SessionHost } from './setup.ts';
import { dispatchError } from './status.ts';
import type { ConnectionCounters } from './types.ts';
import type { UdpRoute } from './udp.ts';

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER, SET_PARAMETER, ANNOUNCE, RECORD';
const SERVER = `mediagate/${VERSION}`;
/** Methods that act on the session and so must name it correctly when they name one. */
const SESSION_METHODS = new Set([
  'SETUP',
  'PLAY',
  'PAUSE',
  'RECORD',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
]);
/** How long a connection being closed may take to flush its last answer. */
const LINGER_MS = 2000;

let nextConnectionId = 1;

export class RtspConnection implements SessionHost {
  readonly id = nextConnectionId++;
  readonly counters: ConnectionCounters = { requests: 0, badRequests: 0, droppedFrames: 0 };
  readonly remoteAddress: string;
  readonly connectedAt = performance.now();
  /** `performance.now()` of the last bytes from the client, on TCP or its UDP ports. */
  lastActivity = this.connectedAt;
  userAgent: string | undefined;
  readonly #decoder: RtspDecoder;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #closed = false;
  #closedAt = 0;
  #sawRequest = false;
  /** Who the connection's requests act for, from the access check; opaque here. */
  #principal: unknown;
  #nonce: string | undefined;
  #sessionId: string | undefined;
  #reader: ReaderSession | undefined;
  #publisher: PublisherSession | undefined;
  readonly #channels = new Map<number, (data: Buffer) => void>();
  readonly #udpRoutes: { ports: [number, number]; route: UdpRoute }[] = [];

  constructor(
    readonly socket: Socket,
    readonly shared: ServerShared,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.#decoder = new RtspDecoder({ maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024 });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 15000);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => {
      shared.log.debug({ err, remote: this.remoteAddress }, 'RTSP connection error');
      this.close();
    });
    socket.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Reader of this connection, if it plays. */
  get reader() {
    return this.#reader?.reader;
  }

  sessionId(): string {
    this.#sessionId ??= randomBytes(8).toString('hex').toUpperCase();
    return this.#sessionId;
  }

  routeChannel(channel: number, handler: (data: Buffer) => void): void {
    this.#channels.set(channel, handler);
  }

  channelFree(channel: number): boolean {
    return !this.#channels.has(channel);
  }

  routeUdp(ports: [number, number], route: UdpRoute): void {
    const wrapped: UdpRoute = {
      onDatagram: (data, rtcp) => {
        this.lastActivity = performance.now();
        route.onDatagram(data, rtcp);
      },
    };
    this.shared.udp?.register(this.remoteAddress, ports, wrapped);
    this.#udpRoutes.push({ ports, route: wrapped });
  }

  /** Called by the server's timer: closes idle connections and sessions, frees a lingering socket. */
  sweep(now: number): void {
    const { firstRequestTimeoutMs, sessionTimeoutMs } = this.shared.options;
    if (this.#closed) {
      if (!this.socket.destroyed && now - this.#closedAt > LINGER_MS) this.socket.destroy();
      return;
    }
    let reason: string | undefined;
    if (!this.#sawRequest && now - this.connectedAt > firstRequestTimeoutMs) reason = 'no request';
    else if (this.#needsKeepalive() && now - this.lastActivity > sessionTimeoutMs) reason = 'session timeout';
    if (!reason) return;
    this.shared.counters.timeouts++;
    this.shared.log.debug({ remote: this.remoteAddress, reason }, 'RTSP connection timed out');
    this.close();
  }

  /** One round of RTCP sender reports (see RtspReader.sendReports). */
  sendReports(cache: Map<StreamTrack, Buffer>): void {
    if (this.#closed) return;
    try {
      this.#reader?.reader?.sendReports(cache);
    } catch {
      this.close();
    }
  }

  /**
   * Idempotent. Ends the session (reader or publisher first, then routes) and the socket: with
   * `graceful`, after the bytes already written are flushed (the sweep destroys it if that stalls).
   */
  close(graceful = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedAt = performance.now();
    this.#endSession();
    const c = this.counters;
    if (c.badRequests > 0 || c.droppedFrames > 0) {
      this.shared.log.debug({ remote: this.remoteAddress, ...c }, 'RTSP connection closed with errors');
    }
    if (graceful && this.socket.writable) this.socket.end();
    else this.socket.destroy();
  }

  /**
   * TCP play is kept alive by the connection itself (as gortsplib does: many players send nothing
   * while they watch); UDP play, record and connections without a playing session need traffic.
   */
  #needsKeepalive(): boolean {
    const reader = this.#reader?.reader;
    return !(reader?.playing && reader.transport === 'tcp');
  }

  #endSession(): void {
    const reader = this.#reader;
    const publisher = this.#publisher;
    this.#reader = undefined;
    this.#publisher = undefined;
    this.#sessionId = undefined;
    reader?.close();
    if (publisher) {
      this.shared.log.info(
        { remote: this.remoteAddress, tracks: publisher.publisher.stats(), ...this.counters },
        'RTSP publisher ended',
      );
      publisher.close();
    }
    for (const { ports, route } of this.#udpRoutes)
      this.shared.udp?.unregister(this.remoteAddress, ports, route);
    this.#udpRoutes.length = 0;
    this.#channels.clear();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.lastActivity = performance.now();
    let items: ReturnType<RtspDecoder['push']>;
    try {
      items = this.#decoder.push(chunk);
    } catch (err) {
      // The decoder cannot find the next message boundary: answer once and hang up.
      this.#countBad(err);
      this.#write(400, [], undefined);
      this.close(true);
      return;
    }
    for (const item of items) {
      if (this.#closed) return;
      if (item.kind === 'frame') this.#onFrame(item.channel, item.data);
      else if (item.kind === 'request') this.#enqueue(item);
      else this.#countBad(new Error(`unexpected response ${item.status}`));
    }
  }

  #onFrame(channel: number, data: Buffer): void {
    const handler = this.#channels.get(channel);
    if (handler) {
      handler(data);
      return;
    }
    this.counters.droppedFrames++;
    this.shared.counters.droppedFrames++;
    if (this.counters.droppedFrames === 1) {
      this.shared.log.debug(
        { remote: this.remoteAddress, channel },
        'RTSP interleaved frame on an unknown channel dropped',
      );
    }
  }

  #enqueue(req: RtspRequest): void {
    if (this.#pending >= this.shared.options.maxPendingRequests) {
      this.#countBad(new Error(`more than ${this.#pending} requests pipelined`));
      this.close();
      return;
    }
    this.#pending++;
    this.#chain = this.#chain
      .then(() => this.#handle(req))
      .catch((err) => this.shared.log.error({ err }, 'RTSP request handler failed'))
      .finally(() => {
        this.#pending--;
      });
  }

  async #handle(req: RtspRequest): Promise<void> {
    if (this.#closed) return;
    this.counters.requests++;
    const cseq = req.headers.get('cseq');
    if (cseq === undefined || !/^\d{1,10}$/.test(cseq)) {
      this.#countBad(new Error(`${req.method} without a valid CSeq`));
      this.#write(400, [], undefined);
      return;
    }
    this.#sawRequest = true;
    this.userAgent ??= req.headers.get('user-agent')?.slice(0, 200);
    let reply: Reply;
    try {
      reply = await this.#dispatch(req);
    } catch (err) {
      reply = dispatchError(err, req, this.shared.log);
      if (reply.status === 400) this.#countBad(err);
    }
    if (this.#closed) return;
    const headers: [string, string][] = [
      ['CSeq', cseq],
      ['Server', SERVER],
    ];
    if (this.#sessionId)
      headers.push([
        'Session',
        `${this.#sessionId};timeout=${Math.round(this.shared.options.sessionTimeoutMs / 1000)}`,
      ]);
    this.#write(reply.status, [...headers, ...(reply.headers ?? [])], reply.body);
    try {
      reply.after?.();
    } catch (err) {
      // The socket went away between the answer and the first packets.
      this.shared.log.debug({ err, remote: this.remoteAddress }, 'RTSP session start failed');
      this.close();
    }
  }

  async #dispatch(req: RtspRequest): Promise<Reply> {
    const method = req.method;
    if (method === 'OPTIONS') return { status: 200, headers: [['Public', PUBLIC]] };
    const denied = await this.#checkAccess(req);
    if (denied) return denied;
    const session = req.headers.get('session');
    if (session !== undefined && SESSION_METHODS.has(method)) {
      const { id } = parseSession(session);
      if (id !== this.#sessionId) return { status: 454 };
    }
    switch (method) {
      case 'DESCRIBE':
        if (this.#publisher) return { status: 455 };
        return this.#readerSession().describe(req, parseTarget(req.uri));
      case 'ANNOUNCE':
        if (this.#reader?.reader || this.#publisher) return { status: 455 };
        this.#publisher = new PublisherSession(this, req, parseTarget(req.uri), () => this.close());
        return { status: 200 };
      case 'SETUP':
        if (this.#publisher) return this.#publisher.setup(req);
        return this.#readerSession().setup(req, parseTarget(req.uri));
      case 'PLAY':
        if (!this.#reader) return { status: 455 };
        return this.#reader.play();
      case 'RECORD':
        if (!this.#publisher) return { status: 455 };
        return this.#publisher.record();
      case 'TEARDOWN':
        this.#endSession();
        return { status: 200 };
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return { status: 200 };
      default:
        return { status: 501 };
    }
  }

  /** Asks the server's access control, if any: undefined lets the request on, else the refusal. */
  async #checkAccess(req: RtspRequest): Promise<Reply | undefined> {
    const access = this.shared.access;
    if (!access) return undefined;
    const m = req.method;
    const action =
      m === 'ANNOUNCE' || (m === 'SETUP' && this.#publisher)
        ? 'publish'
        : m === 'DESCRIBE' || m === 'SETUP'
          ? 'read'
          : 'session';
    this.#nonce ??= randomBytes(16).toString('hex');
    const result = await access.check({
      method: m,
      uri: req.uri,
      authorization: req.headers.get('authorization'),
      remoteAddress: this.remoteAddress,
      nonce: this.#nonce,
      action,
      stream: action === 'session' ? undefined : parseTarget(req.uri).name,
      principal: this.#principal,
    });
    if (!result.ok) return { status: result.status, headers: result.headers };
    this.#principal = result.principal;
    return undefined;
  }

  #readerSession(): ReaderSession {
    this.#reader ??= new ReaderSession(this, () => this.close());
    return this.#reader;
  }

  #write(status: number, headers: [string, string][], body: Buffer | undefined): void {
    if (!this.socket.writable) return;
    this.socket.write(serializeResponse(status, reasonOf(status), headers, body));
  }

  #countBad(err: unknown): void {
    this.counters.badRequests++;
    this.shared.counters.badRequests++;
    this.shared.log.debug({ remote: this.remoteAddress, err }, 'RTSP bad request');
  }
}
