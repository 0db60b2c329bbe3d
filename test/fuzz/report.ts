/**
 * Renders docs/reliability.md from docs/reliability.json (the figures the reliability tests and
 * `npm run fuzz -- --record` write). `tsx test/fuzz/report.ts` re-renders it by hand; the tests
 * re-render it whenever they record (MEDIAGATE_RECORD=1).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface FuzzFigures {
  seed: number;
  casesPerTarget?: number;
  seconds?: number;
  at: string;
  targets: {
    target: string;
    calls: string;
    allowed: string;
    corpus: number;
    cases: number;
    accepted: number;
    rejected: number;
    crashes: number;
    casesPerSecond: number;
    slowestMs: number;
  }[];
}

interface Snapshot {
  handles: Record<string, number>;
  fds: number;
  heapUsedBytes: number;
}

interface SoakFigures {
  at: string;
  sessionsPerProtocol: number;
  concurrency: number;
  protocols: {
    protocol: string;
    sessions: number;
    failed: number;
    ms: number;
    before: Snapshot;
    after: Snapshot;
  }[];
}

interface AbuseFigures {
  at: string;
  seed: number;
  ports: { port: string; inputs: number; kinds: Record<string, number>; refusal: string }[];
  slowloris: Record<string, string>;
  rssBytes: { before: number; after: number };
  heapUsedBytes: { before: number; after: number };
  shutdownMs: number;
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const n = (v: number) => v.toLocaleString('en-US');
const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : '-');
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

/** Regression tests and the crash each one guards against (test/regressions/). */
const REGRESSIONS: [string, string, string][] = [
  [
    'double consumer teardown',
    'go2rtc #1330, #1613, #1624 ("panic: close of closed channel")',
    'core-lifecycle.test.ts',
  ],
  [
    'parallel creates of one stream',
    'go2rtc #1394 ("fatal error: concurrent map writes")',
    'core-lifecycle.test.ts',
  ],
  ['listing while mutating', 'go2rtc #1612 ("concurrent map read and map write")', 'core-lifecycle.test.ts'],
  [
    'fan-out while readers come and go',
    'go2rtc #213, #767 ("concurrent map iteration and map write" in WriteRTP)',
    'core-lifecycle.test.ts',
  ],
  [
    'consumers of replaced sources',
    'found here: a 500 and an error log from the API storm',
    'core-lifecycle.test.ts',
  ],
  [
    'WebRTC server close with live TCP sessions',
    'mediasoup #1388 (close alert through a freed socket), fixed by #1390',
    'webrtc-transport.test.ts',
  ],
  [
    'UDP sockets and timers left behind',
    'WebRTC UDP transports and RTSP UDP sessions',
    'webrtc-transport.test.ts, rtsp-udp-sessions.test.ts',
  ],
  ['DataChannel messages merged', 'openwebrtc #703 (SCTP end-of-record ignored)', 'webrtc-transport.test.ts'],
  ['truncated RTP', '"index out of range [128] with length 120"; go2rtc #635', 'rtp-packets.test.ts'],
  [
    'RTP sequence wraparound',
    '65535 -> 0 through the reorder buffer, the receiver and the RTSP client',
    'rtp-packets.test.ts',
  ],
  ['codec object freed twice', 'Opus decoder/encoder `free()` twice, use after free', 'audio-codecs.test.ts'],
  [
    'sample rate change mid-stream',
    'resampler and transcoder rebuilt for a new input format',
    'audio-codecs.test.ts',
  ],
  [
    'YAML alias errors',
    'found here by the `config` fuzz target: a ReferenceError escaped',
    'config-yaml.test.ts',
  ],
  [
    'SDP parse/serialize not a fixed point',
    'found here by `npm run fuzz` (target `sdp`): a form feed ending a field',
    'sdp-fixed-point.test.ts',
  ],
];

function fuzzSection(short: FuzzFigures | undefined, long: FuzzFigures | undefined): string[] {
  const out = ['## Parsers fuzzed', ''];
  if (!short && !long) return [...out, 'No figures recorded yet.', ''];
  out.push(
    `Every parser and depayloader of \`test/fuzz/targets.ts\`, fed its committed corpus (\`test/fuzz/corpus/\`, corpora of the unit tests) mutated by \`test/fuzz/engine.ts\`: bit flips, interesting bytes, 16/32-bit boundaries, length fields that lie, truncation, extension, insertion, deletion, splicing. "allowed" is the only error type a target may throw; anything else, or a case over the time limit, is a crash.`,
    '',
    `\`npm test\`: seed ${short?.seed ?? '-'}, ${short?.casesPerTarget ?? '-'} cases per target (${day(short?.at)}). ` +
      `\`npm run fuzz\`: seed ${long?.seed ?? '-'}, ${long?.seconds ?? '-'} s (${day(long?.at)}).`,
    '',
    '| target | calls | allowed | corpus | cases (npm test) | accepted | crashes | cases (npm run fuzz) | cases/s | crashes |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  const names = [...new Set([...(short?.targets ?? []), ...(long?.targets ?? [])].map((t) => t.target))];
  let totalShort = 0;
  let totalLong = 0;
  for (const name of names) {
    const s = short?.targets.find((t) => t.target === name);
    const l = long?.targets.find((t) => t.target === name);
    const t = s ?? l;
    if (!t) continue;
    totalShort += s?.cases ?? 0;
    totalLong += l?.cases ?? 0;
    const share = s ? `${Math.round((s.accepted / s.cases) * 100)}%` : '-';
    out.push(
      `| ${name} | ${t.calls} | ${t.allowed} | ${t.corpus} | ${s ? n(s.cases) : '-'} | ${share} | ${s?.crashes ?? '-'} | ${l ? n(l.cases) : '-'} | ${l ? n(l.casesPerSecond) : '-'} | ${l?.crashes ?? '-'} |`,
    );
  }
  out.push(`| **total** | | | | **${n(totalShort)}** | | | **${n(totalLong)}** | | |`, '');
  return out;
}

function abuseSection(a: AbuseFigures | undefined): string[] {
  const out = ['## Abuse at every port', ''];
  if (!a) return [...out, 'No figures recorded yet.', ''];
  out.push(
    `\`test/reliability/abuse.test.ts\` (${day(a.at)}, seed ${a.seed}) against one gateway process. While each abuse runs, an RTSP reader must keep getting packets, \`GET /api/streams\` must answer and a WebRTC session's connectivity checks must be answered.`,
    '',
    '| port | abusive inputs | what | refusal |',
    '|---|---:|---|---|',
  );
  for (const p of a.ports) {
    const kinds = Object.entries(p.kinds)
      .map(([k, v]) => `${n(v)} ${k}`)
      .join('; ');
    out.push(`| ${p.port} | ${n(p.inputs)} | ${kinds} | ${p.refusal} |`);
  }
  out.push(
    `| **total** | **${n(a.ports.reduce((s, p) => s + p.inputs, 0))}** | | |`,
    '',
    `Slow clients closed after: RTSP ${a.slowloris.rtsp ?? '-'}, WebRTC TCP ${a.slowloris.webrtc ?? '-'}, HTTP ${a.slowloris.http ?? '-'} (408).`,
    `RSS ${mb(a.rssBytes.before)} before, ${mb(a.rssBytes.after)} after; used heap after a forced GC ${mb(a.heapUsedBytes.before)} -> ${mb(a.heapUsedBytes.after)}. SIGTERM afterwards: exit 0 in ${a.shutdownMs} ms, nothing logged at error level.`,
    '',
  );
  return out;
}

function stormSection(s: Record<string, unknown> | undefined): string[] {
  const out = ['## Lifecycle storms', ''];
  if (!s) return [...out, 'No figures recorded yet.', ''];
  const api = s.apiStorm as
    | { apiOps: number; consumers: number; statuses: Record<string, number> }
    | undefined;
  const cam = s.cameraRestarts as
    | { restarts: number; joins: number; joinFailures: number; reconnects: number }
    | undefined;
  const race = s.whepDeleteRace as { rounds: number; postStatuses: Record<string, number> } | undefined;
  const load = s.shutdownUnderLoad as Record<string, unknown> | undefined;
  out.push(
    `\`test/reliability/storms.test.ts\` (${day(s.at as string)}); each gateway is stopped with SIGTERM afterwards: exit 0 within 3 s, nothing at error level.`,
    '',
  );
  out.push('| storm | figures |', '|---|---|');
  if (api)
    out.push(
      `| API PUT/PATCH/DELETE on 8 names while consumers of 5 protocols attach | ${n(api.apiOps)} API calls, ${n(api.consumers)} consumers; statuses ${JSON.stringify(api.statuses)} |`,
    );
  if (cam)
    out.push(
      `| camera (gst-rtsp-server) killed and restarted under an rtsp:// source while readers churn | ${cam.restarts} restarts, ${n(cam.joins)} joins (${n(cam.joinFailures)} during outages); a reader attached throughout plays again |`,
    );
  if (race)
    out.push(
      `| DELETE racing a WHEP POST for the same stream | ${race.rounds} rounds; POST statuses ${JSON.stringify(race.postStatuses)}; no session left |`,
    );
  if (load)
    out.push(
      `| SIGTERM under load | ${load.webrtcPeers} werift peers (UDP and TCP), ${load.rtspReaders} RTSP readers (TCP and UDP), ${load.rtspPublishers} publishers, ${load.mse} MSE, ${load.hls} HLS, ${load.mp4} MP4; exit in ${load.shutdownMs} ms |`,
    );
  out.push('');
  return out;
}

function soakSection(title: string, s: SoakFigures | undefined): string[] {
  const out = [`## ${title}`, ''];
  if (!s) return [...out, 'No figures recorded yet.', ''];
  out.push(
    `\`test/reliability/soak.test.ts\` (${day(s.at)}): ${n(s.sessionsPerProtocol)} sessions per protocol, ${s.concurrency} at a time, against one gateway process. Handles are \`process.getActiveResourcesInfo()\` of the gateway (\`/api/debug/handles\`), fds \`/proc/PID/fd\`, heap \`heapUsed\` after a forced GC (\`POST /api/debug/gc\`).`,
    '',
    '| protocol | sessions | failed | time | handles before -> after | timers | fds | heap |',
    '|---|---:|---:|---:|---|---|---|---|',
  );
  for (const p of s.protocols) {
    const h = (x: Snapshot) => sum(x.handles);
    out.push(
      `| ${p.protocol} | ${n(p.sessions)} | ${p.failed} | ${(p.ms / 1000).toFixed(1)} s | ${h(p.before)} -> ${h(p.after)} | ${p.before.handles.Timeout ?? 0} -> ${p.after.handles.Timeout ?? 0} | ${p.before.fds} -> ${p.after.fds} | ${mb(p.before.heapUsedBytes)} -> ${mb(p.after.heapUsedBytes)} |`,
    );
  }
  out.push('');
  return out;
}

/** The whole markdown document for the recorded figures. */
export function renderReport(all: Record<string, unknown>): string {
  const lines = [
    '# Reliability',
    '',
    'Media servers crash on what they receive and on how sessions come and go. This page lists what mediagate is put through and the figures of the last recorded run. It is generated: `MEDIAGATE_RECORD=1 npm test` (or `MEDIAGATE_RECORD=1 node --import tsx --test test/unit/fuzz/budget.test.ts test/reliability/*.test.ts`) and `npm run fuzz -- --seconds 600 --record` write `docs/reliability.json` and render this file; `npx tsx test/fuzz/report.ts` renders it again.',
    '',
    ...fuzzSection(all.fuzz as FuzzFigures | undefined, all.fuzzLong as FuzzFigures | undefined),
    ...abuseSection(all.abuse as AbuseFigures | undefined),
    ...stormSection(all.storms as Record<string, unknown> | undefined),
    ...soakSection('Leak soaks', all.soak as SoakFigures | undefined),
    ...(all.soakLong ? soakSection('Long leak soak (MEDIAGATE_SOAK=1)', all.soakLong as SoakFigures) : []),
    '## Regression tests',
    '',
    'One named test per known crash class, in `test/regressions/`, each citing the bug.',
    '',
    '| crash class | the bug | test |',
    '|---|---|---|',
    ...REGRESSIONS.map(([what, bug, file]) => `| ${what} | ${bug} | ${file} |`),
    '',
    '## Limits',
    '',
    '| port | limit | refusal |',
    '|---|---|---|',
    '| API (HTTP, WebSocket) | headers 16 KiB, in 15 s; request 60 s; body `api.max_body_bytes` (1 MiB); 2048 open connections | 431, 408, 413; over the connection cap: closed at once |',
    '| API WebSocket | message 256 KiB; frames per RFC 6455 | close 1009, 1002; bad JSON or unknown type: `{"type":"error"}` |',
    '| RTSP | headers 16 KiB, body 64 KiB, first request in 10 s, `rtsp.max_connections` (1000), 16 pending requests, `session_timeout` | 400 and close; close |',
    '| WebRTC UDP | only authenticated STUN opens a route | dropped and counted |',
    '| WebRTC TCP | RFC 4571 frame 18 432 bytes; a valid STUN request in 5 s; 256 unauthenticated connections | close; the oldest unauthenticated connection is closed |',
    '| HLS | 256 sessions, 30 s idle | 400 "too many HLS sessions"; expiry |',
    '',
  ];
  return `${lines.join('\n')}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const docs = new URL('../../docs/', import.meta.url);
  const all = JSON.parse(readFileSync(new URL('reliability.json', docs), 'utf8')) as Record<string, unknown>;
  writeFileSync(new URL('reliability.md', docs), renderReport(all));
  process.stdout.write('docs/reliability.md written\n');
}
