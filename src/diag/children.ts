/**
 * The registry of child processes the gateway starts (ffmpeg, exec: sources, ...). Modules call
 * `trackChild(proc, owner)` right after `spawn()`; the entry goes away when the process exits.
 * Read by /metrics and /api/debug/handles so that a leaked ffmpeg shows up with its owner.
 */
import type { ChildProcess } from 'node:child_process';

/** A live child process and who started it. */
export interface ChildInfo {
  pid: number | undefined;
  /** The module or stream that owns it, e.g. `ffmpeg:door`. */
  owner: string;
  /** The command line as spawned (`spawnargs`), for display. */
  command: string;
  startedAt: string;
}

const live = new Map<ChildProcess, ChildInfo>();
const started = new Map<string, number>();

/**
 * Registers a child process until it exits or fails to spawn. Returns `proc` for chaining.
 * Calling it twice for one process keeps the first owner.
 */
export function trackChild<T extends ChildProcess>(proc: T, owner: string): T {
  if (live.has(proc) || proc.exitCode !== null || proc.signalCode !== null) return proc;
  live.set(proc, {
    pid: proc.pid,
    owner,
    command: proc.spawnargs.join(' ').slice(0, 200),
    startedAt: new Date().toISOString(),
  });
  started.set(owner, (started.get(owner) ?? 0) + 1);
  const forget = () => live.delete(proc);
  // 'close' also follows a failed spawn (ENOENT), which emits no 'exit'. No 'error' listener:
  // that stays the owner's to handle.
  proc.once('exit', forget);
  proc.once('close', forget);
  return proc;
}

/** The child processes alive now. */
export function liveChildren(): ChildInfo[] {
  return [...live.values()].map((c) => ({ ...c }));
}

/** How many children each owner has started since the process began. */
export function childrenStarted(): Record<string, number> {
  return Object.fromEntries(started);
}
