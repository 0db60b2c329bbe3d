/**
 * Process metrics, under the names prom-client's defaults use (so existing Node dashboards work):
 * CPU, memory, GC pauses, event-loop delay, active resources by type, open file descriptors and
 * the gateway's child processes. Values are read at scrape time; the GC observer is the only
 * thing running in between and `close()` disconnects it.
 */
import { readdirSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import { childrenStarted, liveChildren } from './children.ts';
import { resourceCounts } from './handles.ts';
import { LAG_BUCKETS, type LoopMonitor } from './loop.ts';

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Registers the process metrics on `registry`; returns the function that stops the GC observer. */
export function registerProcessMetrics(registry: Registry, loop: LoopMonitor): () => void {
  const registers = [registry];
  // The counters grow by the CPU time spent since the previous scrape (since start, the first time).
  let cpu = { user: 0, system: 0 };
  // Registered before the counters it fills: prom-client collects in registration order.
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent, seconds.',
    registers,
    collect() {
      const now = process.cpuUsage();
      const user = (now.user - cpu.user) / 1e6;
      const system = (now.system - cpu.system) / 1e6;
      cpu = now;
      cpuUser.inc(Math.max(0, user));
      cpuSystem.inc(Math.max(0, system));
      this.inc(Math.max(0, user + system));
    },
  });
  const cpuUser = new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'User CPU time spent, seconds.',
    registers,
  });
  const cpuSystem = new Counter({
    name: 'process_cpu_system_seconds_total',
    help: 'System CPU time spent, seconds.',
    registers,
  });

  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size, bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'nodejs_heap_size_used_bytes',
    help: 'V8 heap in use, bytes.',
    registers,
    collect() {
      const h = getHeapStatistics();
      this.set(h.used_heap_size);
      heapTotal.set(h.total_heap_size);
      external.set(h.external_memory);
    },
  });

  const heapTotal = new Gauge({
    name: 'nodejs_heap_size_total_bytes',
    help: 'V8 heap size, bytes.',
    registers,
  });
  const external = new Gauge({
    name: 'nodejs_external_memory_bytes',
    help: 'Memory of C++ objects bound to JavaScript objects (Buffers), bytes.',
    registers,
  });
  const gc = new Histogram({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection pauses by kind (major, minor, incremental, weakcb), seconds.',
    labelNames: ['kind'],
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    registers,
  });
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as { detail?: { kind?: number } }).detail;
      const kind = GC_KINDS[detail?.kind ?? -1] ?? 'unknown';
      gc.observe({ kind }, entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  registry.registerMetric(lagHistogram(loop) as unknown as Metric);

  new Gauge({
    name: 'nodejs_active_resources',
    help: 'Resources keeping the event loop alive, by type (process.getActiveResourcesInfo()).',
    labelNames: ['type'],
    registers,
    collect() {
      this.reset();
      for (const [type, n] of Object.entries(resourceCounts())) this.set({ type }, n);
    },
  });
  new Gauge({
    name: 'process_open_fds',
    help: 'Open file descriptors (entries of /proc/self/fd; absent where there is no /proc).',
    registers,
    collect() {
      this.reset();
      try {
        this.set(readdirSync('/proc/self/fd').length);
      } catch {
        // not Linux
      }
    },
  });
  new Gauge({
    name: 'mediagate_child_processes',
    help: 'Child processes alive, by owner (src/diag/children.ts).',
    labelNames: ['owner'],
    registers,
    collect() {
      this.reset();
      const by: Record<string, number> = {};
      for (const c of liveChildren()) by[c.owner] = (by[c.owner] ?? 0) + 1;
      for (const [owner, n] of Object.entries(by)) this.set({ owner }, n);
    },
  });
  new Counter({
    name: 'mediagate_child_processes_started_total',
    help: 'Child processes started, by owner.',
    labelNames: ['owner'],
    registers,
    collect() {
      this.reset();
      for (const [owner, n] of Object.entries(childrenStarted())) this.inc({ owner }, n);
    },
  });
  return () => observer.disconnect();
}

/**
 * `nodejs_eventloop_delay_seconds` as a Prometheus histogram, from the LoopMonitor's cumulative
 * buckets (prom-client's Histogram only takes single observations).
 */
function lagHistogram(loop: LoopMonitor) {
  const name = 'nodejs_eventloop_delay_seconds';
  return {
    name,
    help: `Event-loop delay samples (one per ${loop.resolutionMs} ms the loop could run), seconds.`,
    type: 'histogram',
    aggregator: 'sum',
    collect() {},
    get() {
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] =
        LAG_BUCKETS.map((le, i) => ({
          metricName: `${name}_bucket`,
          labels: { le },
          value: loop.bucketCounts[i],
        }));
      values.push(
        { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: loop.count },
        { metricName: `${name}_sum`, labels: {}, value: loop.sumSeconds },
        { metricName: `${name}_count`, labels: {}, value: loop.count },
      );
      return { name, help: this.help, type: this.type, aggregator: this.aggregator, values };
    },
  };
}
