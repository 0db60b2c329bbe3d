/**
 * Scenario 1 (and 3): RTSP fan-out of the clip to N TCP-interleaved readers, for one server
 * (mediagate, gst-rtsp-server, or the Node ceiling). Readers are added in steps (1, 10, 50, 200)
 * to the same server; each step is measured over its own window. Per-reader memory is
 * (RSS at N - RSS with the source and no reader) / N.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clip } from '../lib/clip.ts';
import { startWorker } from '../lib/ipc.ts';
import { freeUdpPortPair } from '../lib/ports.ts';
import type { ProcessGroup } from '../lib/procs.ts';
import { type Server, startCeiling, startGstRelay, startMediagate } from '../lib/servers.ts';
import type { LatencyStats } from '../lib/stats.ts';
import { BEHIND_RATIO, measureWindow, round, settledRss, waitFirstFullGc } from './measure.ts';

export type RtspServerKind = 'mediagate' | 'gst-rtsp-server' | 'ceiling';

export interface RtspStep {
  readers: number;
  /** Sessions that failed to start (cumulative) and sessions closed during the window. */
  failed: number;
  closed: number;
  windowSeconds: number;
  /** Bytes delivered to all readers in the window (interleaved framing included). */
  bytes: number;
  mbps: number;
  packets: number;
  /** RTP packets missing by sequence number, summed over readers. */
  drops: number;
  /** Readers that got less than 90% of the packets the source sent in the window (falling behind). */
  behind: number;
  /** The least any reader got, as a share of the source's packets in the window. */
  minShare: number | null;
  serverCpuSeconds: number;
  /** Server CPU seconds per delivered gigabyte (10^9 bytes). */
  cpuSecondsPerGB: number | null;
  /** Readers' process CPU seconds in the window (the harness's own cost). */
  clientCpuSeconds: number;
  latency: LatencyStats;
  rssMB: number;
  /** (RSS at N - RSS at 0) / N, kilobytes. */
  rssPerReaderKB: number | null;
  /** (RSS at N - RSS at the previous step) / (N - previous N), kilobytes: one more reader's cost. */
  marginalKB: number | null;
  load1: number;
}

export interface RtspRun {
  server: RtspServerKind;
  rssIdleMB: number;
  steps: RtspStep[];
  error?: string;
}

export interface RtspOptions {
  clip: Clip;
  steps: number[];
  windowSeconds: number;
  settleSeconds: number;
  /** Stop adding steps after this time (performance.now() ms). */
  deadline: number;
  /** Short waits, for trying the harness. */
  quick?: boolean;
  log: (line: string) => void;
}

async function startServer(
  kind: RtspServerKind,
  group: ProcessGroup,
  clip: Clip,
): Promise<{ server: Server; url: string; feed: Record<string, unknown> }> {
  if (kind === 'mediagate') {
    const mg = await startMediagate(group);
    const url = `rtsp://127.0.0.1:${mg.rtspPort}/bench`;
    return { server: mg, url, feed: { rtsp: url } };
  }
  if (kind === 'ceiling') {
    const c = await startCeiling(group);
    return { server: c, url: c.url, feed: { rtsp: c.url } };
  }
  const udp = await freeUdpPortPair();
  const g = await startGstRelay(group, udp, clip.codec.fmtp?.['sprop-parameter-sets'] ?? '');
  return { server: g, url: g.url, feed: { udp } };
}

export async function runRtsp(
  kind: RtspServerKind,
  group: ProcessGroup,
  opts: RtspOptions,
): Promise<RtspRun> {
  const run: RtspRun = { server: kind, rssIdleMB: 0, steps: [] };
  const { server, url, feed } = await startServer(kind, group, opts.clip);
  const publisher = startWorker(group, 'publisher', 'publisher.ts');
  const readers = startWorker(group, 'rtsp-readers', 'rtsp-readers.ts');
  try {
    await publisher.call('start', { clip: opts.clip.path, ...feed }, 20000);
    // The source flows with no reader (gst-rtsp-server only starts its pipeline on the first DESCRIBE).
    await sleep(opts.settleSeconds * 1000);
    // A Node server's RSS is only comparable after its first full GC (see waitFirstFullGc).
    if (kind === 'mediagate' || kind === 'ceiling')
      await waitFirstFullGc(server.pid, opts.quick ? 5000 : 45000);
    const rss0 = await settledRss(server.pid);
    run.rssIdleMB = round(rss0 / 1e6) ?? 0;
    let current = 0;
    let prevRss = rss0;
    let prevN = 0;
    for (const n of opts.steps) {
      if (performance.now() > opts.deadline) {
        opts.log(`  ${kind}: time budget reached, skipping ${n} readers`);
        break;
      }
      const added = await readers.call<{ failed: number; errors: string[] }>(
        'add',
        { url, count: n - current, timeoutMs: 20000 },
        90000,
      );
      current = n;
      if (added.errors.length) opts.log(`  ${kind}: ${added.failed} failed: ${added.errors.join('; ')}`);
      await sleep(opts.settleSeconds * 1000);
      const w = await measureWindow(server.pid, readers, publisher, opts.windowSeconds);
      const sends = await publisher.call<[number, number][]>('sends', { sinceUs: w.startUs - 10_000_000 });
      const r = await readers.call<{
        bytes: number;
        packets: number;
        lost: number;
        closed: number;
        latency: LatencyStats;
        behind: number;
        minPackets: number;
      }>('collect', { sends, expectedPackets: w.sourcePackets * BEHIND_RATIO }, 60000);
      const step: RtspStep = {
        readers: n,
        failed: added.failed,
        closed: r.closed,
        windowSeconds: round(w.seconds) ?? 0,
        bytes: r.bytes,
        mbps: round((r.bytes * 8) / w.seconds / 1e6, 1) ?? 0,
        packets: r.packets,
        drops: r.lost,
        behind: r.behind,
        minShare: w.sourcePackets > 0 ? round(r.minPackets / w.sourcePackets, 3) : null,
        serverCpuSeconds: round(w.serverCpu) ?? 0,
        cpuSecondsPerGB: r.bytes > 0 ? round(w.serverCpu / (r.bytes / 1e9)) : null,
        clientCpuSeconds: round(w.clientCpu) ?? 0,
        latency: {
          ...r.latency,
          p50Ms: round(r.latency.p50Ms) ?? Number.NaN,
          p99Ms: round(r.latency.p99Ms) ?? Number.NaN,
          maxMs: round(r.latency.maxMs) ?? Number.NaN,
        },
        rssMB: round(w.rss / 1e6) ?? 0,
        rssPerReaderKB: round((w.rss - rss0) / n / 1024, 1),
        marginalKB: round((w.rss - prevRss) / (n - prevN) / 1024, 1),
        load1: round(w.load1) ?? 0,
      };
      run.steps.push(step);
      prevRss = w.rss;
      prevN = n;
      opts.log(
        `  ${kind.padEnd(16)} N=${String(n).padStart(3)}  ${String(step.mbps).padStart(6)} Mbit/s  cpu ${step.serverCpuSeconds}s` +
          ` (${step.cpuSecondsPerGB} s/GB)  drops ${step.drops} behind ${step.behind}  latency p50 ${step.latency.p50Ms} p99 ${step.latency.p99Ms} ms` +
          `  rss/reader ${step.rssPerReaderKB} KB  load ${step.load1}`,
      );
    }
  } catch (err) {
    run.error = err instanceof Error ? err.message.split('\n')[0] : String(err);
    opts.log(`  ${kind}: ${run.error}`);
  } finally {
    await readers.call('close', {}, 10000).catch(() => {});
    await readers.stop();
    await publisher.call('stop', {}, 5000).catch(() => {});
    await publisher.stop();
    await server.stop();
  }
  return run;
}
