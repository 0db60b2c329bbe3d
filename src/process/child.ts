/**
 * ChildProcessSupervisor: one child process the gateway starts (ffmpeg, an `exec:` command), with
 * the rules that keep children from leaking:
 *
 * - It runs in its own process group (`detached`), so stopping it reaches a shell's children too:
 *   SIGTERM (or the configured signal) to the whole group, SIGKILL to the group after
 *   `killTimeoutMs`, also for grandchildren that outlive the leader.
 * - `exited` settles only on the child's `exit` (or a failed spawn): nothing is forgotten before
 *   the OS has reaped it, so there is never a zombie and never a handle left open.
 * - Its stderr goes to the debug log line by line, and its last lines are kept for the error
 *   that says why it failed.
 * - It is registered with `trackChild()` so /metrics and /api/debug/handles see it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { trackChild } from '../diag/children.ts';
import type { Logger } from '../log/logger.ts';
import { LineRing } from './lines.ts';

export interface ChildOptions {
  /** The program (no shell is involved; run `sh -c` explicitly for one). */
  command: string;
  args: readonly string[];
  /** Who owns it, for the diag registry and the log, e.g. `ffmpeg:door`. */
  owner: string;
  /** `pipe` to write to its stdin (snapshots); default `ignore`. */
  stdin?: 'pipe' | 'ignore';
  /** `pipe` to read its stdout (MPEG-TS, JPEG); default `ignore`. */
  stdout?: 'pipe' | 'ignore';
  /** The first signal of `stop()`; default SIGTERM. */
  killSignal?: NodeJS.Signals;
  /** How long `stop()` waits after the first signal before SIGKILL, ms; default 2000. */
  killTimeoutMs?: number;
  /** stderr lines kept for error messages; default 20. */
  stderrLines?: number;
  /** stderr lines go here at debug level. */
  log?: Logger;
  env?: NodeJS.ProcessEnv;
}

/** How a child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: Error;
  /** True when it ended because `stop()` was called. */
  stopped: boolean;
}

export const DEFAULT_KILL_TIMEOUT_MS = 2000;
/** How long after `exit` the child's pipes may stay open (held by a grandchild), ms. */
const STDIO_LINGER_MS = 500;

/** Every supervised child not yet exited, for `stopAll()` at shutdown. */
const live = new Set<ChildProcessSupervisor>();

export class ChildProcessSupervisor {
  /**
   * Stops every supervised child of the process (the first signal, SIGKILL after each one's kill
   * timeout) and resolves when all have exited: at shutdown, so none outlives the gateway.
   */
  static async stopAll(): Promise<void> {
    await Promise.all([...live].map((c) => c.stop()));
  }

  readonly proc: ChildProcess;
  readonly owner: string;
  /** Settles once the process has exited and been reaped (or never started). Never rejects. */
  readonly exited: Promise<ChildExit>;
  readonly #stderr: LineRing;
  readonly #killSignal: NodeJS.Signals;
  readonly #killTimeoutMs: number;
  readonly #log: Logger | undefined;
  #exit: ChildExit | undefined;
  #stopping = false;
  #killTimer: NodeJS.Timeout | undefined;

  /** Spawns at once. A spawn failure does not throw: `exited` settles with `spawnError`. */
  constructor(opts: ChildOptions) {
    this.owner = opts.owner;
    this.#stderr = new LineRing(opts.stderrLines ?? 20);
    this.#killSignal = opts.killSignal ?? 'SIGTERM';
    this.#killTimeoutMs = opts.killTimeoutMs ?? DEFAULT_KILL_TIMEOUT_MS;
    this.#log = opts.log;
    this.proc = spawn(opts.command, [...opts.args], {
      stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'ignore', 'pipe'],
      detached: true,
      env: opts.env,
    });
    trackChild(this.proc, opts.owner);
    live.add(this);
    this.exited = new Promise((resolve) => {
      let spawnError: Error | undefined;
      let status: [number | null, NodeJS.Signals | null] | undefined;
      let linger: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(linger);
        this.#ended(status?.[0] ?? null, status?.[1] ?? null, spawnError, resolve);
      };
      this.proc.once('error', (err) => {
        spawnError = err;
      });
      // 'close' comes after 'exit' once stdio is drained, so the last stderr lines are in the error.
      // A grandchild holding the pipes open must not delay it long: our ends are dropped then.
      this.proc.once('close', finish);
      this.proc.once('exit', (code, signal) => {
        status = [code, signal];
        linger = setTimeout(() => {
          for (const s of [this.proc.stdin, this.proc.stdout, this.proc.stderr]) s?.destroy();
          finish();
        }, STDIO_LINGER_MS);
      });
    });
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stderr?.on('data', (chunk: string) => {
      for (const line of this.#stderr.push(chunk))
        this.#log?.debug({ owner: this.owner, pid: this.pid }, line);
    });
    // A child that exits while we write to it must not crash the gateway with EPIPE.
    this.proc.stdin?.on('error', () => undefined);
    this.proc.stdout?.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** True until the process has exited (or failed to spawn). */
  get running(): boolean {
    return this.#exit === undefined;
  }

  get exit(): ChildExit | undefined {
    return this.#exit;
  }

  /** The last stderr lines, oldest first. */
  stderrTail(): string[] {
    return this.#stderr.lines();
  }

  /**
   * Idempotent: signals the process group (`killSignal`, then SIGKILL after `killTimeoutMs`) and
   * resolves once the process has exited.
   */
  stop(): Promise<ChildExit> {
    if (this.#exit || this.#stopping) return this.exited;
    this.#stopping = true;
    this.#signalGroup(this.#killSignal);
    this.#killTimer = setTimeout(() => this.#killGroup(), this.#killTimeoutMs);
    return this.exited;
  }

  /**
   * `ffmpeg exited with code 1: <last stderr lines>`; what to put in the error of the source or
   * request this child served.
   */
  describeExit(what = this.owner): string {
    const exit = this.#exit;
    const tail = this.#stderr.lines().slice(-5).join(' | ');
    let how: string;
    if (!exit) how = 'is still running';
    else if (exit.spawnError) how = `could not be started: ${exit.spawnError.message}`;
    else if (exit.signal) how = `was killed by ${exit.signal}`;
    else how = `exited with code ${exit.code}`;
    return `${what} ${how}${tail ? `: ${tail}` : ''}`;
  }

  #ended(
    code: number | null,
    signal: NodeJS.Signals | null,
    spawnError: Error | undefined,
    resolve: (exit: ChildExit) => void,
  ): void {
    if (this.#exit) return;
    live.delete(this);
    for (const line of this.#stderr.flush()) this.#log?.debug({ owner: this.owner, pid: this.pid }, line);
    this.#exit = { code, signal, spawnError, stopped: this.#stopping };
    // The leader is gone; members of its group that ignored the first signal still get SIGKILL.
    if (!this.#groupAlive()) {
      clearTimeout(this.#killTimer);
      this.#killTimer = undefined;
    } else {
      if (!this.#stopping) {
        // It ended on its own and left children behind: they go with it.
        this.#stopping = true;
        this.#signalGroup(this.#killSignal);
        this.#killTimer = setTimeout(() => this.#killGroup(), this.#killTimeoutMs);
      }
      // Only orphans are left (perhaps zombies a container's init never reaps): this timer must not
      // keep the gateway, or a test, waiting.
      this.#killTimer?.unref();
    }
    resolve(this.#exit);
  }

  #killGroup(): void {
    this.#killTimer = undefined;
    this.#signalGroup('SIGKILL');
  }

  #groupAlive(): boolean {
    const pid = this.proc.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.proc.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is gone already. Fall back to the process itself (if the group could not be made).
      if (this.#exit === undefined) this.proc.kill(signal);
    }
  }
}
