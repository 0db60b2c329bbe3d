/**
 * Fmp4Consumer: the base of the consumers that send fragmented MP4 (MSE socket, HLS session, MP4
 * download, frame.mp4). It runs the frames through an `Fmp4Muxer` and hands the subclass init
 * segments and fragments. On top of the base class's drop-and-count, a reader whose backlog stays
 * over the limit for `stallTimeoutMs` is closed: the stream goes on for everybody else.
 */
import { Consumer, type MediaRequest } from '../../core/consumer.ts';
import { TimeoutError } from '../../core/errors.ts';
import type { Frame } from '../../core/media.ts';
import type { StreamTrack } from '../../core/track.ts';
import { sessionClosed, sessionOpened } from '../../diag/sessions.ts';
import { type Fmp4Chunk, Fmp4Muxer } from './muxer.ts';

/** Default time a reader may stay over its backlog limit before it is closed, ms. */
export const DEFAULT_STALL_TIMEOUT_MS = 10_000;

/** Why a reader was closed: its backlog stayed over the limit for too long. */
export class SlowReaderError extends TimeoutError {}

export abstract class Fmp4Consumer extends Consumer {
  /** How long the backlog may stay over `maxBacklogBytes` before the consumer closes, ms. */
  stallTimeoutMs = DEFAULT_STALL_TIMEOUT_MS;
  readonly #requests: MediaRequest[];
  #muxer: Fmp4Muxer | undefined;
  #overSince = 0;

  constructor(requests: MediaRequest[]) {
    super();
    this.#requests = requests;
  }

  /** Starts the frames and counts the session for /metrics until the consumer closes. */
  override play(): void {
    if (this.closed || this.playing) return;
    sessionOpened(this.type);
    this.once('close', () => sessionClosed(this.type));
    super.play();
  }

  requests(): MediaRequest[] {
    return this.#requests;
  }

  /** The muxer, created on the first frame from the tracks negotiation attached. */
  protected get muxer(): Fmp4Muxer {
    this.#muxer ??= new Fmp4Muxer(this.tracks);
    return this.#muxer;
  }

  /** True once the first keyframe has been muxed (the init segment exists). */
  get started(): boolean {
    return this.#muxer?.started ?? false;
  }

  override deliver(track: StreamTrack, frame: Frame): void {
    if (this.closed) return;
    const backlog = this.backlogBytes();
    if (backlog > this.maxBacklogBytes) {
      const now = performance.now();
      if (this.#overSince === 0) this.#overSince = now;
      else if (now - this.#overSince > this.stallTimeoutMs) {
        this.close(
          new SlowReaderError(
            `reader too slow: ${backlog} bytes unsent for over ${this.stallTimeoutMs / 1000} s, ${this.counters.drops} frames dropped`,
          ),
        );
        return;
      }
    } else {
      this.#overSince = 0;
    }
    super.deliver(track, frame);
  }

  protected writeFrame(track: StreamTrack, frame: Frame): void {
    const chunks = this.muxer.push(track, frame);
    for (let i = 0; i < chunks.length && !this.closed; i++) this.onChunk(chunks[i]);
  }

  /** Writes the pending frames (their durations guessed) and hands them over. */
  protected flushMuxer(): void {
    if (!this.#muxer || this.closed) return;
    for (const chunk of this.#muxer.flush()) if (!this.closed) this.onChunk(chunk);
  }

  /** Sends an init segment or a fragment. May throw: the consumer then closes with the error. */
  protected abstract onChunk(chunk: Fmp4Chunk): void;
}
