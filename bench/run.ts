/**
 * `npm run bench`: mediagate side by side with real peers on this machine, in one run.
 *
 *   1. RTSP fan-out to 1..200 readers: mediagate, gst-rtsp-server, and the Node ceiling (3.)
 *   2. WebRTC fan-out to 1..150 viewers: mediagate and Janus
 *   4. Start-up time to a ready API and idle memory
 *
 * Writes docs/benchmarks.json and docs/benchmarks.md; a `--quick` or `--only` run writes them to
 * the temp folder instead, so the committed results always come from a full run. Peers are found,
 * never installed: a missing one is skipped with the apt-get line that brings it. Everything binds
 * 127.0.0.1; every process started is killed at the end, on failure and on Ctrl-C. Options:
 * `--quick` (short windows, for trying the harness), `--only rtsp,webrtc,startup`, `--render` (the
 * markdown again from the JSON).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { CLIP, loadClip, makeClip } from './lib/clip.ts';
import { findPrereqs, installHint } from './lib/prereqs.ts';
import { ProcessGroup } from './lib/procs.ts';
import { analysis } from './notes.ts';
import { checkTargets, markdown, type Results } from './report.ts';
import { type RtspServerKind, runRtsp } from './scenarios/rtsp.ts';
import { runStartup } from './scenarios/startup.ts';
import { runWebRtc, type WebRtcServerKind } from './scenarios/webrtc.ts';

const ROOT = new URL('..', import.meta.url).pathname;
/**
 * The whole run must end within 10 minutes: no step starts after this budget, and a step that
 * started takes at most about 90 s more (a minute of connecting, the window, teardown).
 */
const BUDGET_MS = 8 * 60 * 1000;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = new Set(
  (onlyArg?.includes('=')
    ? onlyArg.split('=')[1]
    : onlyArg
      ? args[args.indexOf(onlyArg) + 1]
      : 'rtsp,webrtc,startup'
  )
    .split(',')
    .map((s) => s.trim()),
);

const started = performance.now();
const deadline = started + BUDGET_MS;
const log = (line: string) => {
  const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  process.stdout.write(`[${t}s] ${line}\n`);
};

/** `--render`: writes docs/benchmarks.md again from docs/benchmarks.json (after a change to the report). */
function render(): void {
  const docs = join(ROOT, 'docs');
  const results = JSON.parse(readFileSync(join(docs, 'benchmarks.json'), 'utf8')) as Results;
  results.targets = checkTargets(results);
  writeFileSync(join(docs, 'benchmarks.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(docs, 'benchmarks.md'), markdown(results, analysis(results)));
  log('rendered docs/benchmarks.md from docs/benchmarks.json');
}

async function main(): Promise<void> {
  if (args.includes('--render')) {
    render();
    return;
  }
  const group = new ProcessGroup();
  const notes: string[] = [];
  const prereqs = findPrereqs();
  for (const p of prereqs)
    log(`${p.ok ? 'found  ' : 'MISSING'} ${p.name}${p.version ? ` (${p.version})` : ''}`);
  const hint = installHint(prereqs);
  if (hint) {
    log(`some peers are missing; install them with:\n    ${hint}`);
    for (const p of prereqs.filter((x) => !x.ok))
      notes.push(`${p.name} not found: ${p.needed} skipped (\`${hint}\`).`);
  }
  const has = (name: string) => prereqs.find((p) => p.name.startsWith(name))?.ok ?? false;
  if (!has('ffmpeg')) throw new Error(`ffmpeg is needed to make the source clip: ${hint}`);

  log('making the source clip (cached in the temp folder)...');
  const clip = loadClip(makeClip());
  const sprop = clip.codec.fmtp?.['sprop-parameter-sets'] ?? '';
  const windowSeconds = quick ? 3 : 7;
  const settleSeconds = quick ? 1 : 2;
  const rtspSteps = quick ? [1, 10, 50] : [1, 10, 50, 200];
  const webrtcSteps = quick ? [1, 10] : [1, 10, 50, 100, 150];

  const results: Results = {
    date: new Date().toISOString(),
    durationSeconds: 0,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      ramGB: Math.round(totalmem() / 1e9),
      kernel: release(),
      load1AtStart: Number(loadavg()[0].toFixed(2)),
    },
    versions: {
      Node: process.version,
      ffmpeg: prereqs[0].version,
      GStreamer: prereqs[1].version,
      Janus: prereqs[2].version,
    },
    clip: {
      width: CLIP.width,
      height: CLIP.height,
      fps: CLIP.fps,
      seconds: Math.round(clip.durationMs / 1000),
      kbps: Math.round(clip.bitrate / 1000),
      packets: clip.packets,
    },
    method: { windowSeconds, settleSeconds, rtspSteps, webrtcSteps },
    prereqs,
    rtsp: [],
    webrtc: [],
    startup: [],
    targets: [],
    notes,
  };

  try {
    if (only.has('startup')) {
      log('4. start-up time and idle memory');
      results.startup = await runStartup(group, {
        runs: quick ? 1 : 3,
        idleSeconds: quick ? 1 : 2,
        gst: has('GStreamer'),
        janus: has('Janus'),
        sprop,
        fmtp: clip.fmtp,
      });
      for (const s of results.startup) {
        log(
          `  ${s.server.padEnd(16)} ready ${s.readyMs.join(', ')} ms, idle RSS ${s.idleRssMB} MB${s.error ? ` ${s.error}` : ''}`,
        );
      }
    }
    if (only.has('rtsp')) {
      log(
        `1. RTSP fan-out, ${rtspSteps.join('/')} readers, ${windowSeconds} s windows (3. the Node ceiling too)`,
      );
      const servers: RtspServerKind[] = ['mediagate', 'gst-rtsp-server', 'ceiling'];
      for (const kind of servers) {
        if (kind === 'gst-rtsp-server' && !has('GStreamer')) continue;
        results.rtsp.push(
          await runRtsp(kind, group, {
            clip,
            steps: rtspSteps,
            windowSeconds,
            settleSeconds,
            deadline,
            quick,
            log,
          }),
        );
      }
    }
    if (only.has('webrtc')) {
      log(`2. WebRTC fan-out, ${webrtcSteps.join('/')} viewers, ${windowSeconds} s windows`);
      const servers: WebRtcServerKind[] = ['mediagate', 'janus'];
      for (const kind of servers) {
        if (kind === 'janus' && !has('Janus')) continue;
        results.webrtc.push(
          await runWebRtc(kind, group, {
            clip,
            steps: webrtcSteps,
            windowSeconds,
            settleSeconds,
            deadline,
            log,
          }),
        );
      }
    }
  } finally {
    await group.stopAll();
  }
  if (performance.now() > deadline) notes.push('The time budget ran out: the steps not shown were skipped.');
  if (quick) notes.push('`--quick` run: short windows and fewer steps, not for comparison.');
  results.durationSeconds = (performance.now() - started) / 1000;
  results.targets = checkTargets(results);
  // Only a full run replaces the committed results; a partial one goes to the temp folder.
  const partial = quick || onlyArg !== undefined;
  const out = partial ? join(tmpdir(), 'mediagate-bench') : join(ROOT, 'docs');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'benchmarks.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, 'benchmarks.md'), markdown(results, analysis(results)));
  log('targets:');
  for (const t of results.targets)
    log(`  ${t.met === undefined ? '?  ' : t.met ? 'met' : 'NOT'} ${t.name}: ${t.measured}`);
  log(`wrote ${join(out, 'benchmarks.json')} and benchmarks.md in ${Math.round(results.durationSeconds)} s`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
