/**
 * Scenario 2: WebRTC fan-out of the clip to N viewers (ICE + DTLS, then SRTP counted, not
 * decrypted), for mediagate (WHEP) and Janus (streaming plugin). Viewers are added in steps to the
 * same server, each step measured over its own window.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clip } from '../lib/clip.ts';
import { startWorker } from '../lib/ipc.ts';
import { freeUdpPortPair } from '../lib/ports.ts';
import type { ProcessGroup } from '../lib/procs.ts';
import { type Server, startMediagate } from '../lib/servers.ts';
import { MOUNTPOINT_ID, startJanus } from '../peers/janus.ts';
import type { Target } from '../webrtc-viewers.ts';
import { BEHIND_RATIO, measureWindow, round, settledRss, waitFirstFullGc } from './measure.ts';

export type WebRtcServerKind = 'mediagate' | 'janus';

export interface WebRtcStep {
  viewers: number;
  /** Viewers that never connected (cumulative). */
  failed: number;
  windowSeconds: number;
  bytes: number;
  mbps: number;
  packets: number;
  /** SRTP packets missing by sequence number, summed over viewers. */
  lost: number;
  /** Viewers that lost at least one packet, or got none. */
  lossyViewers: number;
  silentViewers: number;
  /** Viewers that got less than 90% of the packets the source sent in the window (falling behind). */
  behindViewers: number;
  /** The least any viewer got, as a share of the source's packets in the window. */
  minShare: number | null;
  serverCpuSeconds: number;
  /** Server CPU milliseconds per delivered megabit (= % of a core per viewer-Mbit/s × 10). */
  cpuMsPerMbit: number | null;
  clientCpuSeconds: number;
  rssMB: number;
  rssPerViewerKB: number | null;
  /** (RSS at N - RSS at the previous step) / (N - previous N), kilobytes: one more viewer's cost. */
  marginalKB: number | null;
  /** Seconds it took to connect the viewers of this step (4 at a time). */
  connectSeconds: number;
  load1: number;
}

export interface WebRtcRun {
  server: WebRtcServerKind;
  rssIdleMB: number;
  steps: WebRtcStep[];
  /** The largest step with every viewer connected, none behind, and no packet lost. */
  maxViewersNoLoss: number;
  error?: string;
}

export interface WebRtcOptions {
  clip: Clip;
  steps: number[];
  windowSeconds: number;
  settleSeconds: number;
  deadline: number;
  /** Short waits, for trying the harness. */
  quick?: boolean;
  log: (line: string) => void;
}

async function startServer(
  kind: WebRtcServerKind,
  group: ProcessGroup,
  clip: Clip,
): Promise<{ server: Server; target: Target; feed: Record<string, unknown> }> {
  if (kind === 'mediagate') {
    const mg = await startMediagate(group);
    return {
      server: mg,
      target: { kind: 'whep', url: `http://127.0.0.1:${mg.apiPort}/api/webrtc?src=bench` },
      feed: { rtsp: `rtsp://127.0.0.1:${mg.rtspPort}/bench` },
    };
  }
  const udp = await freeUdpPortPair();
  const janus = await startJanus(group, udp, clip.fmtp);
  return {
    server: janus,
    target: { kind: 'janus', url: janus.url, mountpoint: MOUNTPOINT_ID },
    feed: { udp },
  };
}

export async function runWebRtc(
  kind: WebRtcServerKind,
  group: ProcessGroup,
  opts: WebRtcOptions,
): Promise<WebRtcRun> {
  const run: WebRtcRun = { server: kind, rssIdleMB: 0, steps: [], maxViewersNoLoss: 0 };
  const { server, target, feed } = await startServer(kind, group, opts.clip);
  const publisher = startWorker(group, 'publisher', 'publisher.ts');
  const viewers = startWorker(group, 'webrtc-viewers', 'webrtc-viewers.ts');
  try {
    await publisher.call('start', { clip: opts.clip.path, ...feed }, 20000);
    await sleep(opts.settleSeconds * 1000);
    // A Node server's RSS is only comparable after its first full GC (see waitFirstFullGc).
    if (kind === 'mediagate') await waitFirstFullGc(server.pid, opts.quick ? 5000 : 45000);
    const rss0 = await settledRss(server.pid);
    run.rssIdleMB = round(rss0 / 1e6) ?? 0;
    let current = 0;
    let prevRss = rss0;
    let prevN = 0;
    for (const n of opts.steps) {
      if (performance.now() > opts.deadline) {
        opts.log(`  ${kind}: time budget reached, skipping ${n} viewers`);
        break;
      }
      const t0 = performance.now();
      const added = await viewers.call<{ failed: number; errors: string[] }>(
        'add',
        {
          target,
          count: n - current,
          timeoutMs: 20000,
          budgetMs: Math.max(5000, Math.min(60000, opts.deadline - performance.now())),
        },
        120000,
      );
      const connectSeconds = (performance.now() - t0) / 1000;
      current = n;
      if (added.errors.length) opts.log(`  ${kind}: ${added.failed} failed: ${added.errors.join('; ')}`);
      await sleep(opts.settleSeconds * 1000);
      const w = await measureWindow(server.pid, viewers, publisher, opts.windowSeconds);
      const r = await viewers.call<{
        bytes: number;
        packets: number;
        lost: number;
        lossy: number;
        silent: number;
        behind: number;
        minPackets: number;
      }>('collect', { expectedPackets: w.sourcePackets * BEHIND_RATIO });
      const mbit = (r.bytes * 8) / 1e6;
      const step: WebRtcStep = {
        viewers: n,
        failed: added.failed,
        windowSeconds: round(w.seconds) ?? 0,
        bytes: r.bytes,
        mbps: round(mbit / w.seconds, 1) ?? 0,
        packets: r.packets,
        lost: r.lost,
        lossyViewers: r.lossy,
        silentViewers: r.silent,
        behindViewers: r.behind,
        minShare: w.sourcePackets > 0 ? round(r.minPackets / w.sourcePackets, 3) : null,
        serverCpuSeconds: round(w.serverCpu) ?? 0,
        cpuMsPerMbit: mbit > 0 ? round((w.serverCpu * 1000) / mbit, 3) : null,
        clientCpuSeconds: round(w.clientCpu) ?? 0,
        rssMB: round(w.rss / 1e6) ?? 0,
        rssPerViewerKB: round((w.rss - rss0) / n / 1024, 1),
        marginalKB: round((w.rss - prevRss) / (n - prevN) / 1024, 1),
        connectSeconds: round(connectSeconds, 1) ?? 0,
        load1: round(w.load1) ?? 0,
      };
      run.steps.push(step);
      prevRss = w.rss;
      prevN = n;
      if (step.failed === 0 && step.lost === 0 && step.silentViewers === 0 && step.behindViewers === 0) {
        run.maxViewersNoLoss = n;
      }
      opts.log(
        `  ${kind.padEnd(16)} N=${String(n).padStart(3)}  ${String(step.mbps).padStart(6)} Mbit/s  cpu ${step.serverCpuSeconds}s` +
          ` (${step.cpuMsPerMbit} ms/Mbit)  lost ${step.lost} (${step.lossyViewers} viewers) behind ${step.behindViewers} min ${step.minShare}  rss/viewer ${step.rssPerViewerKB} KB` +
          `  connect ${step.connectSeconds}s  load ${step.load1}`,
      );
      if (added.failed > n / 2) break; // the server is not taking more viewers
    }
  } catch (err) {
    run.error = err instanceof Error ? err.message.split('\n')[0] : String(err);
    opts.log(`  ${kind}: ${run.error}`);
  } finally {
    await viewers.call('close', {}, 20000).catch(() => {});
    await viewers.stop();
    await publisher.call('stop', {}, 5000).catch(() => {});
    await publisher.stop();
    await server.stop();
  }
  return run;
}
