/** Latency matching and percentiles, shared by the readers, the viewers and the report. */

/** Send times by frame identity, ascending (a looped clip sends each frame again every loop). */
export type SendTable = Map<number, number[]>;

export function sendTable(sends: readonly [key: number, us: number][]): SendTable {
  const table: SendTable = new Map();
  for (const [key, us] of sends) {
    const list = table.get(key);
    if (list) list.push(us);
    else table.set(key, [us]);
  }
  for (const list of table.values()) list.sort((a, b) => a - b);
  return table;
}

export interface LatencyStats {
  /** Frames matched to a send. */
  samples: number;
  /** Frames whose identity was not among the sends (before the table's window, or altered). */
  unmatched: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Added latency of each received frame: its arrival minus the latest send of the same frame that
 * is not after the arrival. `keys[i]`/`times[i]` are one session's arrivals (µs).
 */
export function latencyStats(table: SendTable, keys: number[][], times: number[][]): LatencyStats {
  const values: number[] = [];
  let unmatched = 0;
  for (let s = 0; s < keys.length; s++) {
    const k = keys[s];
    const t = times[s];
    for (let i = 0; i < k.length; i++) {
      const list = table.get(k[i]);
      let sent: number | undefined;
      if (list) for (const us of list) if (us <= t[i]) sent = us;
      if (sent === undefined) unmatched++;
      else values.push(t[i] - sent);
    }
  }
  values.sort((a, b) => a - b);
  return {
    samples: values.length,
    unmatched,
    p50Ms: percentile(values, 0.5) / 1000,
    p99Ms: percentile(values, 0.99) / 1000,
    maxMs: (values[values.length - 1] ?? Number.NaN) / 1000,
  };
}

/** Nearest-rank percentile of sorted values; NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
