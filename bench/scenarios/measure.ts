/** One measurement window: CPU of the server (and of the harness) and the machine's load around it. */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { monoUs } from '../lib/clip.ts';
import type { Worker } from '../lib/ipc.ts';
import { cpuSeconds, rssBytes } from '../lib/procs.ts';

export interface Window {
  seconds: number;
  startUs: number;
  /** Server CPU seconds (user + system, all threads) during the window. */
  serverCpu: number;
  /** CPU seconds of the client process (readers or viewers) during the window. */
  clientCpu: number;
  /**
   * Server RSS during the window, bytes: the lowest of samples every 250 ms. A V8 heap's RSS moves
   * by megabytes with its young generation; the floor is what the readers really hold.
   */
  rss: number;
  /** 1-minute load average at the end (other work on the machine shows here). */
  load1: number;
  /** RTP packets the publisher sent during the window. */
  sourcePackets: number;
}

/** Resets the client's counters, waits `seconds`, freezes them; CPU is read right around it. */
export async function measureWindow(
  serverPid: number,
  client: Worker,
  publisher: Worker,
  seconds: number,
): Promise<Window> {
  const sent0 = (await publisher.call<{ packets: number }>('stats')).packets;
  await client.call('reset');
  const c0 = cpuSeconds(serverPid);
  const h0 = cpuSeconds(client.pid);
  const startUs = monoUs();
  const t0 = performance.now();
  let rss = Number.POSITIVE_INFINITY;
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(Math.min(250, seconds * 1000 - (performance.now() - t0)));
    rss = Math.min(rss, rssBytes(serverPid));
  }
  await client.call('freeze');
  const serverCpu = cpuSeconds(serverPid) - c0;
  const clientCpu = cpuSeconds(client.pid) - h0;
  const sent1 = (await publisher.call<{ packets: number }>('stats')).packets;
  return {
    seconds: (performance.now() - t0) / 1000,
    startUs,
    serverCpu,
    clientCpu,
    rss,
    load1: loadavg()[0],
    sourcePackets: sent1 - sent0,
  };
}

/** RSS floor over `ms`: the lowest of samples every 250 ms (see `Window.rss`). */
export async function settledRss(pid: number, ms = 2000): Promise<number> {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < Math.max(1, ms / 250); i++) {
    min = Math.min(min, rssBytes(pid));
    await sleep(250);
  }
  return min;
}

/**
 * Waits for a Node server's first full GC after start-up, seen as its RSS dropping by 5% or more,
 * for at most `maxMs`. Until then the RSS of a freshly started Node process climbs by megabytes a
 * second (start-up garbage, then the young generation growing) and then falls by tens of MB at
 * once, which would swamp a per-reader figure. Returns the ms waited.
 */
export async function waitFirstFullGc(pid: number, maxMs = 30000): Promise<number> {
  const t0 = performance.now();
  let max = 0;
  while (performance.now() - t0 < maxMs) {
    const rss = rssBytes(pid);
    if (rss < max * 0.95) break;
    max = Math.max(max, rss);
    await sleep(250);
  }
  return performance.now() - t0;
}

/** A session that got less than this share of the source's packets in a window is behind. */
export const BEHIND_RATIO = 0.9;

export const round = (x: number, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
