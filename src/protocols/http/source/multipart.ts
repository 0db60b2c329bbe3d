/**
 * A streaming reader of `multipart/x-mixed-replace` bodies (MJPEG cameras, ffmpeg `-f mpjpeg`;
 * RFC 2046 5.1.1): parts between `--boundary` lines, each with headers and a body. Pure.
 *
 *   --frame\r\n
 *   Content-Type: image/jpeg\r\n
 *   Content-Length: 12345\r\n          (optional: else the body ends at the next boundary line)
 *   \r\n
 *   <JPEG>\r\n
 *   --frame\r\n ...
 *
 * Cameras are lax: the boundary parameter may or may not carry the leading `--`, or be missing
 * (then the first `--` line gives it), and headers may end in LF alone. Damage (a part over the
 * size limit, endless headers) is skipped to the next boundary line and counted, never thrown.
 * Bodies that do not start like a JPEG (FF D8) are skipped and counted.
 */

/** Limits of a `MultipartReader`. */
export interface MultipartLimits {
  /** A part larger than this is skipped, bytes; default 8 MiB. */
  maxPartBytes?: number;
  /** Headers longer than this are damage, bytes; default 16 KiB. */
  maxHeaderBytes?: number;
}

/** Counters of a `MultipartReader`; they only grow. */
export interface MultipartStats {
  parts: number;
  /** Parts that were not JPEG pictures, or over the size limit. */
  skipped: number;
  /** Bytes dropped while looking for a boundary line. */
  garbageBytes: number;
}

const DEFAULT_MAX_PART = 8 * 1024 * 1024;
const DEFAULT_MAX_HEADER = 16 * 1024;
const LF = 0x0a;
const CR = 0x0d;
/** Longest boundary (RFC 2046: 70) plus the dashes and a line end. */
const MAX_BOUNDARY_LINE = 80;

type State = 'delimiter' | 'headers' | 'body';

export class MultipartReader {
  readonly stats: MultipartStats = { parts: 0, skipped: 0, garbageBytes: 0 };
  #delimiter: Buffer | undefined;
  readonly #maxPart: number;
  readonly #maxHeader: number;
  #buf: Buffer = Buffer.alloc(0);
  #state: State = 'delimiter';
  #length: number | undefined;
  /** Where the search for the next boundary line resumes, in a body without Content-Length. */
  #scanFrom = 0;

  /** @param boundary the Content-Type's boundary (with or without `--`); learnt from the body when undefined */
  constructor(boundary?: string, limits: MultipartLimits = {}) {
    const token = boundary?.replace(/^--/, '');
    if (token) this.#delimiter = Buffer.from(`--${token}`, 'latin1');
    this.#maxPart = limits.maxPartBytes ?? DEFAULT_MAX_PART;
    this.#maxHeader = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER;
  }

  /** The JPEG bodies the bytes complete (views of an internal buffer; not to be modified). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (chunk.length === 0) return out;
    this.#buf = this.#buf.length > 0 ? Buffer.concat([this.#buf, chunk]) : chunk;
    let o = 0;
    for (;;) {
      const next = this.#step(o, out);
      if (next < 0) break;
      o = next;
    }
    if (o > 0) {
      this.#scanFrom = Math.max(0, this.#scanFrom - o);
      this.#buf = this.#buf.subarray(o);
    }
    return out;
  }

  /** Ends the input: a last part without a closing boundary is taken if it is a whole JPEG. */
  flush(): Buffer[] {
    const out: Buffer[] = [];
    if (this.#state === 'body' && this.#length === undefined) {
      const body = trimLineEnd(this.#buf);
      if (body.length >= 2 && body[body.length - 2] === 0xff && body[body.length - 1] === 0xd9)
        this.#emit(body, out);
    }
    this.#buf = Buffer.alloc(0);
    this.#state = 'delimiter';
    return out;
  }

  /** One step from offset `o`; returns the new offset, or -1 when more bytes are needed. */
  #step(o: number, out: Buffer[]): number {
    const buf = this.#buf;
    switch (this.#state) {
      case 'delimiter': {
        const at = this.#findDelimiter(o);
        if (at < 0) {
          // Keep what could be the start of a boundary line; the rest is garbage.
          const keep = Math.min(buf.length - o, MAX_BOUNDARY_LINE);
          this.stats.garbageBytes += buf.length - o - keep;
          return buf.length - keep > o ? buf.length - keep : -1;
        }
        const eol = buf.indexOf(LF, at);
        if (eol < 0) return buf.length - at > MAX_BOUNDARY_LINE ? this.#garbage(o, at + 2) : -1;
        if (at - o > 2) this.stats.garbageBytes += at - o; // not the line end after a body
        this.#state = 'headers';
        return eol + 1;
      }
      case 'headers': {
        const end = headersEnd(buf, o);
        if (end < 0) return buf.length - o > this.#maxHeader ? this.#resync(o) : -1;
        const headers = buf.toString('latin1', o, end).toLowerCase();
        const len = /(?:^|\n)content-length:\s*(\d+)/.exec(headers);
        this.#length = len ? Number(len[1]) : undefined;
        this.#state = 'body';
        this.#scanFrom = end;
        if (this.#length !== undefined && this.#length > this.#maxPart) return this.#resync(end);
        return end;
      }
      case 'body': {
        if (this.#length !== undefined) {
          if (buf.length - o < this.#length) return -1;
          this.#emit(buf.subarray(o, o + this.#length), out);
          this.#state = 'delimiter';
          return o + this.#length;
        }
        const delimiter = this.#delimiter!;
        const at = buf.indexOf(delimiter, Math.max(o, this.#scanFrom));
        if (at < 0) {
          this.#scanFrom = Math.max(o, buf.length - delimiter.length);
          return buf.length - o > this.#maxPart ? this.#resync(o) : -1;
        }
        this.#emit(trimLineEnd(buf.subarray(o, at)), out);
        this.#state = 'delimiter';
        return at;
      }
    }
  }

  /** The offset of the next boundary line's `--`, learning the boundary from the first one. */
  #findDelimiter(o: number): number {
    const buf = this.#buf;
    if (this.#delimiter) {
      for (let at = buf.indexOf(this.#delimiter, o); at >= 0; at = buf.indexOf(this.#delimiter, at + 1)) {
        if (at === 0 || buf[at - 1] === LF) return at;
      }
      return -1;
    }
    for (let at = buf.indexOf('--', o, 'latin1'); at >= 0; at = buf.indexOf('--', at + 1, 'latin1')) {
      if (at !== 0 && buf[at - 1] !== LF) continue;
      const eol = buf.indexOf(LF, at);
      if (eol < 0) return -1;
      const token = buf.toString('latin1', at + 2, eol).trim();
      if (token.length === 0 || token.length > 70) continue;
      this.#delimiter = Buffer.from(`--${token.replace(/--$/, '')}`, 'latin1');
      return at;
    }
    return -1;
  }

  #emit(body: Buffer, out: Buffer[]): void {
    this.stats.parts++;
    if (body.length < 2 || body[0] !== 0xff || body[1] !== 0xd8) this.stats.skipped++;
    else out.push(body);
  }

  /** Skips a damaged part: back to looking for a boundary line after `from`. */
  #resync(from: number): number {
    this.stats.skipped++;
    this.#state = 'delimiter';
    this.#length = undefined;
    return from;
  }

  #garbage(o: number, to: number): number {
    this.stats.garbageBytes += to - o;
    return to;
  }
}

/** The offset after the blank line that ends the headers starting at `o`, or -1. */
function headersEnd(buf: Buffer, o: number): number {
  let p = o;
  for (;;) {
    const eol = buf.indexOf(LF, p);
    if (eol < 0) return -1;
    const empty = eol === p || (eol === p + 1 && buf[p] === CR);
    if (empty) return eol + 1;
    p = eol + 1;
  }
}

/** `body` without one trailing CRLF or LF (the line end before the boundary belongs to it). */
function trimLineEnd(body: Buffer): Buffer {
  let end = body.length;
  if (end > 0 && body[end - 1] === LF) end--;
  if (end > 0 && body[end - 1] === CR) end--;
  return body.subarray(0, end);
}
