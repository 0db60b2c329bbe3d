/**
 * Request/response over the Node IPC channel between the bench and its worker processes
 * (publisher, RTSP readers, WebRTC viewers, ceiling). A worker answers `{ id, result }` or
 * `{ id, error }`; unsolicited messages are `{ event, ... }`.
 */
import { join } from 'node:path';
import type { Child, ProcessGroup } from './procs.ts';

export type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

interface Request {
  id: number;
  op: string;
  args: Record<string, unknown>;
}

/** Worker side: answers requests with `handlers[op](args)`; exits when the parent goes away. */
export function serveIpc(handlers: Handlers): void {
  if (!process.send) throw new Error('not started with an IPC channel');
  process.on('message', async (msg: Request) => {
    try {
      const handler = handlers[msg.op];
      if (!handler) throw new Error(`unknown op ${msg.op}`);
      const result = await handler(msg.args ?? {});
      process.send?.({ id: msg.id, result });
    } catch (err) {
      process.send?.({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  // A library's stray rejection (werift's DTLS after a failed handshake) must not end a worker
  // that still serves hundreds of sessions: it is reported and the worker goes on.
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`unhandled rejection: ${err instanceof Error ? err.stack : String(err)}\n`);
  });
  process.on('uncaughtException', (err) => {
    process.stderr.write(`uncaught exception: ${err.stack ?? err.message}\n`);
  });
}

/** Parent side of a worker. */
export class Worker {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  #exited: string | undefined;

  constructor(readonly child: Child) {
    // Sending to a worker that just died emits 'error' on the process: reported by call() instead.
    child.proc.on('error', () => {});
    child.proc.on('message', (msg: { id?: number; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(`${child.name}: ${msg.error}`));
      else p.resolve(msg.result);
    });
    child.exited.then((code) => {
      this.#exited = code;
      for (const p of this.#pending.values())
        p.reject(new Error(`${child.name} exited (${code}):\n${child.output().slice(-2000)}`));
      this.#pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid;
  }

  call<T>(op: string, args: Record<string, unknown> = {}, timeoutMs = 30000): Promise<T> {
    if (this.#exited !== undefined || !this.child.proc.connected) {
      const why = this.#exited !== undefined ? `exited (${this.#exited})` : 'is not connected';
      return Promise.reject(new Error(`${this.child.name} ${why}:\n${this.child.output().slice(-2000)}`));
    }
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.child.name}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.proc.send({ id, op, args }, (err) => {
        if (!err) return;
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(new Error(`${this.child.name}: ${op}: ${err.message}`));
      });
    });
  }

  stop(): Promise<void> {
    return this.child.stop(2000);
  }
}

const BENCH_DIR = join(new URL('..', import.meta.url).pathname);

/** Starts `bench/<script>` in its own Node process (through tsx) with an IPC channel. */
export function startWorker(
  group: ProcessGroup,
  name: string,
  script: string,
  nodeArgs: string[] = [],
): Worker {
  const child = group.spawn(
    name,
    process.execPath,
    [...nodeArgs, '--import', 'tsx', join(BENCH_DIR, script)],
    {
      ipc: true,
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  return new Worker(child);
}
