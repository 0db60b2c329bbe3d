/**
 * Runs the real gateway (`src/main.ts`) in a child process with a temporary config, for end-to-end
 * tests. Listeners bind 127.0.0.1 on ports chosen by the OS; the addresses are read from the log.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GatewayProcess {
  proc: ChildProcess;
  apiPort: number;
  /** Listener ports by log message (`RTSP listening`, ...). */
  ports: Record<string, number>;
  configPath: string;
  output: () => string;
  api: (path: string, init?: RequestInit) => Promise<Response>;
  /** Sends SIGTERM and resolves with the exit code and how long it took. Kills after 10 s. */
  stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; ms: number }>;
}

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * Starts the gateway; `config` is YAML appended after the test defaults, `env` is added to the
 * environment of the process (e.g. `{ MEDIAGATE_TEST_FAULT: 'block-loop' }`). `overrides` is YAML
 * of a second file (`overrides.yaml` next to the config, given with a second `-c`), merged over the
 * first: the way to set other keys of the `api:`, `rtsp:` and `webrtc:` sections. API changes to
 * streams are then written to it.
 */
export async function startGateway(
  config = '',
  timeoutMs = 15000,
  env: NodeJS.ProcessEnv = {},
  overrides = '',
): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'mediagate-e2e-'));
  const configPath = join(dir, 'mediagate.yaml');
  const defaults =
    'api:\n  listen: "127.0.0.1:0"\nrtsp:\n  listen: "127.0.0.1:0"\nwebrtc:\n  listen: "127.0.0.1:0"\n';
  writeFileSync(configPath, `${defaults}${config}`);
  const files = ['-c', configPath];
  if (overrides) {
    writeFileSync(join(dir, 'overrides.yaml'), overrides);
    files.push('-c', join(dir, 'overrides.yaml'));
  }
  const proc = spawn(process.execPath, [join(ROOT, 'bin/mediagate.js'), ...files], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  let out = '';
  const ports: Record<string, number> = {};
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of chunk.toString().split('\n')) {
        const m = /"address":"[^"]*:(\d+)","msg":"([A-Za-z]+) listening/.exec(line);
        if (m) ports[m[2]] = Number(m[1]);
        if (/"msg":"ready"/.test(line) && ports.API) {
          clearTimeout(timer);
          resolve(ports.API);
        }
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${out}`));
    });
  });
  let apiPort: number;
  try {
    apiPort = await ready;
  } catch (err) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    apiPort,
    ports,
    configPath,
    output: () => out,
    api: (path, init) => fetch(`http://127.0.0.1:${apiPort}${path}`, init),
    stop: async (signal = 'SIGTERM') => {
      const t0 = performance.now();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      return { code, ms: performance.now() - t0 };
    },
  };
}
