/**
 * FeedConnection: the SourceConnection of a demuxed feed (an HTTP response body, an HTTP ingest
 * request, an RTMP publisher or RTMP play session). The owner pushes the demuxer's events; the
 * first `tracks` event fixes the medias and resolves `ready`, frames wait in a bounded queue until
 * a sink is attached (the runner maps the medias to tracks only after connect() resolved), and no
 * frame for `noDataTimeoutMs` closes the connection so that the runner reconnects.
 */
import { SafeEmitter } from '../../core/emitter.ts';
import { InvalidStateError, TimeoutError, UnsupportedError } from '../../core/errors.ts';
import type { Frame, Media } from '../../core/media.ts';
import type { FrameSink, SourceConnection } from '../../core/source.ts';
import type { DemuxEvent } from '../../formats/ts/track-gate.ts';

/** Frames held until a sink is attached; later ones are dropped. */
const MAX_EARLY_FRAMES = 1024;
const MIN_CHECK_MS = 250;
const MAX_CHECK_MS = 2000;

export interface FeedOptions {
  /** Shown in the API. */
  remoteAddress?: string;
  /** How errors name the feed, e.g. `http://cam/x.flv`. */
  what: string;
  /** No frame (or, before the tracks, no event) for this long closes the connection, ms; 0 = never. */
  noDataTimeoutMs?: number;
  /** Frees what feeds the connection (a request, a socket); called once, by close(). */
  onClose?: () => void;
  /** Asks the upstream for a keyframe, when it can. */
  requestKeyframe?: () => void;
}

export class FeedConnection
  extends SafeEmitter<{ close: [error: Error | undefined] }>
  implements SourceConnection
{
  medias: readonly Media[] = [];
  readonly remoteAddress: string | undefined;
  /** Resolves with the medias once known; rejects if the connection closes before. */
  readonly ready: Promise<readonly Media[]>;
  /** Frames dropped before the sink was attached (over the early-frame limit). */
  droppedEarly = 0;
  #resolve!: (medias: readonly Media[]) => void;
  #reject!: (err: Error) => void;
  #sink: FrameSink | undefined;
  #early: [number, Frame][] = [];
  #lastDataAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #opts: FeedOptions;

  constructor(opts: FeedOptions) {
    super();
    this.#opts = opts;
    this.remoteAddress = opts.remoteAddress;
    this.ready = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.ready.catch(() => {}); // observed by whoever awaits it; never unhandled
    const timeout = opts.noDataTimeoutMs ?? 0;
    if (timeout > 0) {
      const every = Math.max(MIN_CHECK_MS, Math.min(MAX_CHECK_MS, timeout / 4));
      this.#timer = setInterval(() => this.#check(timeout), every);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True once the medias are known. */
  get hasTracks(): boolean {
    return this.medias.length > 0;
  }

  requestKeyframe(): void {
    this.#opts.requestKeyframe?.();
  }

  /** Takes a demuxer's events. A tracks event without a usable track closes the connection. */
  handle(events: readonly DemuxEvent[]): void {
    for (const event of events) {
      if (this.#closed) return;
      if (event.type === 'tracks') {
        if (this.hasTracks) continue;
        if (event.medias.length === 0) {
          this.close(new UnsupportedError(`${this.#opts.what}: no track mediagate can use`));
          return;
        }
        this.medias = event.medias;
        this.#lastDataAt = performance.now();
        this.#resolve(this.medias);
      } else {
        this.push(event.track, event.frame);
      }
    }
  }

  /** One frame of media `index`. */
  push(index: number, frame: Frame): void {
    if (this.#closed) return;
    this.#lastDataAt = performance.now();
    if (this.#sink) {
      this.#sink(index, frame);
      return;
    }
    if (this.#early.length < MAX_EARLY_FRAMES) this.#early.push([index, frame]);
    else this.droppedEarly++;
  }

  /** Marks activity that is not a frame (bytes before the tracks are known). */
  touch(): void {
    if (!this.hasTracks) this.#lastDataAt = performance.now();
  }

  /** Frames go to `sink` from now on, the queued ones first. */
  attach(sink: FrameSink): void {
    if (this.#closed) return;
    this.#sink = sink;
    const early = this.#early;
    this.#early = [];
    for (const [index, frame] of early) {
      if (this.#closed) return;
      sink(index, frame);
    }
  }

  /** Idempotent: stops the timer, frees the upstream, emits `close` once. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#early = [];
    this.#reject(error ?? new InvalidStateError(`${this.#opts.what}: closed before its tracks were known`));
    try {
      this.#opts.onClose?.();
    } finally {
      this.emit('close', error);
      this.removeAllListeners();
    }
  }

  #check(timeout: number): void {
    const idle = performance.now() - this.#lastDataAt;
    if (idle > timeout) {
      this.close(new TimeoutError(`${this.#opts.what}: no data for ${Math.round(idle / 1000)} s`));
    }
  }
}
