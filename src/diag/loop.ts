/**
 * Event-loop delay: one `monitorEventLoopDelay` histogram, read and reset once per sampling
 * interval. Each interval's p99 and max feed the watchdog; the intervals also accumulate into a
 * cumulative Prometheus histogram (`nodejs_eventloop_delay_seconds`).
 *
 * A reset forgets when the histogram's timer last fired, so the first gap after a reset is never
 * recorded, and neither is a gap still open when we read: a stall right after or right before a
 * reset would go unseen. The gaps that are recorded add up to the time covered, so whatever
 * elapsed beyond them (less a resolution period for each of those two gaps) is a stall too.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** The event-loop delay of one sampling interval, with the timer resolution already subtracted. */
export interface LoopInterval {
  /** Samples taken (one per resolution tick that the loop managed to run). */
  count: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** Upper bounds of the Prometheus buckets, seconds. */
export const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class LoopMonitor {
  /** Cumulative count of samples at or below each of `LAG_BUCKETS`. */
  readonly bucketCounts = LAG_BUCKETS.map(() => 0);
  /** Cumulative number of samples and their sum (seconds) since start. */
  count = 0;
  sumSeconds = 0;

  readonly #histogram: IntervalHistogram;
  readonly #resolutionNs: number;
  #since = performance.now();
  #closed = false;

  /** @param resolutionMs the sampling period of the histogram, ms (default 20) */
  constructor(readonly resolutionMs = 20) {
    this.#resolutionNs = resolutionMs * 1e6;
    this.#histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#histogram.enable();
  }

  /** Forgets what was recorded so far (start-up work is not a stall). */
  reset(): void {
    this.#histogram.reset();
    this.#since = performance.now();
  }

  /** Reads the interval since the last call, adds it to the cumulative buckets and resets. */
  take(): LoopInterval {
    const now = performance.now();
    const h = this.#histogram;
    const count = h.count;
    const delay = (ns: number) => Math.max(0, ns - this.#resolutionNs) / 1e6;
    const out: LoopInterval =
      count === 0
        ? { count: 0, p99Ms: 0, maxMs: 0, meanMs: 0 }
        : { count, p99Ms: delay(h.percentile(99)), maxMs: delay(h.max), meanMs: delay(h.mean) };
    const recordedMs = count === 0 ? 0 : (count * h.mean) / 1e6;
    const unseenMs = now - this.#since - recordedMs - 2 * this.resolutionMs;
    out.maxMs = Math.max(out.maxMs, unseenMs);
    this.#since = now;
    if (count > 0) {
      // percentiles: rank (0..100) -> value, non-decreasing in both; the share of samples at or
      // below a bucket bound is the highest rank whose value fits.
      const ranks = [...h.percentiles];
      LAG_BUCKETS.forEach((bound, i) => {
        let rank = 0;
        for (const [p, v] of ranks) if (delay(v) / 1000 <= bound) rank = p;
        this.bucketCounts[i] += Math.round((count * rank) / 100);
      });
      this.count += count;
      this.sumSeconds += (out.meanMs / 1000) * count;
    }
    if (unseenMs > this.resolutionMs) {
      // The stall the histogram missed counts as one more sample.
      LAG_BUCKETS.forEach((bound, i) => {
        if (unseenMs / 1000 <= bound) this.bucketCounts[i]++;
      });
      this.count++;
      this.sumSeconds += unseenMs / 1000;
    }
    h.reset();
    return out;
  }

  /** Idempotent: stops the histogram. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#histogram.disable();
  }
}
