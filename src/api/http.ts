/**
 * The HTTP listener of the API and UI (:1984): a small method+path router, bounded request bodies,
 * JSON errors (4xx for anything a client sent, 500 only for our own bugs) and WebSocket upgrades
 * routed by path, optionally also over TLS (`attachTls`). An `authorize` hook (src/auth/) sees
 * every request before its handler and every upgrade. Owns its servers and every connection on them.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContextOptions } from 'node:tls';
import { BadRequestError, type ErrorCode, InvalidStateError, MediagateError } from '../core/errors.ts';
import { maskSecrets } from '../core/mask.ts';
import type { Logger } from '../log/logger.ts';

export interface ApiRequest {
  raw: IncomingMessage;
  method: string;
  path: string;
  query: URLSearchParams;
  /** The body, read once, at most `maxBodyBytes`; 413 beyond. */
  body(): Promise<Buffer>;
}

export type Handler = (req: ApiRequest, res: ServerResponse) => Promise<void> | void;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
/** Called after every request with its route, for metrics. */
export type RequestObserver = (route: string, method: string, status: number) => void;

/** What the `authorize` hook sees of a request. */
export interface RouteInfo {
  method: string;
  path: string;
  /** The matched route: its path, the static prefix, or "unmatched". */
  route: string;
  query: URLSearchParams;
  /** A WebSocket upgrade rather than a plain request. */
  upgrade: boolean;
}

/** A refused request: its status, the JSON error text and extra headers (`WWW-Authenticate`). */
export interface Refusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/** Decides whether a request may reach its handler: undefined lets it through. */
export type Authorizer = (
  req: IncomingMessage,
  route: RouteInfo,
) => Promise<Refusal | undefined> | Refusal | undefined;

/**
 * Slow clients: the headers within 15 s, the whole request within 60 s, checked every 5 s (Node's
 * default check interval, 30 s, would let a slowloris client hold a socket for up to 45 s).
 */
const SERVER_OPTIONS = {
  requestTimeout: 60_000,
  headersTimeout: 15_000,
  connectionsCheckingInterval: 5_000,
  maxHeaderSize: 16 * 1024,
};
/** Node's parser and timeout errors (`clientError`) that have their own status; the rest are 400. */
const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};
/** Default of `HttpOptions.maxConnections`. */
export const DEFAULT_MAX_CONNECTIONS = 2048;

const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  PARSE: 400,
  UNSUPPORTED: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_STATE: 409,
  TIMEOUT: 504,
  UNAVAILABLE: 503,
};

/** An error the client caused, with the status to send. */
export class HttpError extends MediagateError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('BAD_REQUEST', message);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: maskSecrets(message) });
}

export interface HttpOptions {
  maxBodyBytes: number;
  /**
   * Open connections (WebSocket ones included) per listener above which a new connection is
   * closed at once, before a byte is read, and counted in `dropped`. Default 2048.
   */
  maxConnections?: number;
  /** Value for Access-Control-Allow-Origin; no CORS headers when undefined. */
  origin?: string;
  log: Logger;
}

export class HttpServer {
  readonly server: Server;
  /** The HTTPS/WSS server serving the same routes, once `attachTls` was called. */
  tlsServer: HttpsServer | undefined;
  observer: RequestObserver | undefined;
  /** Called before every handler and every WebSocket upgrade; none = everything is open. */
  authorize: Authorizer | undefined;
  readonly #routes = new Map<string, Map<string, Handler>>();
  readonly #prefixRoutes: { prefix: string; method: string; handler: Handler }[] = [];
  readonly #upgrades = new Map<string, UpgradeHandler>();
  readonly #sockets = new Set<Socket | Duplex>();
  /** Connections closed at once because `maxConnections` were open. */
  dropped = 0;
  #lastDropLog = 0;
  #closed = false;

  constructor(private readonly opts: HttpOptions) {
    this.server = createServer(SERVER_OPTIONS, (req, res) => this.#handle(req, res));
    this.#wire(this.server);
  }

  /**
   * Serves the same routes over TLS; listen with `listen(port, host, http.tlsServer)`. A new
   * certificate is swapped in with `tlsServer.setSecureContext()`.
   */
  attachTls(options: SecureContextOptions): HttpsServer {
    if (this.tlsServer || this.#closed) throw new InvalidStateError('TLS already attached or server closed');
    this.tlsServer = createHttpsServer({ ...SERVER_OPTIONS, ...options }, (req, res) =>
      this.#handle(req, res),
    );
    this.#wire(this.tlsServer);
    return this.tlsServer;
  }

  #wire(server: Server | HttpsServer): void {
    server.keepAliveTimeout = 5000;
    server.maxConnections = this.opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    server.on('drop', (data?: { remoteAddress?: string }) => {
      this.dropped++;
      const now = performance.now();
      if (now - this.#lastDropLog < 10_000) return;
      this.#lastDropLog = now;
      this.opts.log.warn(
        { max: server.maxConnections, dropped: this.dropped, remote: data?.remoteAddress },
        'HTTP connection refused: limit reached',
      );
    });
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('upgrade', (req, socket, head) => void this.#upgrade(req, socket, head));
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      // The status a client can act on: its headers were too big or too slow, or it spoke garbage.
      const status = CLIENT_ERROR_STATUS[err.code ?? ''] ?? 400;
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      );
    });
  }

  route(method: string, path: string, handler: Handler): void {
    const byMethod = this.#routes.get(path) ?? new Map<string, Handler>();
    this.#routes.set(path, byMethod);
    byMethod.set(method, handler);
  }

  /** A handler for every path under `prefix` (static files). */
  routePrefix(method: string, prefix: string, handler: Handler): void {
    this.#prefixRoutes.push({ prefix, method, handler });
  }

  upgrade(path: string, handler: UpgradeHandler): void {
    this.#upgrades.set(path, handler);
  }

  listen(port: number, host?: string, server: Server | HttpsServer = this.server): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, ends idle keep-alive connections and destroys the rest. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    const closing = [this.server, this.tlsServer].map(
      (server) =>
        new Promise<void>((resolve) => {
          if (!server?.listening) return resolve();
          server.close(() => resolve());
          server.closeIdleConnections();
        }),
    );
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    return Promise.all(closing).then(() => undefined);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, 400, 'malformed request URL');
      return;
    }
    const method = req.method ?? 'GET';
    const path = url.pathname;
    let route = path;
    res.once('finish', () => this.observer?.(route, method, res.statusCode));
    if (this.opts.origin) {
      res.setHeader('access-control-allow-origin', this.opts.origin);
      if (method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
          'access-control-allow-headers': 'content-type, authorization, x-requested-with',
        });
        res.end();
        return;
      }
    }
    let handler = this.#routes.get(path)?.get(method === 'HEAD' ? 'GET' : method);
    if (!handler) {
      const prefix = this.#prefixRoutes.find(
        (r) =>
          path.startsWith(r.prefix) && (r.method === method || (method === 'HEAD' && r.method === 'GET')),
      );
      if (prefix) {
        handler = prefix.handler;
        route = prefix.prefix;
      }
    }
    if (!handler) route = 'unmatched';
    const info: RouteInfo = { method, path, route, query: url.searchParams, upgrade: false };
    const refusal = await this.#authorize(req, info);
    if (refusal) {
      for (const [k, v] of Object.entries(refusal.headers ?? {})) res.setHeader(k, v);
      sendError(res, refusal.status, refusal.message);
      req.resume();
      return;
    }
    if (!handler) {
      if (this.#routes.has(path)) sendError(res, 405, `method ${method} not allowed on ${path}`);
      else sendError(res, 404, `no such endpoint: ${path}`);
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (!(declared <= this.opts.maxBodyBytes)) {
      res.setHeader('connection', 'close');
      sendError(
        res,
        413,
        `request body of ${req.headers['content-length']} bytes exceeds the limit of ${this.opts.maxBodyBytes}`,
      );
      req.resume();
      return;
    }
    let bodyRead: Promise<Buffer> | undefined;
    const apiReq: ApiRequest = {
      raw: req,
      method,
      path,
      query: url.searchParams,
      body: () => {
        bodyRead ??= readBody(req, this.opts.maxBodyBytes);
        return bodyRead;
      },
    };
    try {
      await handler(apiReq, res);
      if (!bodyRead) req.resume(); // drain an unread body so keep-alive works
    } catch (err) {
      if (err instanceof HttpError) sendError(res, err.status, err.message);
      else if (err instanceof MediagateError) sendError(res, STATUS[err.code], err.message);
      else {
        this.opts.log.error({ err, path }, 'request handler failed');
        sendError(res, 500, 'internal error');
      }
    }
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy()); // a client gone while we decide
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const handler = this.#upgrades.get(url.pathname);
    const info: RouteInfo = {
      method: 'GET',
      path: url.pathname,
      route: handler ? url.pathname : 'unmatched',
      query: url.searchParams,
      upgrade: true,
    };
    const refusal = await this.#authorize(req, info);
    if (refusal) {
      const body = JSON.stringify({ error: refusal.message });
      const headers = Object.entries(refusal.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.end(
        `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}\r\n${headers.join('')}` +
          `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    if (!handler || this.#closed || socket.destroyed) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    handler(req, socket, head);
  }

  /** Runs the hook; a hook that throws refuses (500) rather than letting the request through. */
  async #authorize(req: IncomingMessage, info: RouteInfo): Promise<Refusal | undefined> {
    if (!this.authorize) return undefined;
    try {
      return await this.authorize(req, info);
    } catch (err) {
      this.opts.log.error({ err, path: info.path }, 'authorization failed');
      return { status: 500, message: 'internal error' };
    }
  }
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `request body exceeds the limit of ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', (err) => reject(new BadRequestError(`request body: ${err.message}`)));
  });
}
