/**
 * `/api/ws?src=NAME`: go2rtc's WebSocket API. The client sends JSON messages `{type, value}`
 * (`mse`, `webrtc/offer`, `webrtc/candidate`, ...); protocol modules register a handler per type.
 * The connection owns whatever its handlers create (consumers, peer connections): each registers
 * a closer with `onClose`, and they all run once when the socket goes away or the server closes.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { errorMessage, MediagateError, ParseError } from '../core/errors.ts';
import { maskSecrets } from '../core/mask.ts';
import type { Logger } from '../log/logger.ts';
import type { HttpServer } from './http.ts';

export interface WsMessage {
  type: string;
  value?: unknown;
}

/**
 * Parses one text message of a client: JSON of the shape `{"type": string, "value"?: any}`.
 * Pure; throws only ParseError (the hub answers it with an `error` message). Bounded by the hub's
 * `maxPayload`, so no length check here.
 */
export function parseWsMessage(data: Buffer | string): WsMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch (err) {
    throw new ParseError('ws', errorMessage(err));
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as WsMessage).type !== 'string') {
    throw new ParseError('ws', 'expected {"type": string, "value": ...}');
  }
  return parsed as WsMessage;
}

export class WsConnection {
  readonly query: URLSearchParams;
  readonly remoteAddress: string | undefined;
  readonly userAgent: string | undefined;
  #closers: (() => void)[] = [];
  #closed = false;

  constructor(
    readonly ws: WebSocket,
    req: IncomingMessage,
  ) {
    this.query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    this.remoteAddress = req.socket.remoteAddress;
    this.userAgent = req.headers['user-agent'];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a JSON message; a no-op once closed. */
  send(msg: WsMessage): void {
    if (!this.#closed && this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  /** Sends binary data (MSE fragments); returns false when closed. */
  sendBinary(data: Buffer): boolean {
    if (this.#closed || this.ws.readyState !== this.ws.OPEN) return false;
    this.ws.send(data, { binary: true });
    return true;
  }

  /** Bytes queued on the socket and not yet sent: the backlog a consumer limits. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  sendError(message: string): void {
    this.send({ type: 'error', value: maskSecrets(message) });
  }

  /** Runs `fn` once when the connection ends; at once if it already has. */
  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#closers.push(fn);
  }

  /** Idempotent: runs the closers (consumers first, as registered), then closes the socket. */
  close(code = 1000, reason = ''): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fn of this.#closers.splice(0)) {
      try {
        fn();
      } catch {
        // A closer that throws must not keep the others from running.
      }
    }
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING)
      this.ws.close(code, reason);
    else this.ws.terminate();
  }
}

export type WsHandler = (conn: WsConnection, msg: WsMessage) => void | Promise<void>;

/** Largest message a client may send (an SDP offer is a few KiB). */
const MAX_MESSAGE_BYTES = 256 * 1024;

export class WsHub {
  readonly #handlers = new Map<string, WsHandler>();
  readonly #connections = new Set<WsConnection>();
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  #closed = false;

  constructor(
    http: HttpServer,
    private readonly log: Logger,
    path = '/api/ws',
  ) {
    http.upgrade(path, (req, socket, head) => this.#upgrade(req, socket, head));
  }

  /** Registers the handler of a message type (`mse`, `webrtc/offer`...). */
  handle(type: string, handler: WsHandler): void {
    this.#handlers.set(type, handler);
  }

  get size(): number {
    return this.#connections.size;
  }

  /** Idempotent: closes every connection (running their closers) and refuses new ones. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const conn of [...this.#connections]) conn.close(1001, 'server shutting down');
    this.#connections.clear();
    this.#wss.close();
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new WsConnection(ws, req);
      this.#connections.add(conn);
      ws.on('message', (data, isBinary) => this.#message(conn, data as Buffer, isBinary));
      ws.on('close', () => {
        this.#connections.delete(conn);
        conn.close();
      });
      ws.on('error', (err) => {
        this.log.debug({ err: errorMessage(err) }, 'websocket error');
        conn.close(1002);
      });
    });
  }

  async #message(conn: WsConnection, data: Buffer, isBinary: boolean): Promise<void> {
    if (isBinary) return; // binary from the client is only used by publish modes that register their own handling
    let msg: WsMessage;
    try {
      msg = parseWsMessage(data);
    } catch (err) {
      conn.sendError(`malformed message: ${errorMessage(err)}`);
      return;
    }
    const handler = this.#handlers.get(msg.type);
    if (!handler) {
      conn.sendError(`unsupported message type "${msg.type.slice(0, 40)}"`);
      return;
    }
    try {
      await handler(conn, msg);
    } catch (err) {
      if (!(err instanceof MediagateError))
        this.log.error({ err, type: msg.type }, 'websocket handler failed');
      conn.sendError(errorMessage(err));
    }
  }
}
