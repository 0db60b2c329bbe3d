/**
 * The RTMP chunk stream parser (RTMP 1.0 section 5.3): bytes of a connection in, whole messages out.
 * It applies Set Chunk Size and Abort itself, since they change how the next chunk is read.
 *
 *   basic header:  fmt (2) | csid (6)       csid 0: one more byte, csid = 64 + b1
 *                                           csid 1: two more bytes, csid = 64 + b1 + 256 * b2
 *   fmt 0 (11 B):  timestamp (24) | message length (24) | type id (8) | stream id (32, little endian)
 *   fmt 1 (7 B):   timestamp delta (24) | message length (24) | type id (8)
 *   fmt 2 (3 B):   timestamp delta (24)
 *   fmt 3 (0 B):   everything as the previous chunk of this chunk stream
 *   extended timestamp (32): when the 24-bit field is 0xFFFFFF. On fmt 3 chunks that continue a
 *   message, writers differ on whether it is repeated (5.3.1.3): it is taken when the four bytes
 *   equal the chunk stream's last extended value (as SRS does), else they are payload.
 *
 * A new message on fmt 3 advances the timestamp by the chunk stream's last timestamp field (a
 * fmt 0's absolute value too, as ffmpeg reads it). Every limit is checked before the memory is
 * taken; a violation throws `ParseError` and the parser stays failed.
 */
import { ParseError } from '../../core/errors.ts';
import {
  type ChunkLimits,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  MAX_MESSAGE_SIZE,
  MessageType,
  type RtmpMessage,
} from './types.ts';

const WHAT = 'RTMP chunk';
const FMT_SHIFT = 6;
const CSID_MASK = 0x3f;
const CSID_2_BYTES = 0;
const CSID_3_BYTES = 1;
const CSID_OFFSET = 64;
const HEADER_SIZE = [11, 7, 3, 0] as const;
const EXTENDED = 0xffffff;
const EXTENDED_SIZE = 4;
const U32 = 2 ** 32;
const DEFAULT_MAX_CHUNK_STREAMS = 64;
const DEFAULT_MAX_PENDING_BYTES = 32 * 1024 * 1024;

interface ChunkStreamState {
  timestamp: number;
  /** The last timestamp field read (a delta, or a fmt 0's absolute time). */
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** Whether the last header carried an extended timestamp, and its value. */
  extended: boolean;
  extendedValue: number;
  /** The message being reassembled. */
  parts: Buffer[] | undefined;
  received: number;
}

/** Counters of a parser; they only grow. */
export interface ChunkParserStats {
  chunks: number;
  messages: number;
  /** Unfinished messages dropped by an Abort or a new header on their chunk stream. */
  aborted: number;
}

/** Streaming chunk parser; see the file comment. */
export class ChunkParser {
  readonly stats: ChunkParserStats = { chunks: 0, messages: 0, aborted: 0 };
  #chunkSize = DEFAULT_CHUNK_SIZE;
  readonly #maxChunkSize: number;
  readonly #maxMessageSize: number;
  readonly #maxChunkStreams: number;
  readonly #maxPendingBytes: number;
  readonly #streams = new Map<number, ChunkStreamState>();
  #pendingBytes = 0;
  #parts: Buffer[] = [];
  #size = 0;
  /** Bytes needed before parsing can go on. */
  #need = 1;
  #failure: ParseError | undefined;

  constructor(limits: ChunkLimits = {}) {
    this.#maxChunkSize = Math.min(limits.maxChunkSize ?? MAX_CHUNK_SIZE, MAX_CHUNK_SIZE);
    this.#maxMessageSize = Math.min(limits.maxMessageSize ?? MAX_MESSAGE_SIZE, MAX_MESSAGE_SIZE);
    this.#maxChunkStreams = limits.maxChunkStreams ?? DEFAULT_MAX_CHUNK_STREAMS;
    this.#maxPendingBytes = limits.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  }

  /** The peer's current chunk size, bytes. */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  /** Bytes held: unparsed input plus unfinished messages. */
  get bufferedBytes(): number {
    return this.#size + this.#pendingBytes;
  }

  /**
   * Feeds bytes; returns the messages they complete, in order. The parser keeps views of `chunk`
   * (and message bodies may alias it): the caller must not modify it afterwards. Throws
   * `ParseError` on a protocol violation or a limit, and again on every later call.
   */
  push(chunk: Buffer): RtmpMessage[] {
    if (this.#failure) throw this.#failure;
    if (chunk.length === 0) return [];
    this.#parts.push(chunk);
    this.#size += chunk.length;
    if (this.#size < this.#need) return [];
    const buf = this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts, this.#size);
    const out: RtmpMessage[] = [];
    let o = 0;
    try {
      for (;;) {
        const next = this.#chunk(buf, o, out);
        if (next < 0) break;
        o = next;
      }
    } catch (err) {
      if (err instanceof ParseError) this.#failure = err;
      throw err;
    }
    const rest = buf.subarray(o);
    this.#parts = rest.length > 0 ? [rest] : [];
    this.#size = rest.length;
    return out;
  }

  /**
   * Parses the chunk at `o`; returns the offset after it, or -1 (and sets `#need`) when more bytes
   * are needed. Nothing changes until the whole chunk is there.
   */
  #chunk(buf: Buffer, o: number, out: RtmpMessage[]): number {
    const start = o;
    const wait = (bytes: number) => {
      this.#need = bytes;
      return -1;
    };
    if (o >= buf.length) return wait(1);
    const fmt = buf[o] >> FMT_SHIFT;
    let csid = buf[o] & CSID_MASK;
    o++;
    if (csid === CSID_2_BYTES) {
      if (o + 1 > buf.length) return wait(o + 1 - start);
      csid = CSID_OFFSET + buf[o];
      o += 1;
    } else if (csid === CSID_3_BYTES) {
      if (o + 2 > buf.length) return wait(o + 2 - start);
      csid = CSID_OFFSET + buf[o] + 256 * buf[o + 1];
      o += 2;
    }
    const headerSize = HEADER_SIZE[fmt];
    if (o + headerSize > buf.length) return wait(o + headerSize - start);
    let state = this.#streams.get(csid);
    if (!state && fmt >= 2) {
      throw new ParseError(WHAT, `chunk stream ${csid} starts with a fmt ${fmt} header`, start);
    }
    if (!state && this.#streams.size >= this.#maxChunkStreams) {
      throw new ParseError(WHAT, `more than ${this.#maxChunkStreams} chunk streams`, start);
    }
    // Header fields into locals: committed only once the payload is there.
    let field = 0;
    let length = state?.length ?? 0;
    let type = state?.type ?? 0;
    let streamId = state?.streamId ?? 0;
    if (fmt <= 2) {
      field = buf.readUIntBE(o, 3);
      if (fmt <= 1) {
        length = buf.readUIntBE(o + 3, 3);
        type = buf[o + 6];
      }
      if (fmt === 0) streamId = buf.readUInt32LE(o + 7);
      o += headerSize;
    }
    let extended = state?.extended ?? false;
    let extendedValue = state?.extendedValue ?? 0;
    const continuing = fmt === 3 && state?.parts !== undefined;
    if (fmt <= 2) {
      extended = field === EXTENDED;
      if (extended) {
        if (o + EXTENDED_SIZE > buf.length) return wait(o + EXTENDED_SIZE - start);
        field = buf.readUInt32BE(o);
        extendedValue = field;
        o += EXTENDED_SIZE;
      }
    } else if (extended) {
      if (o + EXTENDED_SIZE > buf.length) return wait(o + EXTENDED_SIZE - start);
      const value = buf.readUInt32BE(o);
      if (!continuing || value === extendedValue) {
        o += EXTENDED_SIZE;
        extendedValue = value;
      }
    }
    if (length > this.#maxMessageSize) {
      throw new ParseError(WHAT, `message of ${length} bytes exceeds ${this.#maxMessageSize}`, start);
    }
    const received = continuing ? state!.received : 0;
    const size = Math.min(this.#chunkSize, length - received);
    if (o + size > buf.length) return wait(o + size - start);
    const completes = received + size === length;
    if (!completes && this.#pendingBytes + size > this.#maxPendingBytes) {
      throw new ParseError(
        WHAT,
        `unfinished messages would hold ${this.#pendingBytes + size} bytes, over ${this.#maxPendingBytes}`,
        start,
      );
    }
    // Commit.
    this.stats.chunks++;
    if (!state) {
      state = {
        timestamp: 0,
        delta: 0,
        length,
        type,
        streamId,
        extended: false,
        extendedValue: 0,
        parts: undefined,
        received: 0,
      };
      this.#streams.set(csid, state);
    }
    if (!continuing) {
      if (state.parts) this.#drop(state); // a new header while a message was unfinished
      if (fmt === 0) state.timestamp = field;
      else if (fmt <= 2) state.timestamp = (state.timestamp + field) % U32;
      else state.timestamp = (state.timestamp + state.delta) % U32;
      if (fmt <= 2) state.delta = field;
      state.length = length;
      state.type = type;
      state.streamId = streamId;
      state.parts = [];
      state.received = 0;
    }
    state.extended = extended;
    state.extendedValue = extendedValue;
    const payload = buf.subarray(o, o + size);
    o += size;
    const parts = state.parts!;
    if (size > 0) parts.push(payload);
    state.received += size;
    if (!completes) {
      this.#pendingBytes += size;
      return o;
    }
    this.#pendingBytes -= state.received - size;
    const body = parts.length === 1 ? parts[0] : Buffer.concat(parts, state.received);
    state.parts = undefined;
    state.received = 0;
    this.stats.messages++;
    const message: RtmpMessage = {
      csid,
      type: state.type,
      streamId: state.streamId,
      timestamp: state.timestamp,
      body,
    };
    this.#control(message, start);
    out.push(message);
    return o;
  }

  /** Set Chunk Size and Abort change how the following chunks are read. */
  #control(message: RtmpMessage, offset: number): void {
    if (message.type === MessageType.SET_CHUNK_SIZE) {
      ParseError.need(WHAT, message.body, 0, 4, 'Set Chunk Size');
      const size = message.body.readUInt32BE(0);
      if (size === 0 || size > this.#maxChunkSize) {
        throw new ParseError(WHAT, `Set Chunk Size ${size} outside 1..${this.#maxChunkSize}`, offset);
      }
      this.#chunkSize = size;
    } else if (message.type === MessageType.ABORT && message.body.length >= 4) {
      const state = this.#streams.get(message.body.readUInt32BE(0));
      if (state?.parts) this.#drop(state);
    }
  }

  #drop(state: ChunkStreamState): void {
    this.#pendingBytes -= state.received;
    state.parts = undefined;
    state.received = 0;
    this.stats.aborted++;
  }
}
