/**
 * Slows down password guessing: a per-address count of failed logins (wrong password, forged or
 * expired token). Once an address has `freeFailures` failures (at least one), every request of it
 * that carries credentials waits `baseDelayMs * 2^(failures - freeFailures)` (at most
 * `maxDelayMs`) before its credentials are even checked, and at most `maxWaiting` of them wait at once: the
 * rest are refused at once (429). A success does not reset the count (a guesser with one valid
 * account could otherwise reset it between guesses); an address is forgotten `windowMs` after its
 * last failure. The map is bounded (the oldest address goes first) and swept by one timer that
 * runs only while the map is not empty.
 */

export interface ThrottleOptions {
  /** Failures of one address before its requests are delayed (at least 1). Default 5. */
  freeFailures?: number;
  /** First delay, ms; it doubles with each further failure. Default 250. */
  baseDelayMs?: number;
  /** Longest delay, ms. Default 10000. */
  maxDelayMs?: number;
  /** An address is forgotten this long after its last failure, ms. Default 300000. */
  windowMs?: number;
  /** Addresses remembered; beyond, the least recently failing is dropped. Default 10000. */
  maxAddresses?: number;
  /** Requests of one address that may wait at once; more are refused at once. Default 8. */
  maxWaiting?: number;
}

interface Entry {
  failures: number;
  last: number;
  waiting: number;
}

interface Waiter {
  timer: NodeJS.Timeout;
  resolve: (admitted: boolean) => void;
}

export class FailureThrottle {
  readonly #o: Required<ThrottleOptions>;
  readonly #entries = new Map<string, Entry>();
  readonly #waiters = new Set<Waiter>();
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ThrottleOptions = {}) {
    this.#o = {
      freeFailures: options.freeFailures ?? 5,
      baseDelayMs: options.baseDelayMs ?? 250,
      maxDelayMs: options.maxDelayMs ?? 10_000,
      windowMs: options.windowMs ?? 300_000,
      maxAddresses: options.maxAddresses ?? 10_000,
      maxWaiting: options.maxWaiting ?? 8,
    };
  }

  /** Addresses currently remembered. */
  get size(): number {
    return this.#entries.size;
  }

  /** Failures counted for `address` (0 when forgotten). */
  failures(address: string, now = performance.now()): number {
    const e = this.#live(address, now);
    return e ? e.failures : 0;
  }

  /** How long the next credentialed request of `address` waits, ms. */
  delayFor(address: string, now = performance.now()): number {
    const failures = this.failures(address, now);
    const free = Math.max(1, this.#o.freeFailures);
    if (failures < free) return 0;
    return Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** Math.min(failures - free, 30));
  }

  /** Counts one failed login of `address`. */
  fail(address: string, now = performance.now()): void {
    if (this.#closed) return;
    const e = this.#live(address, now) ?? { failures: 0, last: now, waiting: 0 };
    e.failures++;
    e.last = now;
    // Re-insert so that the map's order is the order of last failure (oldest first).
    this.#entries.delete(address);
    this.#entries.set(address, e);
    while (this.#entries.size > this.#o.maxAddresses) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#sweeper ??= setInterval(() => this.sweep(), Math.min(this.#o.windowMs, 60_000));
    this.#sweeper.unref();
  }

  /**
   * Waits the delay of `address`. Resolves true to go on and check the credentials, false to refuse
   * at once (too many of its requests already waiting, or the throttle closed).
   */
  admit(address: string): Promise<boolean> {
    const delay = this.delayFor(address);
    if (delay === 0) return Promise.resolve(!this.#closed);
    const e = this.#entries.get(address);
    if (this.#closed || !e || e.waiting >= this.#o.maxWaiting) return Promise.resolve(false);
    e.waiting++;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve: (admitted) => {
          clearTimeout(waiter.timer);
          this.#waiters.delete(waiter);
          e.waiting--;
          resolve(admitted);
        },
        timer: setTimeout(() => waiter.resolve(!this.#closed), delay),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Forgets addresses whose last failure is older than the window; stops the timer when none are left. */
  sweep(now = performance.now()): void {
    for (const [address, e] of this.#entries) {
      if (now - e.last > this.#o.windowMs && e.waiting === 0) this.#entries.delete(address);
    }
    if (this.#entries.size === 0) this.#stopSweeper();
  }

  /** Idempotent: refuses every waiting request and stops the timer. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of [...this.#waiters]) w.resolve(false);
    this.#entries.clear();
    this.#stopSweeper();
  }

  #live(address: string, now: number): Entry | undefined {
    const e = this.#entries.get(address);
    if (e && now - e.last > this.#o.windowMs && e.waiting === 0) {
      this.#entries.delete(address);
      return undefined;
    }
    return e;
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
