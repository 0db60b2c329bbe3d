/**
 * The gateway process for the reliability suite, with the whole config in the test's hands
 * (test/helpers/gateway-process.ts prepends its own `api:`/`rtsp:`/`webrtc:` sections), plus what
 * the suite measures of it: RSS and file descriptors from /proc, handles from
 * /api/debug/handles, heap from /metrics after a forced GC (`POST /api/debug/gc`, available because
 * the process runs with --expose-gc), and the log lines at error level or above.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface Gateway {
  proc: ChildProcess;
  pid: number;
  apiPort: number;
  /** `RTSP`, `WebRTC`, `API` from the log; `rtp`/`rtcp` for the RTSP UDP ports. */
  ports: Record<string, number>;
  dir: string;
  output: () => string;
  api: (path: string, init?: RequestInit) => Promise<Response>;
  /** Sends `signal` and resolves with the exit code and how long it took; SIGKILL after 10 s. */
  stop: (
    signal?: NodeJS.Signals,
  ) => Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** The test defaults: every listener on 127.0.0.1 with an OS-chosen port. Append sections with `extra`. */
export function config(
  sections: { api?: string; rtsp?: string; webrtc?: string; extra?: string } = {},
): string {
  const indent = (s = '') => s.replace(/^/gm, '  ').replace(/^ +$/gm, '');
  return (
    `api:\n  listen: "127.0.0.1:0"\n${indent(sections.api)}\n` +
    `rtsp:\n  listen: "127.0.0.1:0"\n${indent(sections.rtsp)}\n` +
    `webrtc:\n  listen: "127.0.0.1:0"\n${indent(sections.webrtc)}\n` +
    `log:\n  level: info\n${sections.extra ?? ''}\n`
  );
}

/** Starts `bin/mediagate.js` with `yaml` as its only config file, in a temporary directory. */
export async function launch(
  yaml: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'mediagate-rel-'));
  const configPath = join(dir, 'mediagate.yaml');
  writeFileSync(configPath, yaml);
  const proc = spawn(process.execPath, ['--expose-gc', join(ROOT, 'bin/mediagate.js'), '-c', configPath], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  let out = '';
  const ports: Record<string, number> = {};
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    let partial = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = /"address":"[^"]*:(\d+)","msg":"([A-Za-z]+) listening/.exec(line);
        if (m) ports[m[2]] = Number(m[1]);
        const udp = /"rtp":(\d+),"rtcp":(\d+),"msg":"RTSP UDP transport ready"/.exec(line);
        if (udp) [ports.rtp, ports.rtcp] = [Number(udp[1]), Number(udp[2])];
        if (/"msg":"ready"/.test(line) && ports.API) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    proc.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${out}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const apiPort = ports.API;
  return {
    proc,
    pid: proc.pid ?? 0,
    apiPort,
    ports,
    dir,
    output: () => out,
    api: (path, init) =>
      fetch(`http://127.0.0.1:${apiPort}${path}`, { signal: AbortSignal.timeout(15_000), ...init }),
    stop: async (signal = 'SIGTERM') => {
      const t0 = performance.now();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const result = await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      return { ...result, ms: performance.now() - t0 };
    },
  };
}

/** Resident set size of a process, bytes (VmRSS of /proc/PID/status). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Log lines at error (50) or fatal (60) level, and anything that looks like an uncaught exception. */
export function errorLines(output: string): string[] {
  return output
    .split('\n')
    .filter(
      (l) =>
        /"level":(50|60|"error"|"fatal")/.test(l) ||
        /^\s*(Uncaught|TypeError|RangeError|ReferenceError|Error:)/.test(l) ||
        /triggerUncaughtException|unhandledRejection/.test(l),
    );
}

export interface HandleCounts {
  /** `process.getActiveResourcesInfo()` of the gateway by type. */
  counts: Record<string, number>;
  timers: number;
  sockets: number;
  servers: number;
  children: number;
}

/** The gateway's handles (the socket of this request included: call it the same way each time). */
export async function handles(gw: Gateway): Promise<HandleCounts> {
  const res = await gw.api('/api/debug/handles');
  const r = (await res.json()) as {
    counts: Record<string, number>;
    timers: number;
    sockets: { kind: string; remote?: string }[];
    servers: unknown[];
    children: unknown[];
  };
  return {
    counts: r.counts,
    timers: r.timers,
    sockets: r.sockets.filter((s) => s.kind === 'tcp' || s.kind === 'udp').length,
    servers: r.servers.length,
    children: r.children.length,
  };
}

/** Runs a full GC in the gateway and returns the used heap, bytes. */
export async function gcHeapUsed(gw: Gateway): Promise<number> {
  const res = await gw.api('/api/debug/gc', { method: 'POST' });
  if (res.status !== 200) throw new Error(`POST /api/debug/gc: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { heapUsedBytes: number }).heapUsedBytes;
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}
