/**
 * Serialization of multi-step async state changes. In Node there are no data races, but an `await`
 * in the middle of a change to shared state lets another change run in between: the same bug as an
 * unlocked map in Go. Every such change runs through one of these queues.
 */
import { InvalidStateError } from './errors.ts';

/** Runs tasks one after another, in call order; a failing task does not stop later ones. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  #pending = 0;

  get pending(): number {
    return this.#pending;
  }

  run<T>(task: () => Promise<T> | T): Promise<T> {
    if (this.#closed) return Promise.reject(new InvalidStateError('queue closed'));
    this.#pending++;
    const result = this.#tail.then(async () => {
      try {
        return await task();
      } finally {
        this.#pending--;
      }
    });
    // The chain continues whether the task failed or not.
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Rejects every task queued after this call; tasks already queued still run. */
  close(): void {
    this.#closed = true;
  }
}

/** One SerialQueue per key, created on demand and dropped when idle. */
export class KeyedSerial {
  #queues = new Map<string, SerialQueue>();

  run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = new SerialQueue();
      this.#queues.set(key, queue);
    }
    const q = queue;
    return q.run(task).finally(() => {
      if (q.pending === 0 && this.#queues.get(key) === q) this.#queues.delete(key);
    });
  }

  get size(): number {
    return this.#queues.size;
  }
}
