/**
 * The RTMP chunk stream writer (RTMP 1.0 section 5.3): messages in, chunk bytes out. The header of
 * a message's first chunk is the smallest that says everything the previous message of its chunk
 * stream did not (fmt 0 for a new chunk stream, another message stream or a timestamp going back;
 * fmt 1 when length or type differ; fmt 2 otherwise); continuation chunks are fmt 3 and repeat an
 * extended timestamp, as ffmpeg and librtmp expect. A new message is never sent as fmt 3, whose
 * timestamp readers disagree on.
 */
import { BadRequestError } from '../../core/errors.ts';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_MESSAGE_SIZE, type RtmpMessage } from './types.ts';

const FMT_SHIFT = 6;
const EXTENDED = 0xffffff;
const U32 = 2 ** 32;
const MIN_CSID = 2;
const MAX_CSID = 65599;
const ONE_BYTE_MAX = 63;
const TWO_BYTE_MAX = 319;
const CSID_OFFSET = 64;

interface WrittenState {
  timestamp: number;
  length: number;
  type: number;
  streamId: number;
}

/** Encodes messages as chunks; see the file comment. */
export class ChunkWriter {
  #chunkSize = DEFAULT_CHUNK_SIZE;
  readonly #streams = new Map<number, WrittenState>();

  /** The chunk size in use, bytes. */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  /**
   * Changes the chunk size of the messages written from now on. Send a Set Chunk Size message
   * with the same value first (written with the old size). Throws `BadRequestError` outside
   * 1..2^31-1.
   */
  setChunkSize(size: number): void {
    if (!Number.isInteger(size) || size < 1 || size > MAX_CHUNK_SIZE) {
      throw new BadRequestError(`RTMP chunk size ${size} outside 1..${MAX_CHUNK_SIZE}`);
    }
    this.#chunkSize = size;
  }

  /**
   * The chunks of one message as a single buffer. Throws `BadRequestError` for a csid outside
   * 2..65599 or a body over 16 MiB - 1.
   */
  write(message: RtmpMessage): Buffer {
    const { csid, body } = message;
    if (!Number.isInteger(csid) || csid < MIN_CSID || csid > MAX_CSID) {
      throw new BadRequestError(`RTMP chunk stream id ${csid} outside ${MIN_CSID}..${MAX_CSID}`);
    }
    if (body.length > MAX_MESSAGE_SIZE) {
      throw new BadRequestError(`RTMP message of ${body.length} bytes exceeds ${MAX_MESSAGE_SIZE}`);
    }
    const timestamp = ((Math.round(message.timestamp) % U32) + U32) % U32;
    const prev = this.#streams.get(csid);
    let fmt: number;
    let field: number;
    if (!prev || prev.streamId !== message.streamId || timestamp < prev.timestamp) {
      fmt = 0;
      field = timestamp;
    } else {
      field = timestamp - prev.timestamp;
      fmt = prev.length !== body.length || prev.type !== message.type ? 1 : 2;
    }
    this.#streams.set(csid, {
      timestamp,
      length: body.length,
      type: message.type,
      streamId: message.streamId,
    });
    const extended = field >= EXTENDED;
    const basic = basicHeader(fmt, csid);
    const continuation = basicHeader(3, csid);
    const extSize = extended ? 4 : 0;
    const headerSize = [11, 7, 3][fmt];
    const chunks = Math.max(1, Math.ceil(body.length / this.#chunkSize));
    const total =
      basic.length + headerSize + extSize + body.length + (chunks - 1) * (continuation.length + extSize);
    const out = Buffer.allocUnsafe(total);
    let o = basic.copy(out, 0);
    out.writeUIntBE(extended ? EXTENDED : field, o, 3);
    if (fmt <= 1) {
      out.writeUIntBE(body.length, o + 3, 3);
      out[o + 6] = message.type;
    }
    if (fmt === 0) out.writeUInt32LE(message.streamId >>> 0, o + 7);
    o += headerSize;
    if (extended) o = out.writeUInt32BE(field, o);
    for (let i = 0; i < chunks; i++) {
      if (i > 0) {
        o += continuation.copy(out, o);
        if (extended) o = out.writeUInt32BE(field, o);
      }
      const from = i * this.#chunkSize;
      o += body.copy(out, o, from, Math.min(body.length, from + this.#chunkSize));
    }
    return out;
  }
}

/** The 1-, 2- or 3-byte basic header (5.3.1.1). */
function basicHeader(fmt: number, csid: number): Buffer {
  const head = fmt << FMT_SHIFT;
  if (csid <= ONE_BYTE_MAX) return Buffer.from([head | csid]);
  if (csid <= TWO_BYTE_MAX) return Buffer.from([head, csid - CSID_OFFSET]);
  const v = csid - CSID_OFFSET;
  return Buffer.from([head | 1, v & 0xff, v >> 8]);
}
