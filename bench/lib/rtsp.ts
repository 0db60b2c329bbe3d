/**
 * The bench's minimal RTSP/1.0 client connection (RFC 2326): requests one at a time, responses
 * parsed until the interleaved data starts, then `detach()` hands the socket and any bytes already
 * read to the caller's own parser. Enough for the publisher (ANNOUNCE/SETUP/RECORD) and the
 * readers (DESCRIBE/SETUP/PLAY); not a general client.
 */
import { connect, type Socket } from 'node:net';

export interface RtspResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export class RtspClientConnection {
  readonly socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #cseq = 1;
  #waiter: { resolve: (r: RtspResponse) => void; reject: (e: Error) => void } | undefined;
  #error: Error | undefined;
  session: string | undefined;
  readonly #onData = (chunk: Buffer) => {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#deliver();
  };

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', this.#onData);
    const fail = (err: Error) => {
      this.#error ??= err;
      this.#waiter?.reject(err);
      this.#waiter = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static connect(host: string, port: number, timeoutMs = 5000): Promise<RtspClientConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', reject);
        resolve(new RtspClientConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Sends a request and waits for its response (`timeoutMs`); the Session header is kept. */
  request(
    method: string,
    url: string,
    headers: Record<string, string> = {},
    body?: Buffer,
    timeoutMs = 10000,
  ): Promise<RtspResponse> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#waiter) return Promise.reject(new Error('a request is in flight'));
    const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${this.#cseq++}`, 'User-Agent: mediagate-bench'];
    if (this.session) lines.push(`Session: ${this.session}`);
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body) lines.push(`Content-Length: ${body.length}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
    return new Promise<RtspResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error(`${method} ${url}: no response in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          const s = r.headers.get('session');
          if (s) this.session = s.split(';')[0].trim();
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.socket.write(body ? Buffer.concat([head, body]) : head);
      this.#deliver();
    });
  }

  /** Stops parsing responses; returns the bytes read past the last response (interleaved data). */
  detach(): Buffer {
    this.socket.removeListener('data', this.#onData);
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    return rest;
  }

  close(): void {
    this.socket.destroy();
  }

  #deliver(): void {
    if (!this.#waiter) return;
    // Interleaved frames may come before the response (an RTCP report): skip whole frames.
    while (this.#buf.length >= 4 && this.#buf[0] === 0x24) {
      const size = 4 + this.#buf.readUInt16BE(2);
      if (this.#buf.length < size) return;
      this.#buf = this.#buf.subarray(size);
    }
    const end = this.#buf.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^RTSP\/1\.0 (\d{3})/.exec(head[0])?.[1] ?? 0);
    const headers = new Map<string, string>();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get('content-length') ?? 0);
    if (this.#buf.length < end + 4 + length) return;
    const body = Buffer.from(this.#buf.subarray(end + 4, end + 4 + length));
    this.#buf = this.#buf.subarray(end + 4 + length);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter.resolve({ status, headers, body });
  }
}

/** The control URL of the first video section of an SDP, resolved against the Content-Base. */
export function videoControlUrl(sdp: string, base: string): string {
  let inVideo = false;
  let control: string | undefined;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) inVideo = line.startsWith('m=video');
    else if (inVideo && line.startsWith('a=control:')) {
      control = line.slice('a=control:'.length).trim();
      break;
    }
  }
  if (!control || control === '*') return base;
  if (/^rtsps?:\/\//i.test(control)) return control;
  return base.endsWith('/') ? base + control : `${base}/${control}`;
}
