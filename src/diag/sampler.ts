/**
 * StreamSampler: reads every stream's source and consumer counters once per sampling interval
 * (never per frame), sets their `bitrate` from the byte counters, and keeps per-stream totals of
 * consumers that have left so that the "out" counters of /metrics never go backwards.
 */
import type { Consumer, ConsumerCounters } from '../core/consumer.ts';
import type { StreamRegistry } from '../core/registry.ts';
import type { SourceRunner, SourceState } from '../core/runner.ts';

/** One source at one sampling instant. */
export interface SourceSample {
  stream: string;
  /** Position among the stream's sources (publishers first), to tell equal URLs apart. */
  index: number;
  url: string;
  state: SourceState;
  /** Readers of the source's tracks. */
  readers: number;
  frames: number;
  bytes: number;
}

/** One consumer at one sampling instant. */
export interface ConsumerSample {
  stream: string;
  id: number;
  type: string;
  frames: number;
  drops: number;
  bytes: number;
}

export interface StreamsSample {
  sources: SourceSample[];
  consumers: ConsumerSample[];
}

interface Mark {
  bytes: number;
  at: number;
}

const zero = (): ConsumerCounters => ({ frames: 0, bytes: 0, drops: 0, errors: 0 });

export class StreamSampler {
  readonly #sourceMarks = new WeakMap<SourceRunner, Mark>();
  readonly #consumerMarks = new WeakMap<Consumer, Mark>();
  readonly #seen = new WeakSet<Consumer>();
  /** Counters of consumers that have closed, by stream name. */
  readonly #retired = new Map<string, ConsumerCounters>();

  constructor(private readonly registry: StreamRegistry) {}

  /** Samples every stream at `now` (ms, `performance.now()`) and updates the bitrates. */
  sample(now: number): StreamsSample {
    const out: StreamsSample = { sources: [], consumers: [] };
    const names = new Set<string>();
    for (const stream of this.registry.list()) {
      names.add(stream.name);
      stream.sources.forEach((runner, index) => {
        runner.bitrate = rate(this.#sourceMarks, runner, runner.bytes, now);
        out.sources.push({
          stream: stream.name,
          index,
          url: runner.url,
          state: runner.state,
          readers: runner.readerCount,
          frames: runner.frames,
          bytes: runner.bytes,
        });
      });
      for (const consumer of stream.consumers) {
        this.#see(stream.name, consumer);
        consumer.bitrate = rate(this.#consumerMarks, consumer, consumer.counters.bytes, now);
        const c = consumer.counters;
        out.consumers.push({
          stream: stream.name,
          id: consumer.id,
          type: consumer.type,
          frames: c.frames,
          drops: c.drops,
          bytes: c.bytes,
        });
      }
    }
    for (const name of this.#retired.keys()) if (!names.has(name)) this.#retired.delete(name);
    return out;
  }

  /**
   * Frames, bytes, drops and errors sent to consumers per stream since the stream was created (as
   * far as seen: a consumer that came and went between two samples is not counted).
   */
  outTotals(): Map<string, ConsumerCounters> {
    const totals = new Map<string, ConsumerCounters>();
    for (const stream of this.registry.list()) {
      const t = { ...(this.#retired.get(stream.name) ?? zero()) };
      for (const consumer of stream.consumers) {
        this.#see(stream.name, consumer);
        add(t, consumer.counters);
      }
      totals.set(stream.name, t);
    }
    return totals;
  }

  #see(stream: string, consumer: Consumer): void {
    if (this.#seen.has(consumer)) return;
    this.#seen.add(consumer);
    consumer.once('close', () => {
      const t = this.#retired.get(stream) ?? zero();
      add(t, consumer.counters);
      this.#retired.set(stream, t);
    });
  }
}

function add(into: ConsumerCounters, c: ConsumerCounters): void {
  into.frames += c.frames;
  into.bytes += c.bytes;
  into.drops += c.drops;
  into.errors += c.errors;
}

/** Bits per second since the object's previous mark; 0 at the first. */
function rate<K extends object>(marks: WeakMap<K, Mark>, key: K, bytes: number, now: number): number {
  const prev = marks.get(key);
  marks.set(key, { bytes, at: now });
  if (!prev || now <= prev.at || bytes < prev.bytes) return 0;
  return Math.round(((bytes - prev.bytes) * 8 * 1000) / (now - prev.at));
}
