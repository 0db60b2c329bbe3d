/**
 * The results of one `npm run bench`: the JSON written to docs/benchmarks.json and the markdown
 * table of docs/benchmarks.md, with each target checked against the figures of the same run.
 */
import type { Prereq } from './lib/prereqs.ts';
import type { RtspRun, RtspStep } from './scenarios/rtsp.ts';
import type { StartupResult } from './scenarios/startup.ts';
import type { WebRtcRun, WebRtcStep } from './scenarios/webrtc.ts';

export interface Results {
  date: string;
  durationSeconds: number;
  machine: { cpu: string; cores: number; ramGB: number; kernel: string; load1AtStart: number };
  versions: Record<string, string | undefined>;
  clip: { width: number; height: number; fps: number; seconds: number; kbps: number; packets: number };
  method: { windowSeconds: number; settleSeconds: number; rtspSteps: number[]; webrtcSteps: number[] };
  prereqs: Prereq[];
  rtsp: RtspRun[];
  webrtc: WebRtcRun[];
  startup: StartupResult[];
  targets: Target[];
  notes: string[];
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  /** undefined when it could not be measured in this run. */
  met: boolean | undefined;
  why?: string;
}

const fmt = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a && b && Number.isFinite(a) && Number.isFinite(b) ? a / b : undefined;

function rtspStep(runs: RtspRun[], server: string, n: number): RtspStep | undefined {
  return runs.find((r) => r.server === server)?.steps.find((s) => s.readers === n);
}

function webrtcStep(runs: WebRtcRun[], server: string, n: number): WebRtcStep | undefined {
  return runs.find((r) => r.server === server)?.steps.find((s) => s.viewers === n);
}

/** The largest N measured for both servers. */
function commonN<T>(a: T[] | undefined, b: T[] | undefined, n: (t: T) => number): number | undefined {
  const bs = new Set((b ?? []).map(n));
  const both = (a ?? []).map(n).filter((x) => bs.has(x));
  return both.length ? Math.max(...both) : undefined;
}

/**
 * Memory per session: the least-squares slope of (RSS − RSS at 0) over N, in KB, for the steps with
 * N ≥ 50 (N ≥ 10 when fewer than two such steps ran). The first sessions bring one-time
 * allocations, and a Node server's first full GC (its RSS falls by tens of MB) can land anywhere in
 * the early steps; the slope over the later ones is what one more session costs.
 */
export function rssSlopeKB(points: { n: number; deltaKB: number }[]): number | null {
  const valid = points.filter((p) => Number.isFinite(p.deltaKB));
  const late = valid.filter((p) => p.n >= 50);
  const ps = late.length >= 2 ? late : valid.filter((p) => p.n >= 10);
  if (ps.length < 2) return null;
  const mx = ps.reduce((a, p) => a + p.n, 0) / ps.length;
  const my = ps.reduce((a, p) => a + p.deltaKB, 0) / ps.length;
  const sxy = ps.reduce((a, p) => a + (p.n - mx) * (p.deltaKB - my), 0);
  const sxx = ps.reduce((a, p) => a + (p.n - mx) ** 2, 0);
  return sxx > 0 ? Number((sxy / sxx).toFixed(1)) : null;
}

export function rtspSlope(run: RtspRun | undefined): number | null {
  return rssSlopeKB(
    (run?.steps ?? []).map((s) => ({ n: s.readers, deltaKB: (s.rssPerReaderKB ?? Number.NaN) * s.readers })),
  );
}

export function webrtcSlope(run: WebRtcRun | undefined): number | null {
  return rssSlopeKB(
    (run?.steps ?? []).map((s) => ({ n: s.viewers, deltaKB: (s.rssPerViewerKB ?? Number.NaN) * s.viewers })),
  );
}

export function checkTargets(r: Results): Target[] {
  const out: Target[] = [];
  const mgRtsp = r.rtsp.find((x) => x.server === 'mediagate');
  const gst = r.rtsp.find((x) => x.server === 'gst-rtsp-server');
  const s200 = rtspStep(r.rtsp, 'mediagate', 200);
  out.push({
    name: 'RTSP: 200 readers of the 2 Mbit/s stream without drops',
    goal: 'at N=200: 0 drops, 0 failed or closed, every reader ≥ 90% of the source packets',
    measured: s200
      ? `${s200.drops} drops, ${s200.failed} failed, ${s200.closed} closed, ${s200.behind} behind (least ${fmt((s200.minShare ?? 0) * 100, 1)}%)`
      : 'not measured',
    met: s200 ? s200.drops === 0 && s200.failed === 0 && s200.closed === 0 && s200.behind === 0 : undefined,
  });
  const n = commonN(mgRtsp?.steps, gst?.steps, (s) => s.readers);
  const mgAtN = n ? rtspStep(r.rtsp, 'mediagate', n) : undefined;
  const gstAtN = n ? rtspStep(r.rtsp, 'gst-rtsp-server', n) : undefined;
  const cpuRatio = ratio(mgAtN?.cpuSecondsPerGB, gstAtN?.cpuSecondsPerGB);
  out.push({
    name: "RTSP: server CPU per delivered GB no higher than gst-rtsp-server's",
    goal: 'mediagate / gst-rtsp-server ≤ 1.00',
    measured:
      cpuRatio !== undefined
        ? `${fmt(mgAtN?.cpuSecondsPerGB)} vs ${fmt(gstAtN?.cpuSecondsPerGB)} s/GB at N=${n}: ${fmt(cpuRatio)}×`
        : 'not measured',
    met: cpuRatio !== undefined ? cpuRatio <= 1 : undefined,
  });
  const s50 = rtspStep(r.rtsp, 'mediagate', 50);
  const c50 = rtspStep(r.rtsp, 'ceiling', 50);
  out.push({
    name: 'RTSP: added latency p99 under 5 ms at 50 readers',
    goal: 'p99 < 5 ms',
    measured: s50
      ? `p99 ${fmt(s50.latency.p99Ms)} ms (p50 ${fmt(s50.latency.p50Ms)}); the Node ceiling: p99 ${fmt(c50?.latency.p99Ms)} ms`
      : 'not measured',
    met: s50 ? s50.latency.p99Ms < 5 : undefined,
  });
  const mgRtc = r.webrtc.find((x) => x.server === 'mediagate');
  const janus = r.webrtc.find((x) => x.server === 'janus');
  out.push({
    name: 'WebRTC: 100 viewers without loss',
    goal: 'largest N with no loss, no viewer failed or behind (< 90% of the source packets) ≥ 100',
    measured: mgRtc?.steps.length
      ? `largest N without loss: ${mgRtc.maxViewersNoLoss} (Janus: ${janus?.steps.length ? janus.maxViewersNoLoss : '–'})`
      : `not measured${mgRtc?.error ? `: ${mgRtc.error}` : ''}`,
    met: mgRtc?.steps.length ? mgRtc.maxViewersNoLoss >= 100 : undefined,
  });
  // At the target's 100 viewers when both reached it, else the largest N both have.
  const wn =
    webrtcStep(r.webrtc, 'mediagate', 100) && webrtcStep(r.webrtc, 'janus', 100)
      ? 100
      : commonN(mgRtc?.steps, janus?.steps, (s) => s.viewers);
  const a = wn ? webrtcStep(r.webrtc, 'mediagate', wn) : undefined;
  const b = wn ? webrtcStep(r.webrtc, 'janus', wn) : undefined;
  const rtcRatio = ratio(a?.cpuMsPerMbit, b?.cpuMsPerMbit);
  out.push({
    name: 'WebRTC: CPU per viewer-megabit within 1.5× of Janus',
    goal: 'mediagate / Janus ≤ 1.5 (then ≤ 1)',
    measured:
      rtcRatio !== undefined
        ? `${fmt(a?.cpuMsPerMbit, 3)} vs ${fmt(b?.cpuMsPerMbit, 3)} ms/Mbit at N=${wn}: ${fmt(rtcRatio)}×`
        : 'not measured',
    met: rtcRatio !== undefined ? rtcRatio <= 1.5 : undefined,
  });
  const slope = (x: number | null) => (x === null ? 'not measured' : `${fmt(x, 1)} KB`);
  const rtspMem = rtspSlope(mgRtsp);
  const rtcMem = webrtcSlope(mgRtc);
  out.push({
    name: 'Memory per RTSP reader under 200 KB',
    goal: 'RSS slope over N (N ≥ 50) < 200 KB',
    measured: `${slope(rtspMem)} (gst-rtsp-server ${slope(rtspSlope(gst))}, ceiling ${slope(rtspSlope(r.rtsp.find((x) => x.server === 'ceiling')))})`,
    met: rtspMem === null ? undefined : rtspMem < 200,
  });
  out.push({
    name: 'Memory per WebRTC viewer under 200 KB',
    goal: 'RSS slope over N (N ≥ 50) < 200 KB',
    measured: `${slope(rtcMem)} (Janus ${slope(webrtcSlope(janus))})`,
    met: rtcMem === null ? undefined : rtcMem < 200,
  });
  return out;
}

const SERVER_LABEL: Record<string, string> = {
  mediagate: 'mediagate',
  'gst-rtsp-server': 'gst-rtsp-server',
  ceiling: 'Node ceiling',
  janus: 'Janus',
};

export function markdown(r: Results, analysis: string[]): string {
  const L: string[] = [];
  L.push('# Benchmarks', '');
  L.push(
    `Generated by \`npm run bench\` (bench/run.ts) on ${r.date}, in ${Math.round(r.durationSeconds)} s. ` +
      'Every figure comes from one run on one machine, and each server is compared with its peer and with the Node ' +
      'ceiling measured minutes apart in the same run: on a shared 2-core machine the absolute numbers are noisy, the ratios much less so. ' +
      'Raw figures: [benchmarks.json](benchmarks.json).',
    '',
  );
  L.push('| machine | |', '|---|---|');
  L.push(`| CPU | ${r.machine.cpu} × ${r.machine.cores} |`);
  L.push(`| RAM | ${r.machine.ramGB} GB |`);
  L.push(`| kernel | ${r.machine.kernel} |`);
  L.push(`| load average at start | ${r.machine.load1AtStart} (other work shares the machine) |`);
  for (const [k, v] of Object.entries(r.versions)) L.push(`| ${k} | ${v ?? 'not found'} |`);
  L.push('');
  L.push(
    `Source: ${r.clip.width}x${r.clip.height} ${r.clip.fps} fps H.264 (baseline, keyframe every second, no B-frames), ` +
      `${r.clip.seconds} s looped, ${r.clip.kbps} kbit/s of RTP. Each step is measured over ${r.method.windowSeconds} s ` +
      `after ${r.method.settleSeconds} s of settling.`,
    '',
  );

  L.push('## Targets', '', '| target | measured | met |', '|---|---|---|');
  for (const t of r.targets) {
    L.push(
      `| ${t.name} | ${t.measured} | ${t.met === undefined ? 'not measured' : t.met ? 'yes' : '**no**'} |`,
    );
  }
  L.push('');

  L.push('## 1. RTSP fan-out (TCP interleaved readers)', '');
  L.push(
    '| N | server | Mbit/s delivered | CPU s/GB | × gst | × ceiling | drops (behind) | latency p50 / p99 ms | RSS MB | RSS/reader KB | marginal KB | load |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const ns = [...new Set(r.rtsp.flatMap((run) => run.steps.map((s) => s.readers)))].sort((a, b) => a - b);
  for (const n of ns) {
    const g = rtspStep(r.rtsp, 'gst-rtsp-server', n);
    const c = rtspStep(r.rtsp, 'ceiling', n);
    for (const run of r.rtsp) {
      const s = run.steps.find((x) => x.readers === n);
      if (!s) continue;
      L.push(
        `| ${n} | ${SERVER_LABEL[run.server]} | ${fmt(s.mbps, 1)} | ${fmt(s.cpuSecondsPerGB)} | ` +
          `${fmt(ratio(s.cpuSecondsPerGB, g?.cpuSecondsPerGB))} | ${fmt(ratio(s.cpuSecondsPerGB, c?.cpuSecondsPerGB))} | ` +
          `${s.drops} (${s.behind})${s.failed || s.closed ? `, ${s.failed} failed, ${s.closed} closed` : ''} | ` +
          `${fmt(s.latency.p50Ms)} / ${fmt(s.latency.p99Ms)} | ${fmt(s.rssMB, 1)} | ${fmt(s.rssPerReaderKB, 1)} | ${fmt(s.marginalKB, 1)} | ${fmt(s.load1)} |`,
      );
    }
  }
  L.push('');
  for (const run of r.rtsp) {
    L.push(
      `- ${SERVER_LABEL[run.server]}: memory per reader (RSS slope over N ≥ 50) ${fmt(rtspSlope(run), 1)} KB, ` +
        `RSS with the source and no reader ${fmt(run.rssIdleMB, 1)} MB${run.error ? `; stopped: ${run.error}` : ''}`,
    );
  }
  L.push('');

  L.push('## 2. WebRTC fan-out', '');
  if (r.webrtc.length === 0) L.push('Not run (see the notes).');
  else {
    L.push(
      '| N | server | Mbit/s delivered | CPU ms/Mbit | × Janus | lost packets (viewers) | behind (least share) | RSS MB | RSS/viewer KB | marginal KB | connect s | load |',
      '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    const vs = [...new Set(r.webrtc.flatMap((run) => run.steps.map((s) => s.viewers)))].sort((a, b) => a - b);
    for (const n of vs) {
      const j = webrtcStep(r.webrtc, 'janus', n);
      for (const run of r.webrtc) {
        const s = run.steps.find((x) => x.viewers === n);
        if (!s) continue;
        L.push(
          `| ${n} | ${SERVER_LABEL[run.server]} | ${fmt(s.mbps, 1)} | ${fmt(s.cpuMsPerMbit, 3)} | ${fmt(ratio(s.cpuMsPerMbit, j?.cpuMsPerMbit))} | ` +
            `${s.lost} (${s.lossyViewers})${s.failed || s.silentViewers ? `, ${s.failed} failed, ${s.silentViewers} silent` : ''} | ` +
            `${s.behindViewers} (${fmt((s.minShare ?? 0) * 100, 1)}%) | ` +
            `${fmt(s.rssMB, 1)} | ${fmt(s.rssPerViewerKB, 1)} | ${fmt(s.marginalKB, 1)} | ${fmt(s.connectSeconds, 1)} | ${fmt(s.load1)} |`,
        );
      }
    }
    L.push('');
    for (const run of r.webrtc) {
      L.push(
        `- ${SERVER_LABEL[run.server]}: largest N without loss ${run.maxViewersNoLoss}, memory per viewer ` +
          `(RSS slope over N ≥ 50) ${fmt(webrtcSlope(run), 1)} KB, RSS with the source and no viewer ` +
          `${fmt(run.rssIdleMB, 1)} MB${run.error ? ` (stopped: ${run.error})` : ''}`,
      );
    }
  }
  L.push('');

  L.push('## 3. Start-up and idle memory', '');
  L.push('| server | ready ms (runs) | median | idle RSS MB |', '|---|---|---:|---:|');
  for (const s of r.startup) {
    L.push(
      `| ${SERVER_LABEL[s.server] ?? s.server} | ${s.readyMs.join(', ')}${s.error ? ` (${s.error})` : ''} | ${fmt(s.medianReadyMs, 0)} | ${fmt(s.idleRssMB, 1)} |`,
    );
  }
  L.push('');

  if (r.notes.length) {
    L.push('## Notes of this run', '');
    for (const n of r.notes) L.push(`- ${n}`);
    L.push('');
  }
  L.push(...analysis);
  return `${L.join('\n')}\n`;
}
