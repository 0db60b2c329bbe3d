/**
 * One periodic timer per module for its sessions' deadlines (HLS expiry, MSE start timeouts),
 * instead of a timer per session. It runs only while the module has something to watch.
 */

export class Sweeper {
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * @param intervalMs how often `tick` runs, ms
   * @param tick checks deadlines; returns false when nothing is left to watch (the timer stops)
   */
  constructor(
    private readonly intervalMs: number,
    private readonly tick: (now: number) => boolean,
  ) {}

  /** Starts the timer if it is not running. Call whenever something is added to watch. */
  ensure(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => {
      let more = false;
      try {
        more = this.tick(performance.now());
      } finally {
        if (!more) this.stop();
      }
    }, this.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Idempotent: stops the timer for good. */
  close(): void {
    this.#closed = true;
    this.stop();
  }
}

/** Anything whose start is watched: closed with an error when it has not started in time. */
export interface Startable {
  readonly closed: boolean;
  readonly started: boolean;
  close(error?: Error): void;
}

/**
 * Closes consumers that have not produced their first keyframe by a deadline (a source that sends
 * no keyframe, a stream without video data), with one timer for all of them.
 */
export class StartWatch {
  readonly #deadlines = new Map<Startable, { at: number; error: () => Error }>();
  readonly #sweeper = new Sweeper(250, (now) => this.#tick(now));

  /** Closes `c` with `error()` unless it has started within `ms`. */
  watch(c: Startable, ms: number, error: () => Error): void {
    this.#deadlines.set(c, { at: performance.now() + ms, error });
    this.#sweeper.ensure();
  }

  get size(): number {
    return this.#deadlines.size;
  }

  /** Idempotent: stops watching (the consumers themselves are closed by their owners). */
  close(): void {
    this.#deadlines.clear();
    this.#sweeper.close();
  }

  #tick(now: number): boolean {
    for (const [c, d] of this.#deadlines) {
      if (c.closed || c.started) this.#deadlines.delete(c);
      else if (now >= d.at) {
        this.#deadlines.delete(c);
        c.close(d.error());
      }
    }
    return this.#deadlines.size > 0;
  }
}
