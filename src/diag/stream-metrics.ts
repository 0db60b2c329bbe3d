/**
 * Stream and protocol metrics, collected at scrape time from `registry.list()` (no per-frame
 * work): consumers, source state, frames and bytes in and out, drops, reconnects and keyframe
 * requests per stream; consumers and sessions per protocol.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { StreamRegistry } from '../core/registry.ts';
import type { SourceState } from '../core/runner.ts';
import type { StreamSampler } from './sampler.ts';
import { sessionCounts } from './sessions.ts';

const STATES: SourceState[] = ['idle', 'connecting', 'online', 'backoff', 'closed'];

/** Registers the stream and protocol metrics on `registry`. */
export function registerStreamMetrics(
  registry: Registry,
  streams: StreamRegistry,
  sampler: StreamSampler,
): void {
  const registers = [registry];
  const source = ['stream', 'source'] as const;
  const gauge = (name: string, help: string, labelNames: readonly string[]) =>
    new Gauge({ name, help, labelNames, registers });
  const counter = (name: string, help: string, labelNames: readonly string[]) =>
    new Counter({ name, help, labelNames, registers });

  // One collect fills every stream family, so that a scrape reads each stream once. It must be
  // registered first: prom-client collects the metrics in registration order.
  new Gauge({
    name: 'mediagate_streams',
    help: 'Streams configured or created.',
    registers,
    collect() {
      for (const m of [consumers, state, bitrateIn, framesIn, bytesIn, reconnects, keyframes, byType])
        m.reset();
      for (const m of [framesOut, bytesOut, drops, errors]) m.reset();
      const list = streams.list();
      this.set(list.length);
      const types: Record<string, number> = {};
      for (const s of list) {
        const stream = s.name;
        consumers.set({ stream }, s.consumers.length);
        for (const c of s.consumers) types[c.type] = (types[c.type] ?? 0) + 1;
        for (const r of s.sources) {
          const labels = { stream, source: r.url };
          for (const st of STATES) state.set({ ...labels, state: st }, r.state === st ? 1 : 0);
          bitrateIn.set(labels, r.bitrate);
          framesIn.inc(labels, r.frames);
          bytesIn.inc(labels, r.bytes);
          reconnects.inc(labels, r.reconnects);
          keyframes.inc(labels, r.keyframeRequests);
        }
      }
      for (const [stream, t] of sampler.outTotals()) {
        framesOut.inc({ stream }, t.frames);
        bytesOut.inc({ stream }, t.bytes);
        drops.inc({ stream }, t.drops);
        errors.inc({ stream }, t.errors);
      }
      for (const [type, n] of Object.entries(types)) byType.set({ type }, n);
    },
  });

  const consumers = gauge('mediagate_stream_consumers', 'Consumers reading the stream.', ['stream']);
  const state = gauge(
    'mediagate_source_state',
    'State of each source: 1 for its current state, 0 for the others.',
    [...source, 'state'],
  );
  const bitrateIn = gauge(
    'mediagate_source_bitrate_bits',
    'Source bitrate over the last sampling interval, bit/s.',
    source,
  );
  const framesIn = counter('mediagate_source_frames_total', 'Frames received from the source.', source);
  const bytesIn = counter('mediagate_source_bytes_total', 'Payload bytes received from the source.', source);
  const reconnects = counter(
    'mediagate_source_reconnects_total',
    'Reconnect attempts of the source.',
    source,
  );
  const keyframes = counter(
    'mediagate_source_keyframe_requests_total',
    'Keyframe requests (PLI/FIR) forwarded to the source.',
    source,
  );
  const framesOut = counter(
    'mediagate_stream_frames_out_total',
    "Frames written to the stream's consumers.",
    ['stream'],
  );
  const bytesOut = counter(
    'mediagate_stream_bytes_out_total',
    "Payload bytes written to the stream's consumers.",
    ['stream'],
  );
  const drops = counter(
    'mediagate_stream_drops_total',
    'Frames dropped because a consumer was too slow (its backlog over the limit).',
    ['stream'],
  );
  const errors = counter('mediagate_stream_consumer_errors_total', 'Consumers closed by a write error.', [
    'stream',
  ]);
  const byType = gauge('mediagate_consumers', 'Consumers by protocol (their type).', ['type']);

  new Counter({
    name: 'mediagate_sessions_total',
    help: 'Protocol sessions opened since start.',
    labelNames: ['protocol'],
    registers,
    collect() {
      this.reset();
      open.reset();
      for (const [protocol, c] of Object.entries(sessionCounts())) {
        this.inc({ protocol }, c.total);
        open.set({ protocol }, c.open);
      }
    },
  });
  const open = gauge('mediagate_sessions_open', 'Protocol sessions open now (src/diag/sessions.ts).', [
    'protocol',
  ]);
}
