/**
 * GStreamer's RTSP server as a test camera (`test/fixtures/gst-rtsp-server.py`, run with Debian's
 * python3-gi), plus the small process helpers the tests that use it share.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

const PYTHON = '/usr/bin/python3';
const FIXTURE = new URL('../fixtures/gst-rtsp-server.py', import.meta.url).pathname;

/** Why the gst tests must be skipped on this machine, or false when they can run. */
export const gstMissing: string | false =
  spawnSync(PYTHON, ['-c', "import gi; gi.require_version('GstRtspServer','1.0')"], { stdio: 'ignore' })
    .status === 0
    ? false
    : 'python3-gi with GstRtspServer 1.0 is not installed (apt install gir1.2-gst-rtsp-server-1.0 python3-gi)';

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Starts the fixture on `port` (extra `args` as the script takes them) and resolves once it printed
 * READY. The process is added to `owned` until it exits, so the test's cleanup can kill it.
 */
export async function startGst(
  port: number,
  owned: Set<ChildProcess>,
  ...args: string[]
): Promise<ChildProcess> {
  const proc = spawn(PYTHON, [FIXTURE, String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  owned.add(proc);
  proc.once('exit', () => owned.delete(proc));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gst-rtsp-server did not start:\n${out}`)), 10_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('READY ')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gst-rtsp-server exited with ${code}:\n${out}`));
    });
  });
  return proc;
}

/** Sends `signal` and waits for the exit; a no-op for a process that already ended. */
export async function kill(proc: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill(signal);
  await exited;
}
