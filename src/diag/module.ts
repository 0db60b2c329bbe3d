/**
 * The diag module: metrics, live profiling and the watchdog. It owns ONE timer, the sampler: every
 * `diag.interval` it reads the event-loop delay, the heap, the handles and every stream's counters
 * (setting the bitrates), runs the watchdog rules and, on a breach, records an incident with a CPU
 * and a heap profile taken at that moment.
 */
import { getHeapStatistics } from 'node:v8';
import type { RequestObserver } from '../api/http.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../log/logger.ts';
import type { GatewayContext, GatewayModule, ModuleFactory } from '../module.ts';
import { scheduleTestFault } from './fault.ts';
import { labelHandle } from './handles.ts';
import { IncidentStore } from './incidents.ts';
import { LoopMonitor } from './loop.ts';
import { DiagMetrics } from './metrics.ts';
import { Profiler } from './profiler.ts';
import { mountDiagRoutes } from './routes.ts';
import type { Breach, Sample } from './rules.ts';
import { StreamSampler } from './sampler.ts';
import { Watchdog } from './watchdog.ts';

export class DiagModule implements GatewayModule {
  readonly name = 'diag';
  readonly profiler = new Profiler();
  readonly watchdog: Watchdog;
  readonly incidents: IncidentStore;
  readonly #ctx: GatewayContext;
  readonly #log: Logger;
  readonly #observer: RequestObserver;
  readonly #loop = new LoopMonitor();
  readonly #sampler: StreamSampler;
  readonly #metrics: DiagMetrics;
  readonly #pending = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  #cancelFault: (() => void) | undefined;
  #lastTick = performance.now();
  #closed = false;

  constructor(
    ctx: GatewayContext,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.#ctx = ctx;
    this.#log = ctx.logging.module('diag');
    const c = ctx.config.diag;
    this.#sampler = new StreamSampler(ctx.registry);
    this.#metrics = new DiagMetrics(ctx.registry, this.#sampler, this.#loop, ctx.auth);
    this.#observer = (route, method, status) => this.#metrics.observeRequest(route, method, status);
    this.incidents = new IncidentStore(c.incidentDir, c.maxIncidents);
    this.watchdog = new Watchdog({
      thresholds: c,
      healthHoldMs: c.healthHoldMs,
      cooldownMs: c.incidentCooldownMs,
      onIncident: (breach) => this.#incident(breach),
    });
    mountDiagRoutes(ctx.http, {
      metrics: this.#metrics,
      streams: ctx.registry,
      profiler: this.profiler,
      incidents: this.incidents,
      watchdog: this.watchdog,
      ring: ctx.logging.ring,
    });
  }

  async start(): Promise<void> {
    if (this.#closed) return;
    this.#ctx.http.observer = this.#observer;
    labelHandle(this.#ctx.http.server, 'api');
    this.#loop.reset(); // start-up work is not a stall
    this.#lastTick = performance.now();
    const interval = this.#ctx.config.diag.intervalMs;
    this.#timer = setInterval(() => this.tick(), interval);
    this.#timer.unref();
    this.#cancelFault = scheduleTestFault(this.env, this.#log);
  }

  /** One sampling round (the timer's work; public for tests). Returns what the rules saw. */
  tick(): { sample: Sample; breaches: Breach[] } {
    const now = performance.now();
    const lag = this.#loop.take();
    const sample: Sample = {
      at: now,
      // A heap snapshot stops the loop on purpose: that interval's delay is not a symptom.
      lag: this.profiler.blockedSince(this.#lastTick) ? undefined : lag,
      heapUsedBytes: getHeapStatistics().used_heap_size,
      handles: process.getActiveResourcesInfo().length,
      ...this.#sampler.sample(now),
    };
    this.#lastTick = now;
    this.#log.trace({ lag: sample.lag, heap: sample.heapUsedBytes, handles: sample.handles }, 'diag sample');
    const breaches = this.watchdog.evaluate(sample);
    for (const b of breaches) this.#log.debug({ rule: b.rule, values: b.values }, b.message);
    return { sample, breaches };
  }

  /** Resolves when the incidents being recorded are written (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Idempotent: stops the timer, the fault, the profiler, the loop monitor and the GC observer. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearInterval(this.#timer);
      this.#cancelFault?.();
      this.profiler.close();
      this.#loop.close();
      this.#metrics.close();
      if (this.#ctx.http.observer === this.#observer) this.#ctx.http.observer = undefined;
    }
    return this.settled();
  }

  #incident(breach: Breach): void {
    if (this.#closed) return;
    this.#log.warn({ rule: breach.rule, values: breach.values, streams: breach.streams }, breach.message);
    const ms = this.#ctx.config.diag.profileMs;
    const capture = async () => {
      if (this.profiler.busy) throw new Error(`profiler busy with a ${this.profiler.busy}`);
      const { cpu, heap } = await this.profiler.capture(ms);
      return { cpuprofile: cpu, heapprofile: heap };
    };
    const recording = this.incidents.record(breach, capture).then(
      (incident) =>
        this.#log.info(
          { id: incident.id, files: incident.files, notes: incident.notes },
          'incident recorded',
        ),
      (err) => this.#log.error({ err: errorMessage(err), rule: breach.rule }, 'incident not recorded'),
    );
    this.#pending.add(recording);
    void recording.finally(() => this.#pending.delete(recording));
  }
}

/** The factory for `MODULES`. */
export const createDiagModule: ModuleFactory = (ctx) => new DiagModule(ctx);
