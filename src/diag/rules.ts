/**
 * The watchdog's rules: pure functions of a series of samples (no timers, no I/O), so that tests
 * feed synthetic samples. Each rule says what is wrong, with the values it saw and the streams
 * involved.
 */
import type { DiagConfig } from '../config/schema.ts';
import type { LoopInterval } from './loop.ts';
import type { StreamsSample } from './sampler.ts';

export type RuleName =
  | 'event_loop_lag'
  | 'heap_growth'
  | 'handles_growth'
  | 'source_stall'
  | 'consumer_drops';

/** What one sampling interval saw. */
export interface Sample extends StreamsSample {
  /** ms, monotonic (`performance.now()`). */
  at: number;
  /** Undefined when the loop was blocked on purpose (a heap snapshot) during the interval. */
  lag: LoopInterval | undefined;
  heapUsedBytes: number;
  /** Active resources (`process.getActiveResourcesInfo().length`). */
  handles: number;
}

export interface Breach {
  rule: RuleName;
  /** One line, for logs and /api/health. */
  message: string;
  values: Record<string, number | string>;
  /** Names of the streams involved (empty for process-wide rules). */
  streams: string[];
}

export type Thresholds = Pick<
  DiagConfig,
  | 'eventLoopLagP99Ms'
  | 'eventLoopLagMaxMs'
  | 'heapGrowthBytes'
  | 'heapWindowMs'
  | 'handlesGrowth'
  | 'sourceStallMs'
  | 'consumerDropRate'
>;

/** A consumer's drops are judged only over intervals with at least this many frames offered. */
const MIN_DROP_EVENTS = 20;
const MB = 1024 * 1024;

export class Rules {
  #window: { at: number; heap: number; handles: number }[] = [];
  /** Per source: its frame count and since when it has not changed while it had readers. */
  #sources = new Map<string, { frames: number; since: number }>();
  #consumers = new Map<number, { frames: number; drops: number }>();

  constructor(readonly thresholds: Thresholds) {}

  /** Evaluates every rule against the new sample (and the ones before it). */
  evaluate(sample: Sample): Breach[] {
    const breaches: Breach[] = [];
    const push = (b: Breach | undefined) => b && breaches.push(b);
    push(this.#lag(sample));
    this.#window.push({ at: sample.at, heap: sample.heapUsedBytes, handles: sample.handles });
    while (this.#window.length > 2 && sample.at - this.#window[1].at >= this.thresholds.heapWindowMs)
      this.#window.shift();
    push(this.#growth('heap_growth', 'heap', this.thresholds.heapGrowthBytes));
    push(this.#growth('handles_growth', 'handles', this.thresholds.handlesGrowth));
    push(this.#stalls(sample));
    push(this.#drops(sample));
    return breaches;
  }

  #lag(sample: Sample): Breach | undefined {
    const { lag } = sample;
    const t = this.thresholds;
    if (!lag || (lag.p99Ms <= t.eventLoopLagP99Ms && lag.maxMs <= t.eventLoopLagMaxMs)) return undefined;
    return {
      rule: 'event_loop_lag',
      message: `event loop blocked: max ${Math.round(lag.maxMs)} ms, p99 ${Math.round(lag.p99Ms)} ms in the last interval (limits ${t.eventLoopLagMaxMs} / ${t.eventLoopLagP99Ms} ms)`,
      values: {
        maxMs: round(lag.maxMs),
        p99Ms: round(lag.p99Ms),
        meanMs: round(lag.meanMs),
        samples: lag.count,
      },
      streams: [...new Set(sample.consumers.map((c) => c.stream))],
    };
  }

  /**
   * Growth of the floor (the lowest value) from the oldest quarter of the window to the newest
   * quarter: garbage comes and goes, a leak raises the floor. Judged only on a full window.
   */
  #growth(rule: RuleName, key: 'heap' | 'handles', limit: number): Breach | undefined {
    const w = this.#window;
    if (w.length < 4 || w[w.length - 1].at - w[0].at < this.thresholds.heapWindowMs) return undefined;
    const quarter = Math.max(1, Math.floor(w.length / 4));
    const floor = (part: typeof w) => part.reduce((min, s) => Math.min(min, s[key]), Infinity);
    const from = floor(w.slice(0, quarter));
    const to = floor(w.slice(-quarter));
    if (to - from < limit) return undefined;
    const seconds = Math.round((w[w.length - 1].at - w[0].at) / 1000);
    const unit = key === 'heap' ? (n: number) => `${(n / MB).toFixed(1)} MB` : (n: number) => String(n);
    return {
      rule,
      message: `${key === 'heap' ? 'heap' : 'active handles'} grew from ${unit(from)} to ${unit(to)} in ${seconds} s (limit +${unit(limit)})`,
      values: { from, to, growth: to - from, windowSeconds: seconds },
      streams: [],
    };
  }

  #stalls(sample: Sample): Breach | undefined {
    const seen = new Set<string>();
    const stalled: { stream: string; url: string; seconds: number }[] = [];
    for (const s of sample.sources) {
      const key = `${s.stream}\u0000${s.index}`;
      seen.add(key);
      const prev = this.#sources.get(key);
      // The clock runs only while readers wait and no frame arrives.
      if (!prev || prev.frames !== s.frames || s.readers === 0) {
        this.#sources.set(key, { frames: s.frames, since: sample.at });
        continue;
      }
      const ms = sample.at - prev.since;
      if (ms >= this.thresholds.sourceStallMs)
        stalled.push({ stream: s.stream, url: s.url, seconds: Math.round(ms / 1000) });
    }
    for (const key of this.#sources.keys()) if (!seen.has(key)) this.#sources.delete(key);
    if (stalled.length === 0) return undefined;
    const first = stalled[0];
    return {
      rule: 'source_stall',
      message: `${stalled.length} source(s) with readers but no frames: ${first.stream} (${first.url}) for ${first.seconds} s${stalled.length > 1 ? ', ...' : ''}`,
      values: { sources: stalled.length, seconds: first.seconds, url: first.url },
      streams: [...new Set(stalled.map((s) => s.stream))],
    };
  }

  #drops(sample: Sample): Breach | undefined {
    const seen = new Set<number>();
    const slow: { stream: string; id: number; type: string; rate: number }[] = [];
    for (const c of sample.consumers) {
      seen.add(c.id);
      const prev = this.#consumers.get(c.id);
      this.#consumers.set(c.id, { frames: c.frames, drops: c.drops });
      if (!prev) continue;
      const drops = c.drops - prev.drops;
      const offered = drops + (c.frames - prev.frames);
      if (offered < MIN_DROP_EVENTS) continue;
      const rate = drops / offered;
      if (rate >= this.thresholds.consumerDropRate)
        slow.push({ stream: c.stream, id: c.id, type: c.type, rate });
    }
    for (const id of this.#consumers.keys()) if (!seen.has(id)) this.#consumers.delete(id);
    if (slow.length === 0) return undefined;
    const worst = slow.reduce((a, b) => (b.rate > a.rate ? b : a));
    return {
      rule: 'consumer_drops',
      message: `${slow.length} consumer(s) too slow: ${worst.type} #${worst.id} of ${worst.stream} dropped ${Math.round(worst.rate * 100)}% of its frames (limit ${Math.round(this.thresholds.consumerDropRate * 100)}%)`,
      values: { consumers: slow.length, worstId: worst.id, worstRate: round(worst.rate) },
      streams: [...new Set(slow.map((s) => s.stream))],
    };
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
