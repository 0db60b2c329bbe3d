/**
 * A small typed event emitter whose emit never throws: a listener that throws is reported through
 * `onListenerError` and the remaining listeners still run, so one bad listener cannot break fan-out
 * or teardown (mediasoup's safeEmit).
 */

// biome-ignore lint/suspicious/noExplicitAny: event argument tuples are arbitrary
export type EventMap = Record<string, any[]>;
type Listener<A extends unknown[]> = (...args: A) => void;
// biome-ignore lint/suspicious/noExplicitAny: storage type for listeners of any event
type AnyListener = (...args: any[]) => void;

/** Where listener exceptions go; the logger replaces it at start-up. */
export let onListenerError: (event: string, err: unknown) => void = (event, err) => {
  console.error(`listener for "${event}" threw`, err);
};

export function setListenerErrorHandler(handler: (event: string, err: unknown) => void): void {
  onListenerError = handler;
}

export class SafeEmitter<E extends EventMap> {
  #listeners = new Map<keyof E, AnyListener[]>();

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as AnyListener);
    this.#listeners.set(event, list);
    return this;
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const wrapper = ((...args: E[K]) => {
      this.off(event, wrapper);
      listener(...args);
    }) as Listener<E[K]>;
    return this.on(event, wrapper);
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    const i = list.indexOf(listener as AnyListener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  removeAllListeners(): void {
    this.#listeners.clear();
  }

  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener; exceptions are reported, never thrown. Returns whether any listened. */
  emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const list = this.#listeners.get(event);
    if (!list) return false;
    for (const listener of [...list]) {
      try {
        listener(...args);
      } catch (err) {
        onListenerError(String(event), err);
      }
    }
    return true;
  }
}
