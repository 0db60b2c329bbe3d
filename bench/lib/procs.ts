/**
 * Child processes of the bench and what the bench reads about them: every process is spawned
 * (and every temp folder made) through one `ProcessGroup`, which kills and removes them all on
 * exit, on SIGINT/SIGTERM and on a crash, so a failed or interrupted run leaves nothing behind. CPU time and RSS come from /proc (Linux only).
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
/** utime and stime are fields 14 and 15 of /proc/<pid>/stat; counted after the `(comm)` field. */
const UTIME_AFTER_COMM = 11;

/** User + system CPU seconds of a process so far (all its threads). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm may contain spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[UTIME_AFTER_COMM]) + Number(fields[UTIME_AFTER_COMM + 1])) / CLK_TCK;
}

/** Resident set size of a process, bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** A spawned child with its collected output (last 64 KiB), for error messages. */
export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_KEEP = 64 * 1024;

export class ProcessGroup {
  readonly #children = new Set<Child>();
  readonly #dirs = new Set<string>();
  #installed = false;

  /** A new temp folder (config, logs of a server), removed by `stopAll()` or at exit. */
  tempDir(prefix: string): string {
    this.#installHandlers();
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.#dirs.add(dir);
    return dir;
  }

  /** Removes a folder made by `tempDir()` now. */
  removeDir(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    this.#dirs.delete(dir);
  }

  /** Spawns `command`; stdout and stderr are piped and kept (IPC too if `ipc`). */
  spawn(name: string, command: string, args: string[], opts: SpawnOptions & { ipc?: boolean } = {}): Child {
    this.#installHandlers();
    const { ipc, ...spawnOpts } = opts;
    const proc = spawn(command, args, {
      ...spawnOpts,
      stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    if (proc.pid === undefined) throw new Error(`${name}: cannot spawn ${command}`);
    let out = '';
    const keep = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.length > OUTPUT_KEEP) out = out.slice(-OUTPUT_KEEP);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const exited = new Promise<string>((resolve) => {
      proc.once('exit', (code, signal) => resolve(signal ?? String(code)));
      proc.once('error', (err) => resolve(`error: ${err.message}`));
    });
    const child: Child = {
      name,
      proc,
      pid: proc.pid,
      output: () => out,
      exited,
      stop: async (graceMs = 3000) => {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGTERM');
          const killer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(killer);
        }
        this.#children.delete(child);
      },
    };
    this.#children.add(child);
    exited.then(() => this.#children.delete(child));
    return child;
  }

  /** Stops every child still running (in parallel). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#children].map((c) => c.stop(2000)));
    for (const dir of this.#dirs) this.removeDir(dir);
  }

  /** Synchronous last resort for `exit`: SIGKILL to whatever is left. */
  killAllNow(): void {
    for (const c of this.#children) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    }
    this.#children.clear();
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    this.#dirs.clear();
  }

  #installHandlers(): void {
    if (this.#installed) return;
    this.#installed = true;
    process.once('exit', () => this.killAllNow());
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        process.stderr.write(`\nbench: ${sig}, stopping children\n`);
        this.killAllNow();
        process.exit(130);
      });
    }
  }
}

/**
 * Runs a command to completion and returns its stdout (first line if `firstLine`), or undefined
 * if it could not run or printed nothing (`janus --version` exits 1 after printing its version).
 */
export function commandOutput(command: string, args: string[], firstLine = true): string | undefined {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10000, stdio: 'pipe' });
  const out = (r.stdout ?? '').trim();
  if (r.error || out === '' || (r.status !== 0 && r.status !== 1)) return undefined;
  return firstLine ? out.split('\n')[0] : out;
}
