/**
 * Live profiling through `node:inspector` on an in-process session: CPU profiles (`.cpuprofile`,
 * opens in Chrome DevTools), heap snapshots (streamed chunk by chunk) and sampling heap profiles
 * (`.heapprofile`, cheap enough to take during an incident). One capture at a time: another
 * request meanwhile gets ConflictError (HTTP 409).
 */
import { Session } from 'node:inspector/promises';
import { ConflictError, InvalidStateError } from '../core/errors.ts';

/** The JSON of a `.cpuprofile` (Chrome DevTools Profiler.Profile). */
export interface CpuProfile {
  nodes: unknown[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** The JSON of a `.heapprofile` (HeapProfiler.SamplingHeapProfile). */
export interface HeapProfile {
  head: unknown;
  samples: unknown[];
}

/** Bytes between heap allocation samples: V8's default, cheap. */
const HEAP_SAMPLING_INTERVAL = 32 * 1024;

export class Profiler {
  #busy: { what: string; since: number } | undefined;
  /** When the last capture that blocks the loop (a heap snapshot) ended, `performance.now()`. */
  #blockedAt = -Infinity;
  readonly #waits = new Set<{ timer: NodeJS.Timeout; cancel: (err: Error) => void }>();
  #closed = false;

  /** What is being captured now, if anything. */
  get busy(): string | undefined {
    return this.#busy?.what;
  }

  /** Whether a loop-blocking capture ran after `since` (ms, `performance.now()`): its lag is ours. */
  blockedSince(since: number): boolean {
    return this.#busy?.what === 'heap snapshot' || this.#blockedAt >= since;
  }

  /**
   * Profiles the CPU for `ms`, or until `signal` aborts (the client went away). Rejects with
   * ConflictError while another capture runs.
   */
  cpuProfile(ms: number, signal?: AbortSignal): Promise<CpuProfile> {
    return this.#exclusive('cpu profile', async (session) => {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      const failed = await this.#wait(ms, signal);
      // Stopped even on close, so that V8 does not keep profiling.
      const { profile } = await session.post('Profiler.stop');
      if (failed) throw failed;
      return profile as CpuProfile;
    });
  }

  /** A sampling heap profile of the allocations still live after `ms`. */
  samplingHeapProfile(ms: number, signal?: AbortSignal): Promise<HeapProfile> {
    return this.#exclusive('heap profile', async (session) => {
      await session.post('HeapProfiler.startSampling', { samplingInterval: HEAP_SAMPLING_INTERVAL });
      const failed = await this.#wait(ms, signal);
      const { profile } = await session.post('HeapProfiler.stopSampling');
      if (failed) throw failed;
      return profile as HeapProfile;
    });
  }

  /** A CPU profile and a sampling heap profile over the same `ms`, for an incident. */
  capture(ms: number): Promise<{ cpu: CpuProfile; heap: HeapProfile }> {
    return this.#exclusive('incident capture', async (session) => {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      await session.post('HeapProfiler.startSampling', { samplingInterval: HEAP_SAMPLING_INTERVAL });
      const failed = await this.#wait(ms);
      const { profile: cpu } = await session.post('Profiler.stop');
      const { profile: heap } = await session.post('HeapProfiler.stopSampling');
      if (failed) throw failed;
      return { cpu: cpu as CpuProfile, heap: heap as HeapProfile };
    });
  }

  /**
   * Takes a heap snapshot and hands its JSON to `write` in chunks. V8 produces the whole snapshot
   * synchronously: the event loop stops for as long as it takes (about a second per 100 MB).
   */
  heapSnapshot(write: (chunk: string) => void): Promise<void> {
    return this.#exclusive('heap snapshot', async (session) => {
      const onChunk = (m: { params: { chunk: string } }) => write(m.params.chunk);
      session.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
      try {
        await session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      } finally {
        session.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
        this.#blockedAt = performance.now();
      }
    });
  }

  /** Idempotent: rejects pending captures with InvalidStateError (their profiles are stopped). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const wait of this.#waits) {
      clearTimeout(wait.timer);
      wait.cancel(new InvalidStateError('profiler closed'));
    }
    this.#waits.clear();
  }

  async #exclusive<T>(what: string, run: (session: Session) => Promise<T>): Promise<T> {
    if (this.#closed) throw new InvalidStateError('profiler closed');
    if (this.#busy) {
      const seconds = ((performance.now() - this.#busy.since) / 1000).toFixed(1);
      throw new ConflictError(`a ${this.#busy.what} is already running (for ${seconds} s); try again later`);
    }
    this.#busy = { what, since: performance.now() };
    const session = new Session();
    try {
      session.connect();
      return await run(session);
    } finally {
      session.disconnect();
      this.#busy = undefined;
    }
  }

  /** Resolves after `ms` or on abort, or with the InvalidStateError of close(); never rejects. */
  #wait(ms: number, signal?: AbortSignal): Promise<Error | undefined> {
    if (this.#closed) return Promise.resolve(new InvalidStateError('profiler closed'));
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(wait.timer);
        this.#waits.delete(wait);
        signal?.removeEventListener('abort', done);
        resolve(undefined);
      };
      const wait = {
        timer: setTimeout(done, ms),
        cancel: (err: Error) => {
          signal?.removeEventListener('abort', done);
          resolve(err);
        },
      };
      this.#waits.add(wait);
      if (signal?.aborted) done();
      else signal?.addEventListener('abort', done, { once: true });
    });
  }
}
