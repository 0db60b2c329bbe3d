/**
 * HlsSession: one HLS viewer. Its consumer muxes the stream into fMP4 fragments; the session cuts
 * them into segments at keyframes (at least `MIN_SEGMENT_SECONDS` each) and keeps a sliding window
 * of the last few. Requests that come before the data they ask for wait for it, with a deadline
 * the module's sweeper enforces; closing the session rejects every waiter.
 */
import { randomBytes } from 'node:crypto';
import type { MediaRequest } from '../../core/consumer.ts';
import { SafeEmitter } from '../../core/emitter.ts';
import { InvalidStateError, NotFoundError, TimeoutError } from '../../core/errors.ts';
import { Fmp4Consumer } from '../mp4/consumer.ts';
import type { Fmp4Chunk, Fmp4Init } from '../mp4/muxer.ts';
import { mediaPlaylist, type PlaylistSegment } from './playlist.ts';

/** A segment is cut at the first keyframe after this many seconds. */
export const MIN_SEGMENT_SECONDS = 1;
/** Without a keyframe a segment is cut anyway after this many seconds. */
const MAX_SEGMENT_SECONDS = 10;
/** Segments listed in the playlist. */
const PLAYLIST_SEGMENTS = 5;
/** Segments kept in memory: a few more than listed, for clients that read an older playlist. */
const KEPT_SEGMENTS = 8;

interface Segment extends PlaylistSegment {
  data: Buffer;
}

interface Waiter {
  ready: () => boolean;
  deadline: number;
  what: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class HlsConsumer extends Fmp4Consumer {
  readonly type = 'hls';
  constructor(
    requests: MediaRequest[],
    private readonly sink: (chunk: Fmp4Chunk) => void,
  ) {
    super(requests);
  }
  protected onChunk(chunk: Fmp4Chunk): void {
    this.sink(chunk);
  }
  protected onClose(): void {}
}

export class HlsSession extends SafeEmitter<{ close: [] }> {
  /** Unguessable: it is the only access control of the session's URLs. */
  readonly id = randomBytes(12).toString('base64url');
  readonly consumer: HlsConsumer;
  /** `performance.now()` of the last request. */
  lastAccess = performance.now();
  readonly #inits: Fmp4Init[] = [];
  #segments: Segment[] = [];
  #current: { n: number; parts: Buffer[]; bytes: number; duration: number; init: number } | undefined;
  #nextN = 0;
  #cutNext = false;
  #maxDuration = 0;
  #peakBitrate = 0;
  #waiters = new Set<Waiter>();
  #closed = false;

  constructor(
    readonly stream: string,
    requests: MediaRequest[],
  ) {
    super();
    this.consumer = new HlsConsumer(requests, (chunk) => this.#onChunk(chunk));
    this.consumer.once('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The latest init segment (codecs, size), once the first keyframe has arrived. */
  get init(): Fmp4Init | undefined {
    return this.#inits.at(-1);
  }

  /** Peak bits per second over the segments so far. */
  get bandwidth(): number {
    return this.#peakBitrate;
  }

  /** Finished segments in the window. */
  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Resolves once `count` segments are complete (at most the window size). */
  ready(count: number, timeoutMs: number): Promise<void> {
    const n = Math.min(count, PLAYLIST_SEGMENTS);
    return this.#wait(() => this.#segments.length >= n, timeoutMs, `${n} segments`);
  }

  /** The media playlist of the segments in the window. */
  playlist(): string {
    const listed = this.#segments.slice(-PLAYLIST_SEGMENTS);
    // RFC 8216 4.3.3.1: each EXTINF, rounded to the nearest integer, must not exceed the target.
    return mediaPlaylist(this.id, listed, Math.max(1, Math.round(this.#maxDuration)));
  }

  /** Init segment `version` (0 is the first); NotFoundError if there is no such one. */
  initSegment(version: number): Buffer {
    const init = this.#inits[version];
    if (!init) throw new NotFoundError(`HLS session ${this.id}: no init segment ${version}`);
    return init.data;
  }

  /**
   * Segment `n`, waiting for it when it is the one being written or the next. NotFoundError for a
   * segment that left the window or is further ahead.
   */
  async segment(n: number, timeoutMs: number): Promise<Buffer> {
    const find = () => this.#segments.find((s) => s.n === n);
    if (!find() && n >= this.#nextN - 1 && n <= this.#nextN) {
      await this.#wait(() => find() !== undefined || this.#oldest() > n, timeoutMs, `segment ${n}`);
    }
    const seg = find();
    if (!seg) throw new NotFoundError(`HLS session ${this.id}: no segment ${n}`);
    return seg.data;
  }

  /** Rejects the waiters whose deadline has passed. Called by the module's sweeper. */
  expireWaiters(now: number): void {
    for (const w of this.#waiters) {
      if (now >= w.deadline) {
        this.#waiters.delete(w);
        w.reject(new TimeoutError(`HLS session ${this.id}: ${w.what} not ready in time`));
      }
    }
  }

  /** Idempotent: closes the consumer, rejects every waiter, emits `close` once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.consumer.close();
    for (const w of this.#waiters) w.reject(new InvalidStateError(`HLS session ${this.id} closed`));
    this.#waiters.clear();
    this.#segments = [];
    this.#current = undefined;
    this.emit('close');
    this.removeAllListeners();
  }

  #oldest(): number {
    return this.#segments[0]?.n ?? 0;
  }

  #wait(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (ready()) return Promise.resolve();
    if (this.#closed) return Promise.reject(new InvalidStateError(`HLS session ${this.id} closed`));
    return new Promise((resolve, reject) => {
      this.#waiters.add({ ready, deadline: performance.now() + timeoutMs, what, resolve, reject });
    });
  }

  #wake(): void {
    for (const w of this.#waiters) {
      if (w.ready()) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }

  #onChunk(chunk: Fmp4Chunk): void {
    if (chunk.type === 'init') {
      this.#inits.push(chunk);
      // Fragments after a new init segment need it: start a new segment with them.
      if (this.#current) this.#cutNext = true;
      return;
    }
    let cur = this.#current;
    const cut =
      cur !== undefined &&
      (this.#cutNext ||
        (chunk.keyframe && cur.duration >= MIN_SEGMENT_SECONDS) ||
        cur.duration >= MAX_SEGMENT_SECONDS);
    if (cut) this.#finish();
    cur = this.#current;
    if (!cur) {
      if (!chunk.keyframe && !cut) return;
      cur = { n: this.#nextN++, parts: [], bytes: 0, duration: 0, init: this.#inits.length - 1 };
      this.#current = cur;
      this.#cutNext = false;
    }
    cur.parts.push(chunk.data);
    cur.bytes += chunk.data.length;
    cur.duration += chunk.duration;
  }

  #finish(): void {
    const cur = this.#current;
    if (!cur) return;
    this.#current = undefined;
    const data = Buffer.concat(cur.parts, cur.bytes);
    this.#segments.push({ n: cur.n, duration: cur.duration, init: cur.init, data });
    if (this.#segments.length > KEPT_SEGMENTS) this.#segments.shift();
    this.#maxDuration = Math.max(this.#maxDuration, cur.duration);
    if (cur.duration > 0) this.#peakBitrate = Math.max(this.#peakBitrate, (cur.bytes * 8) / cur.duration);
    this.#wake();
  }
}
