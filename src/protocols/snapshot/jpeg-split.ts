/**
 * Splits a concatenation of JPEG pictures (ffmpeg's `-f mjpeg` output) into whole pictures: each
 * starts with SOI (FF D8) and ends with EOI (FF D9). In the entropy-coded data a 0xFF byte is
 * always followed by 0x00 or a restart marker (ITU T.81 B.1.1.5), so FF D9 only ever ends a
 * picture. Pure; bounded: a picture above `maxBytes` is dropped.
 */

const MARKER = 0xff;
const SOI = 0xd8;
const EOI = 0xd9;

export class JpegSplitter {
  /** Bytes dropped: garbage before an SOI and pictures over the limit. */
  dropped = 0;
  #buf: Buffer = Buffer.alloc(0);
  /** Offset from which to look for EOI next (everything before it was scanned). */
  #scan = 0;

  /** @param maxBytes largest picture kept, bytes; default 16 MiB */
  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** Adds output; returns the pictures it completed (new buffers, never views of the input). */
  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const buf = this.#buf;
      const start = this.#findSoi(buf);
      if (start < 0) {
        // Keep a trailing 0xFF: it may be the first byte of the next SOI.
        const keep = buf.length > 0 && buf[buf.length - 1] === MARKER ? 1 : 0;
        this.dropped += buf.length - keep;
        this.#buf = buf.subarray(buf.length - keep);
        this.#scan = 0;
        return out;
      }
      if (start > 0) {
        this.dropped += start;
        this.#buf = buf.subarray(start);
        this.#scan = 0;
        continue;
      }
      const end = this.#findEoi(buf, Math.max(2, this.#scan));
      if (end < 0) {
        if (buf.length > this.maxBytes) {
          this.dropped += buf.length;
          this.#buf = Buffer.alloc(0);
          this.#scan = 0;
        } else {
          this.#scan = Math.max(2, buf.length - 1);
        }
        return out;
      }
      out.push(Buffer.from(buf.subarray(0, end)));
      this.#buf = buf.subarray(end);
      this.#scan = 0;
    }
  }

  #findSoi(buf: Buffer): number {
    for (let i = 0; i + 1 < buf.length; i++) if (buf[i] === MARKER && buf[i + 1] === SOI) return i;
    return -1;
  }

  /** Offset just after the first EOI at or after `from`, or -1. */
  #findEoi(buf: Buffer, from: number): number {
    for (let i = from; i + 1 < buf.length; i++) if (buf[i] === MARKER && buf[i + 1] === EOI) return i + 2;
    return -1;
  }
}
