/**
 * DiagMetrics: the gateway's own Prometheus registry (never prom-client's global one) with the
 * process, stream, protocol and HTTP metrics. Served as text by GET /metrics.
 */
import { Counter, Registry } from 'prom-client';
import type { StreamRegistry } from '../core/registry.ts';
import type { LoopMonitor } from './loop.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import type { StreamSampler } from './sampler.ts';
import { registerStreamMetrics } from './stream-metrics.ts';

/** Refusals of the access control by protocol and reason (src/auth/), read at scrape time. */
export interface AuthFailureSource {
  authFailures(): { proto: string; reason: string; count: number }[];
}

export class DiagMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'route' | 'method' | 'status'>;
  readonly #stopGc: () => void;
  #closed = false;

  constructor(streams: StreamRegistry, sampler: StreamSampler, loop: LoopMonitor, auth?: AuthFailureSource) {
    this.#stopGc = registerProcessMetrics(this.registry, loop);
    registerStreamMetrics(this.registry, streams, sampler);
    this.#requests = new Counter({
      name: 'mediagate_http_requests_total',
      help: 'API and UI requests by route (the path, the static prefix, or "unmatched"), method and status.',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    });
    if (auth) {
      new Counter({
        name: 'mediagate_auth_failures_total',
        help: 'Refused API and RTSP requests by protocol and reason (missing, invalid, expired, forbidden, throttled).',
        labelNames: ['proto', 'reason'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const f of auth.authFailures()) this.inc({ proto: f.proto, reason: f.reason }, f.count);
        },
      });
    }
  }

  /** The HttpServer observer: counts one finished request. */
  observeRequest(route: string, method: string, status: number): void {
    if (!this.#closed) this.#requests.inc({ route, method, status: String(status) });
  }

  /** The Prometheus text exposition (format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Idempotent: stops the GC observer. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopGc();
  }
}
