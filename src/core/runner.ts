/**
 * SourceRunner: the life of one source of a stream. It connects on demand (the first consumer),
 * maps the connection's medias onto the stream's stable tracks, stops a while after the last reader
 * has left, and reconnects with backoff (1 s doubling to 30 s) while readers remain. Each connection
 * gets a generation number: frames and close events of an old connection are ignored.
 */
import { SafeEmitter } from './emitter.ts';
import { errorMessage, InvalidStateError, TimeoutError } from './errors.ts';
import { type Codec, codecToString, type Frame, type Media } from './media.ts';
import type { Backchannel, FrameSink, SourceConnection, SourceDriver } from './source.ts';
import type { StreamTrack } from './track.ts';

export type SourceState = 'idle' | 'connecting' | 'online' | 'backoff' | 'closed';

export interface RunnerOptions {
  /** How long a source stays connected after its last reader left, ms. Default 5000. */
  idleTimeoutMs?: number;
  /** First reconnect delay, ms; doubles up to `maxBackoffMs`. Default 1000. */
  minBackoffMs?: number;
  /** Default 30000. */
  maxBackoffMs?: number;
  /** Upper bound on one connect attempt, ms, on top of the driver's own timeouts. Default 20000. */
  connectTimeoutMs?: number;
}

export interface SourceInfo {
  url: string;
  state: SourceState;
  error?: string;
  remoteAddress?: string;
  medias: string[];
  reconnects: number;
  frames: number;
  bytes: number;
  /** Bits per second over the last diag sampling interval (0 until sampled). */
  bitrate: number;
  keyframeRequests: number;
  publisher: boolean;
}

export interface TrackAllocator {
  /** Returns the stream's track for this source's media slot, creating or updating it. */
  trackFor(runner: SourceRunner, index: number, codec: Codec): StreamTrack;
  /** Stream clock "now" in the given clock units, used to rebase new connections. */
  streamTime(clockRate: number): number;
}

export class SourceRunner extends SafeEmitter<{ state: [SourceState]; close: [] }> {
  state: SourceState = 'idle';
  lastError: string | undefined;
  reconnects = 0;
  frames = 0;
  bytes = 0;
  keyframeRequests = 0;
  /** Bits per second over the last sampling interval; written by the diag sampler, never per frame. */
  bitrate = 0;
  /** Tracks of the current (or last) connection, by media index. */
  tracks: StreamTrack[] = [];

  readonly #driver: SourceDriver | undefined;
  readonly #alloc: TrackAllocator;
  readonly #opts: Required<RunnerOptions>;
  #conn: SourceConnection | undefined;
  #generation = 0;
  #connecting: Promise<StreamTrack[]> | undefined;
  #abort: AbortController | undefined;
  #backoffMs: number;
  #backoffTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #onlineSince = 0;

  /**
   * @param url the source URL as displayed (secrets already masked)
   * @param driver undefined for a publisher, whose connection is handed in with `adopt()`
   */
  constructor(
    readonly url: string,
    driver: SourceDriver | undefined,
    alloc: TrackAllocator,
    opts: RunnerOptions = {},
  ) {
    super();
    this.#driver = driver;
    this.#alloc = alloc;
    this.#opts = {
      idleTimeoutMs: opts.idleTimeoutMs ?? 5000,
      minBackoffMs: opts.minBackoffMs ?? 1000,
      maxBackoffMs: opts.maxBackoffMs ?? 30000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 20000,
    };
    this.#backoffMs = this.#opts.minBackoffMs;
  }

  get isPublisher(): boolean {
    return this.#driver === undefined;
  }

  get medias(): readonly Media[] {
    return this.#conn?.medias ?? [];
  }

  /** The back channel of the current connection, while online (see `SourceConnection.backchannel`). */
  get backchannel(): Backchannel | undefined {
    return this.state === 'online' ? this.#conn?.backchannel : undefined;
  }

  get readerCount(): number {
    let n = 0;
    for (const t of this.tracks) n += t.readerCount;
    return n;
  }

  /**
   * Resolves with the tracks once connected. Concurrent callers share one attempt. A source in
   * backoff is tried again at once, since a consumer is waiting for it.
   */
  ensureConnected(): Promise<StreamTrack[]> {
    if (this.state === 'closed') return Promise.reject(new InvalidStateError(`source ${this.url} is closed`));
    if (this.state === 'online') return Promise.resolve(this.tracks);
    if (this.#connecting) return this.#connecting;
    if (!this.#driver) return Promise.reject(new InvalidStateError(`publisher ${this.url} is gone`));
    this.#clearBackoff();
    const attempt = this.#connect(this.#driver);
    this.#connecting = attempt;
    const clear = () => {
      if (this.#connecting === attempt) this.#connecting = undefined;
    };
    attempt.then(clear, clear);
    return attempt;
  }

  /**
   * Takes a publisher's connection (RTSP RECORD, WHIP): online at once, never reconnected.
   * Returns the sink the publisher pushes its frames into.
   */
  adopt(conn: SourceConnection): FrameSink {
    if (this.state === 'closed') {
      conn.close();
      throw new InvalidStateError(`source ${this.url} is closed`);
    }
    const generation = ++this.#generation;
    this.#online(conn, generation);
    return (index, frame) => {
      if (generation === this.#generation) this.#onFrame(index, frame);
    };
  }

  /** Forwards a consumer's keyframe request (PLI/FIR) to the connection. */
  requestKeyframe(): void {
    this.keyframeRequests++;
    this.#conn?.requestKeyframe?.();
  }

  /** Called by the stream whenever a reader joins or leaves one of this source's tracks. */
  readersChanged(): void {
    if (this.state === 'closed') return;
    if (this.readerCount > 0) {
      this.#clearIdle();
      return;
    }
    if (this.#idleTimer || this.isPublisher) return;
    if (this.state === 'online' || this.state === 'backoff' || this.state === 'connecting') {
      this.#idleTimer = setTimeout(() => {
        this.#idleTimer = undefined;
        if (this.readerCount === 0) this.#stop();
      }, this.#opts.idleTimeoutMs);
    }
  }

  /** Idempotent: aborts any attempt, closes the connection, clears every timer. */
  close(): void {
    if (this.state === 'closed') return;
    this.#stop();
    this.#setState('closed');
    this.emit('close');
    this.removeAllListeners();
  }

  info(): SourceInfo {
    return {
      url: this.url,
      state: this.state,
      error: this.lastError,
      remoteAddress: this.#conn?.remoteAddress,
      medias: this.medias.map((m) => `${m.kind}:${m.codecs.map(codecToString).join(',')}`),
      reconnects: this.reconnects,
      frames: this.frames,
      bytes: this.bytes,
      bitrate: this.bitrate,
      keyframeRequests: this.keyframeRequests,
      publisher: this.isPublisher,
    };
  }

  async #connect(driver: SourceDriver): Promise<StreamTrack[]> {
    const generation = ++this.#generation;
    const abort = new AbortController();
    this.#abort = abort;
    this.#setState('connecting');
    const sink = (index: number, frame: Frame) => {
      if (generation === this.#generation) this.#onFrame(index, frame);
    };
    let timer: NodeJS.Timeout | undefined;
    let gaveUp = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        gaveUp = true;
        abort.abort();
        reject(
          new TimeoutError(`source ${this.url} did not connect within ${this.#opts.connectTimeoutMs} ms`),
        );
      }, this.#opts.connectTimeoutMs);
    });
    const connecting = driver.connect(sink, abort.signal);
    // A driver that ignores the abort and connects after we gave up must not leak its connection.
    connecting.then(
      (conn) => gaveUp && conn.close(),
      () => undefined,
    );
    try {
      const conn = await Promise.race([connecting, timeout]);
      if (generation !== this.#generation || this.state === 'closed') {
        conn.close(); // stopped or closed while connecting
        throw new InvalidStateError(`source ${this.url} was stopped while connecting`);
      }
      this.#online(conn, generation);
      this.lastError = undefined;
      return this.tracks;
    } catch (err) {
      if (generation === this.#generation && this.state !== 'closed') {
        this.lastError = errorMessage(err);
        this.#afterFailure();
      }
      throw err;
    } finally {
      clearTimeout(timer);
      if (this.#abort === abort) this.#abort = undefined;
    }
  }

  #online(conn: SourceConnection, generation: number): void {
    this.#conn = conn;
    this.#generation = generation;
    this.#onlineSince = performance.now();
    this.tracks = conn.medias.map((m, i) => {
      const track = this.#alloc.trackFor(this, i, m.codecs[0]);
      track.rebase(this.#alloc.streamTime(track.codec.clockRate));
      return track;
    });
    conn.on('close', (err) => {
      if (generation !== this.#generation || this.#conn !== conn) return;
      this.#conn = undefined;
      if (err) this.lastError = errorMessage(err);
      if (this.state === 'closed') return;
      if (this.isPublisher) {
        this.close();
        return;
      }
      this.#afterFailure();
    });
    this.#setState('online');
    this.readersChanged();
  }

  #onFrame(index: number, frame: Frame): void {
    const track = this.tracks[index];
    if (!track) return;
    this.frames++;
    this.bytes += frame.data.length;
    track.write(frame);
  }

  /** After a failed attempt or a lost connection: back off and retry while readers remain. */
  #afterFailure(): void {
    if (performance.now() - this.#onlineSince > 30000) this.#backoffMs = this.#opts.minBackoffMs;
    if (this.readerCount === 0) {
      this.#setState('idle');
      return;
    }
    this.#setState('backoff');
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#opts.maxBackoffMs);
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      if (this.state !== 'backoff' || !this.#driver) return;
      this.reconnects++;
      this.ensureConnected().catch(() => undefined); // failure handled in #connect
    }, delay);
  }

  #stop(): void {
    this.#generation++;
    this.#abort?.abort();
    this.#abort = undefined;
    this.#connecting = undefined;
    this.#clearBackoff();
    this.#clearIdle();
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.close();
    this.#backoffMs = this.#opts.minBackoffMs;
    if (this.state !== 'closed') this.#setState('idle');
  }

  #clearBackoff(): void {
    if (this.#backoffTimer) clearTimeout(this.#backoffTimer);
    this.#backoffTimer = undefined;
  }

  #clearIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #setState(state: SourceState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }
}
