/**
 * Scenario 4: start-up time to a ready API and idle memory. mediagate is spawned `runs` times
 * (demo off, no stream) and timed from spawn to the first 200 of `GET /api`; its RSS is read after
 * `idleSeconds`. The peers are timed the same way to their own readiness (gst-rtsp-server: its
 * READY line after binding; Janus: `GET /janus/info`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { freeUdpPortPair } from '../lib/ports.ts';
import { type ProcessGroup, rssBytes } from '../lib/procs.ts';
import { startGstRelay, startMediagate } from '../lib/servers.ts';
import { startJanus } from '../peers/janus.ts';
import { round } from './measure.ts';

export interface StartupResult {
  server: string;
  readyMs: number[];
  medianReadyMs: number | null;
  idleRssMB: number | null;
  error?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};

async function timeRuns(
  name: string,
  runs: number,
  idleSeconds: number,
  start: () => Promise<{ readyMs: number; pid: number; stop(): Promise<void> }>,
): Promise<StartupResult> {
  const readyMs: number[] = [];
  let rss = Number.NaN;
  try {
    for (let i = 0; i < runs; i++) {
      const s = await start();
      readyMs.push(round(s.readyMs, 1) ?? 0);
      if (i === runs - 1) {
        await sleep(idleSeconds * 1000);
        rss = rssBytes(s.pid);
      }
      await s.stop();
    }
  } catch (err) {
    return { server: name, readyMs, medianReadyMs: null, idleRssMB: null, error: String(err).split('\n')[0] };
  }
  return { server: name, readyMs, medianReadyMs: round(median(readyMs), 1), idleRssMB: round(rss / 1e6, 1) };
}

export async function runStartup(
  group: ProcessGroup,
  opts: { runs: number; idleSeconds: number; gst: boolean; janus: boolean; sprop: string; fmtp: string },
): Promise<StartupResult[]> {
  const out = [await timeRuns('mediagate', opts.runs, opts.idleSeconds, () => startMediagate(group))];
  if (opts.gst) {
    out.push(
      await timeRuns('gst-rtsp-server', opts.runs, opts.idleSeconds, async () =>
        startGstRelay(group, await freeUdpPortPair(), opts.sprop),
      ),
    );
  }
  if (opts.janus) {
    out.push(
      await timeRuns('janus', opts.runs, opts.idleSeconds, async () =>
        startJanus(group, await freeUdpPortPair(), opts.fmtp),
      ),
    );
  }
  return out;
}
