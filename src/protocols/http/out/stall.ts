/**
 * The rule for byte-stream readers (HTTP outputs, RTMP players) on top of the Consumer base
 * class's drop-and-count: a reader whose backlog stays over the limit for `timeoutMs` has stopped
 * reading and is closed, so that it stops holding memory; the stream goes on for the others.
 */
import { TimeoutError } from '../../../core/errors.ts';

/** Default time a reader may stay over its backlog limit, ms. */
export const DEFAULT_STALL_TIMEOUT_MS = 10_000;

/** Why a reader was closed: its backlog stayed over the limit for too long. */
export class StalledReaderError extends TimeoutError {}

export class StallWatch {
  #overSince = 0;

  constructor(readonly timeoutMs = DEFAULT_STALL_TIMEOUT_MS) {}

  /**
   * Called before each frame is delivered; returns the error to close the reader with once its
   * backlog has been over `maxBytes` for longer than the timeout.
   */
  check(backlog: number, maxBytes: number, drops: number): StalledReaderError | undefined {
    if (backlog <= maxBytes) {
      this.#overSince = 0;
      return undefined;
    }
    const now = performance.now();
    if (this.#overSince === 0) {
      this.#overSince = now;
      return undefined;
    }
    if (now - this.#overSince <= this.timeoutMs) return undefined;
    return new StalledReaderError(
      `reader too slow: ${backlog} bytes unsent for over ${this.timeoutMs / 1000} s, ${drops} frames dropped`,
    );
  }
}
