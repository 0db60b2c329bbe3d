/**
 * RTSP 1.0 messages (RFC 2326 §4-7) and the interleaved binary frames that share the TCP
 * connection with them (RFC 2326 §10.12):
 *
 *    request:  METHOD SP uri SP RTSP/1.0 CRLF *(header CRLF) CRLF [body of Content-Length]
 *    response: RTSP/1.0 SP status SP reason CRLF *(header CRLF) CRLF [body]
 *    frame:    '$' channel(1) length(2, big endian) data(length)
 *
 * RtspDecoder takes arbitrary TCP chunks and yields whole items. It never buffers more than its
 * limits: a header block over `maxHeaderBytes` or a body over `maxBodyBytes` is a ParseError.
 */
import { ParseError } from '../../core/errors.ts';

export type Headers = Map<string, string>;

export interface RtspRequest {
  kind: 'request';
  method: string;
  uri: string;
  /** Lower-case names; repeated headers are joined with ", ". */
  headers: Headers;
  body: Buffer;
}

export interface RtspResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: Headers;
  body: Buffer;
}

export interface InterleavedFrame {
  kind: 'frame';
  channel: number;
  /** A view into the received bytes (never written to again by the decoder). */
  data: Buffer;
}

export type RtspItem = RtspRequest | RtspResponse | InterleavedFrame;

export interface DecoderLimits {
  /** Bytes of request/status line plus headers. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Bytes of a message body (an SDP). Default 64 KiB. */
  maxBodyBytes?: number;
}

const WHAT = 'RTSP';
const DOLLAR = 0x24;
const FRAME_HEADER = 4;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

export class RtspDecoder {
  readonly #maxHeader: number;
  readonly #maxBody: number;
  #buf: Buffer = Buffer.alloc(0);

  constructor(limits: DecoderLimits = {}) {
    this.#maxHeader = limits.maxHeaderBytes ?? 16 * 1024;
    this.#maxBody = limits.maxBodyBytes ?? 64 * 1024;
  }

  /** Bytes held waiting for the rest of an item. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Feeds a chunk; returns the complete items in order. Throws ParseError on malformed input. */
  push(chunk: Buffer): RtspItem[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const items: RtspItem[] = [];
    let off = 0;
    const buf = this.#buf;
    while (off < buf.length) {
      if (buf[off] === DOLLAR) {
        if (buf.length - off < FRAME_HEADER) break;
        const length = buf.readUInt16BE(off + 2);
        if (buf.length - off < FRAME_HEADER + length) break;
        items.push({
          kind: 'frame',
          channel: buf[off + 1],
          data: buf.subarray(off + FRAME_HEADER, off + FRAME_HEADER + length),
        });
        off += FRAME_HEADER + length;
        continue;
      }
      // Some cameras send stray CR/LF between messages.
      if (buf[off] === 0x0d || buf[off] === 0x0a) {
        off++;
        continue;
      }
      const end = headerEnd(buf, off);
      if (!end) {
        if (buf.length - off > this.#maxHeader)
          throw new ParseError(WHAT, `header block over ${this.#maxHeader} bytes`, off);
        break;
      }
      if (end.headerEnd - off > this.#maxHeader)
        throw new ParseError(WHAT, `header block over ${this.#maxHeader} bytes`, off);
      const head = parseHead(buf.toString('latin1', off, end.headerEnd));
      const length = contentLength(head.headers);
      if (length > this.#maxBody)
        throw new ParseError(WHAT, `body of ${length} bytes over the limit of ${this.#maxBody}`, off);
      if (buf.length - end.bodyStart < length) break;
      const body = Buffer.from(buf.subarray(end.bodyStart, end.bodyStart + length));
      items.push({ ...head, body } as RtspItem);
      off = end.bodyStart + length;
    }
    this.#buf = off === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
    return items;
  }
}

/** Where the header block starting at `from` ends; bare-LF line ends are accepted too. */
function headerEnd(buf: Buffer, from: number): { headerEnd: number; bodyStart: number } | undefined {
  const crlf = buf.indexOf(CRLFCRLF, from);
  const lf = buf.indexOf(LFLF, from);
  if (crlf < 0 && lf < 0) return undefined;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headerEnd: crlf, bodyStart: crlf + 4 };
  return { headerEnd: lf, bodyStart: lf + 2 };
}

type Head = Omit<RtspRequest, 'body'> | Omit<RtspResponse, 'body'>;

function parseHead(text: string): Head {
  const lines = text.split(/\r?\n/);
  const first = lines[0];
  const headers: Headers = new Map();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError(WHAT, `malformed header line "${line.slice(0, 40)}"`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  if (first.startsWith('RTSP/')) {
    const m = /^RTSP\/\d\.\d\s+(\d{3})\s*(.*)$/.exec(first);
    if (!m) throw new ParseError(WHAT, `malformed status line "${first.slice(0, 60)}"`);
    return { kind: 'response', status: Number(m[1]), reason: m[2], headers };
  }
  const m = /^([A-Z_]{1,32})\s+(\S{1,4096})\s+RTSP\/\d\.\d$/.exec(first);
  if (!m) throw new ParseError(WHAT, `malformed request line "${first.slice(0, 60)}"`);
  return { kind: 'request', method: m[1], uri: m[2], headers };
}

function contentLength(headers: Headers): number {
  const v = headers.get('content-length');
  if (v === undefined) return 0;
  if (!/^\d{1,9}$/.test(v)) throw new ParseError(WHAT, `bad Content-Length "${v.slice(0, 20)}"`);
  return Number(v);
}

/** Header names as written on the wire (the canonical case some cameras insist on). */
const CANONICAL: Record<string, string> = {
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'rtp-info': 'RTP-Info',
  'content-base': 'Content-Base',
};

function headerName(name: string): string {
  return (
    CANONICAL[name] ?? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())
  );
}

function serializeHeaders(headers: Iterable<[string, string]>, body: Buffer): string {
  let out = '';
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'content-length') continue;
    out += `${headerName(name.toLowerCase())}: ${value}\r\n`;
  }
  if (body.length > 0) out += `Content-Length: ${body.length}\r\n`;
  return out;
}

export function serializeRequest(
  method: string,
  uri: string,
  headers: Iterable<[string, string]>,
  body: Buffer = Buffer.alloc(0),
): Buffer {
  const head = `${method} ${uri} RTSP/1.0\r\n${serializeHeaders(headers, body)}\r\n`;
  return body.length ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

export function serializeResponse(
  status: number,
  reason: string,
  headers: Iterable<[string, string]>,
  body: Buffer = Buffer.alloc(0),
): Buffer {
  const head = `RTSP/1.0 ${status} ${reason}\r\n${serializeHeaders(headers, body)}\r\n`;
  return body.length ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** The 4-byte `$ channel length` prefix of an interleaved frame. */
export function interleavedHeader(channel: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER);
  h[0] = DOLLAR;
  h[1] = channel & 0xff;
  h.writeUInt16BE(length, 2);
  return h;
}

export const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  415: 'Unsupported Media Type',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  551: 'Option not supported',
};
