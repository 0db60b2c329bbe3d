/**
 * RFC 4571 framing of RTP, RTCP, STUN and DTLS packets over a TCP stream (used by ICE-TCP,
 * RFC 6544 §3.1).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             LENGTH            |  packet ...                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { BadRequestError, ParseError } from '../../core/errors.ts';

/** Size of the length prefix, bytes. */
export const FRAME_HEADER_SIZE = 2;
/** Largest packet a 16-bit length can describe, bytes. */
export const MAX_FRAME_SIZE = 0xffff;
const WHAT = 'rfc4571';

/** The packet with its 2-byte big-endian length prefix (a new buffer). */
export function frame(packet: Uint8Array): Buffer {
  if (packet.length > MAX_FRAME_SIZE) {
    throw new BadRequestError(`${WHAT}: packet of ${packet.length} bytes exceeds ${MAX_FRAME_SIZE}`);
  }
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + packet.length);
  out.writeUInt16BE(packet.length, 0);
  out.set(packet, FRAME_HEADER_SIZE);
  return out;
}

/**
 * Splits a TCP byte stream into packets. Feed it chunks as they arrive; `push()` returns the
 * packets completed by the chunk, in order. Zero-length frames are skipped.
 *
 * A frame longer than `maxFrameSize` is a `ParseError`: the peer is lying or not speaking RFC
 * 4571, and the connection should be closed. The decoder then stays failed and drops its buffer.
 * Returned packets may be views into the pushed chunks, so a caller must not reuse a chunk's
 * memory after pushing it (Node's socket chunks are never reused).
 */
export class FrameDecoder {
  readonly maxFrameSize: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed: ParseError | undefined;

  /** @param maxFrameSize largest accepted packet, bytes; default and upper bound 65535. */
  constructor(maxFrameSize = MAX_FRAME_SIZE) {
    if (!Number.isInteger(maxFrameSize) || maxFrameSize < 1 || maxFrameSize > MAX_FRAME_SIZE) {
      throw new BadRequestError(`${WHAT}: maxFrameSize must be 1..${MAX_FRAME_SIZE}, got ${maxFrameSize}`);
    }
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Adds a chunk and returns the packets it completes. Throws ParseError on an oversized frame. */
  push(chunk: Uint8Array): Buffer[] {
    if (this.#failed) throw this.#failed;
    if (chunk.length === 0) return [];
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let data = buf;
    if (this.#buffered > 0) {
      // A frame straddles chunks: join them once it is complete, not on every chunk.
      this.#chunks.push(buf);
      this.#buffered += buf.length;
      const first = this.#firstLength();
      if (first === undefined || this.#buffered < FRAME_HEADER_SIZE + first) return [];
      data = Buffer.concat(this.#chunks, this.#buffered);
    }
    this.#chunks = [];
    this.#buffered = 0;
    const packets: Buffer[] = [];
    let offset = 0;
    while (data.length - offset >= FRAME_HEADER_SIZE) {
      const length = this.#check((data[offset] << 8) | data[offset + 1], offset);
      if (data.length - offset - FRAME_HEADER_SIZE < length) break;
      if (length > 0)
        packets.push(data.subarray(offset + FRAME_HEADER_SIZE, offset + FRAME_HEADER_SIZE + length));
      offset += FRAME_HEADER_SIZE + length;
    }
    if (offset < data.length) {
      this.#chunks.push(data.subarray(offset));
      this.#buffered = data.length - offset;
    }
    return packets;
  }

  /** The length prefix of the buffered frame, once both of its bytes have arrived. */
  #firstLength(): number | undefined {
    if (this.#buffered < FRAME_HEADER_SIZE) return undefined;
    const [a, b] = this.#chunks;
    const high = a[0];
    const low = a.length > 1 ? a[1] : b[0];
    return this.#check((high << 8) | low, 0);
  }

  #check(length: number, offset: number): number {
    if (length > this.maxFrameSize) {
      this.#chunks = [];
      this.#buffered = 0;
      this.#failed = new ParseError(
        WHAT,
        `frame of ${length} bytes exceeds the limit of ${this.maxFrameSize}`,
        offset,
      );
      throw this.#failed;
    }
    return length;
  }

  /** Drops buffered bytes and clears a failure (for reuse on a new connection). */
  reset(): void {
    this.#chunks = [];
    this.#buffered = 0;
    this.#failed = undefined;
  }
}
