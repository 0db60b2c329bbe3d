/**
 * Stream: a named set of ordered sources and the consumers reading them. Negotiation and source
 * replacement run through the stream's serial queue; close() is synchronous and idempotent and
 * closes the consumers before the sources they read from.
 *
 * Transcoding: when a consumer asks for codecs no source offers and a `Transcoder` hook is set
 * (`StreamHooks`), the stream asks it for a source that makes them from the stream itself, keeps
 * it as a hidden extra source (after the configured ones, never written to the config), waits for
 * it outside the queue (it reads this stream, so its own negotiation needs the queue) and
 * negotiates again. One transcoder per key (target codec set), shared by every consumer that
 * matches its tracks; it stops like any source, `idle_timeout` after its last reader.
 *
 * Upgrades: a request that matched, but not with its first choice (a browser that prefers Opus
 * and gets a G.711 camera), may be served by a cheap in-process transcoder instead, when the hook
 * has `upgrade()` (ffmpeg's has not). Tracks of a plan marked `preferred` then win over a source's
 * track the consumer ranks lower. Two-way audio: `backchannel()` is the first online source's.
 */
import type { Consumer, MediaRequest } from './consumer.ts';
import { SafeEmitter } from './emitter.ts';
import { errorMessage, InvalidStateError, UnsupportedError } from './errors.ts';
import { maskSecrets } from './mask.ts';
import { type Codec, type Media, mediaToString } from './media.ts';
import { codecMatches, findTrack, requestToString } from './negotiate.ts';
import { type RunnerOptions, type SourceInfo, SourceRunner, type TrackAllocator } from './runner.ts';
import { SerialQueue } from './serial.ts';
import type { Backchannel, FrameSink, SourceConnection, SourceDriver } from './source.ts';
import { StreamTrack } from './track.ts';

/** A source as configured: the URL as written (kept for the config file) and its driver. */
export interface SourceSpec {
  url: string;
  driver: SourceDriver;
}

/** What the stream asks its transcoder for. */
export interface TranscodeRequest {
  stream: string;
  /** The configured source URLs (a policy may read per-stream options such as `#transcode=never`). */
  sourceUrls: readonly string[];
  /** The consumer's requests that no track matched, in its order. */
  missing: readonly MediaRequest[];
  /** Medias of the stream's own sources and publishers that are online now (never of transcoders). */
  offered(): Media[];
}

/** A transcoder to add to a stream. */
export interface TranscodePlan {
  /** The target codec set, e.g. `video=h264&audio=opus`: one transcoder per stream and key. */
  key: string;
  /** Shown as the source's URL in the API. */
  url: string;
  driver: SourceDriver;
  /**
   * Its tracks win over a source's track that a consumer ranks lower (in-process audio
   * transcoders: cheap, and what the consumer asked for first). Default false.
   */
  preferred?: boolean;
}

/**
 * Makes codecs the sources lack from the stream itself (the ffmpeg module registers one). `plan`
 * returns undefined when it cannot or may not help (policy, nothing of that kind to start from).
 */
export interface Transcoder {
  plan(request: TranscodeRequest): TranscodePlan | undefined;
  /**
   * Optional: a transcoder for requests that matched, but not with the consumer's first choice;
   * `missing` holds each such request cut to the codecs it ranks above its match. Only cheap,
   * in-process transcoders should answer (G.711 → Opus for browsers), and with `preferred` plans.
   */
  upgrade?(request: TranscodeRequest): TranscodePlan | undefined;
}

/** Extension points set by modules; shared by reference, so a hook set later applies to every stream. */
export interface StreamHooks {
  transcoder?: Transcoder;
}

export interface StreamInfo {
  name: string;
  /** Sources; transcoders are marked `transcoder: true`. */
  producers: (SourceInfo & { transcoder?: boolean })[];
  /** `transcoders`: the URLs of the transcoders serving this consumer, when any. */
  consumers: (ReturnType<Consumer['info']> & { transcoders?: string[] })[];
  tracks: { id: number; kind: string; codec: string; readers: number; frames: number; bytes: number }[];
}

export class Stream extends SafeEmitter<{ close: [] }> {
  readonly #queue = new SerialQueue();
  readonly #consumers = new Set<Consumer>();
  readonly #slots = new WeakMap<SourceRunner, StreamTrack[]>();
  readonly #epoch = performance.now();
  #sources: SourceSpec[] = [];
  #runners: SourceRunner[] = [];
  #publishers: SourceRunner[] = [];
  /** Transcoders by key; after the sources in negotiation order. */
  readonly #transcoders = new Map<string, SourceRunner>();
  /** Transcoders of `preferred` plans. */
  readonly #preferred = new WeakSet<SourceRunner>();
  #nextTrackId = 0;
  #closed = false;

  readonly #alloc: TrackAllocator = {
    trackFor: (runner, index, codec) => this.#trackFor(runner, index, codec),
    streamTime: (clockRate) => Math.round(((performance.now() - this.#epoch) / 1000) * clockRate),
  };

  constructor(
    readonly name: string,
    sources: SourceSpec[],
    private readonly runnerOptions: RunnerOptions = {},
    private readonly hooks: StreamHooks = {},
  ) {
    super();
    this.#setSources(sources);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The URLs as configured (unmasked: for the config file only, never for display). */
  get sourceUrls(): string[] {
    return this.#sources.map((s) => s.url);
  }

  get consumers(): readonly Consumer[] {
    return [...this.#consumers];
  }

  /** Publishers, the configured sources, then transcoders, in the order info() lists them. A snapshot (for diag). */
  get sources(): readonly SourceRunner[] {
    return this.#allRunners();
  }

  /**
   * Negotiates the consumer's requests against the sources, in config order, connecting sources
   * only as far as needed, attaches the matching tracks and registers the consumer. The consumer
   * starts receiving when it calls `play()`. Requests nothing matches may be served by a
   * transcoder (see the file comment). Rejects with UnsupportedError naming both sides when
   * nothing matched; the consumer is then not registered (and not closed: that is the caller's).
   */
  async addConsumer(consumer: Consumer): Promise<void> {
    const transcoder = await this.#queue.run(() => this.#negotiate(consumer, true));
    if (!transcoder) return;
    // It reads this stream back, and that reader's negotiation runs through the queue: wait outside.
    await transcoder.ensureConnected().catch(() => undefined); // its error is kept in lastError
    await this.#queue.run(() => this.#negotiate(consumer, false));
  }

  /**
   * One round of negotiation. Returns a transcoder to wait for (then nothing is attached yet), or
   * undefined once the consumer is registered.
   */
  async #negotiate(consumer: Consumer, mayTranscode: boolean): Promise<SourceRunner | undefined> {
    this.#assertOpen();
    const failures: string[] = [];
    const failed = new Set<SourceRunner>();
    const requests = consumer.requests();
    const chosen: (StreamTrack | undefined)[] = [];
    for (const request of requests) {
      let found: StreamTrack | undefined;
      for (const runner of this.#allRunners()) {
        if (failed.has(runner)) continue;
        let tracks: StreamTrack[];
        if (this.#isTranscoder(runner)) {
          // Started only from addConsumer(), outside the queue.
          if (runner.state !== 'online') continue;
          tracks = runner.tracks;
        } else {
          try {
            tracks = await runner.ensureConnected();
          } catch (err) {
            failed.add(runner);
            failures.push(`${runner.url}: ${errorMessage(err)}`);
            continue;
          }
        }
        if (consumer.closed || this.#closed) {
          throw new InvalidStateError(
            `${consumer.closed ? 'consumer' : `stream ${this.name}`} closed during negotiation`,
          );
        }
        found = findTrack(request, tracks);
        if (found) break;
      }
      chosen.push(found && this.#better(request, found));
    }
    this.#assertOpen();
    if (consumer.closed) throw new InvalidStateError('consumer closed during negotiation');
    const missing = requests.filter((_, i) => !chosen[i]);
    if (missing.length > 0 && mayTranscode) {
      const transcoder = this.#transcoderFor(missing);
      if (transcoder) return transcoder;
    }
    const upgrades = mayTranscode ? upgradesOf(requests, chosen) : [];
    if (upgrades.length > 0) {
      const transcoder = this.#transcoderFor(upgrades, true);
      if (transcoder) return transcoder;
    }
    for (const track of chosen) if (track) consumer.attachTrack(track);
    if (consumer.tracks.length === 0) {
      const sources = this.#allRunners().filter((r) => !this.#isTranscoder(r));
      if (failed.size > 0 && failed.size === sources.length) {
        throw new UnsupportedError(`stream ${this.name}: no source available (${failures.join('; ')})`);
      }
      const offered = this.#allRunners().flatMap((r) => r.medias.map((m) => mediaToString(m.kind, m.codecs)));
      const transcoding = [...this.#transcoders.values()]
        .filter((r) => r.state !== 'online' && r.lastError)
        .map((r) => `${r.url}: ${r.lastError}`);
      throw new UnsupportedError(
        `codecs not matched: ${offered.join(', ') || 'none'} => ${requests.map(requestToString).join(', ')}` +
          (transcoding.length > 0 ? ` (transcoding failed: ${transcoding.join('; ')})` : ''),
      );
    }
    this.#consumers.add(consumer);
    consumer.once('close', () => this.#consumers.delete(consumer));
    return undefined;
  }

  /** The transcoder the hook plans for `missing` (created once per key), or undefined. */
  #transcoderFor(missing: MediaRequest[], upgrade = false): SourceRunner | undefined {
    const hook = this.hooks.transcoder;
    if (!hook || (upgrade && !hook.upgrade)) return undefined;
    const request: TranscodeRequest = {
      stream: this.name,
      sourceUrls: this.sourceUrls,
      missing,
      offered: () => this.#offered(),
    };
    const plan = upgrade ? hook.upgrade?.(request) : hook.plan(request);
    if (!plan) return undefined;
    let runner = this.#transcoders.get(plan.key);
    if (!runner) {
      runner = this.#newRunner(maskSecrets(plan.url), plan.driver);
      this.#transcoders.set(plan.key, runner);
      if (plan.preferred) this.#preferred.add(runner);
    }
    // An upgrade already running (another consumer's): nothing to wait for, the match stands.
    if (upgrade && runner.state === 'online') return undefined;
    return runner;
  }

  /** `found`, or a track of an online `preferred` transcoder that the request ranks higher. */
  #better(request: MediaRequest, found: StreamTrack): StreamTrack {
    let best = found;
    let rank = rankOf(request, found);
    for (const runner of this.#transcoders.values()) {
      if (rank <= 0) break;
      if (!this.#preferred.has(runner) || runner.state !== 'online') continue;
      for (const track of runner.tracks) {
        const r = rankOf(request, track);
        if (r >= 0 && r < rank) {
          best = track;
          rank = r;
        }
      }
    }
    return best;
  }

  /**
   * The audio back channel of the first online source that has one (publishers first, then the
   * configured sources in order; never a transcoder's), or undefined.
   */
  backchannel(): Backchannel | undefined {
    if (this.#closed) return undefined;
    for (const runner of [...this.#publishers, ...this.#runners]) {
      const backchannel = runner.backchannel;
      if (backchannel) return backchannel;
    }
    return undefined;
  }

  #offered(): Media[] {
    return this.#allRunners()
      .filter((r) => !this.#isTranscoder(r) && r.state === 'online')
      .flatMap((r) => [...r.medias]);
  }

  #isTranscoder(runner: SourceRunner): boolean {
    for (const t of this.#transcoders.values()) if (t === runner) return true;
    return false;
  }

  /**
   * Takes a publisher's connection (RTSP ANNOUNCE/RECORD, WHIP) as a source, ahead of the others.
   * Returns the sink for its frames (by index into `conn.medias`). The publisher's source goes
   * away when the connection emits `close`.
   */
  addPublisher(url: string, conn: SourceConnection): FrameSink {
    this.#assertOpen();
    const runner = this.#newRunner(maskSecrets(url), undefined);
    this.#publishers.push(runner);
    runner.once('close', () => {
      this.#publishers = this.#publishers.filter((r) => r !== runner);
      // Its tracks get no more frames: their readers end, as with MediaMTX, and may come back.
      const gone = new Set(this.#slots.get(runner) ?? []);
      for (const consumer of [...this.#consumers]) {
        if (consumer.tracks.some((t) => gone.has(t))) consumer.close(new InvalidStateError('publisher left'));
      }
    });
    return runner.adopt(conn);
  }

  /**
   * Replaces the sources. Consumers reading a removed source (or a transcoder, which read the old
   * sources) are closed so they reconnect to the new ones; consumers of publishers are untouched.
   */
  replaceSources(sources: SourceSpec[]): Promise<void> {
    return this.#queue.run(() => {
      this.#assertOpen();
      const old = [...this.#transcoders.values(), ...this.#runners];
      this.#transcoders.clear();
      this.#setSources(sources);
      const oldTracks = new Set(old.flatMap((r) => this.#slots.get(r) ?? []));
      for (const consumer of [...this.#consumers]) {
        if (consumer.tracks.some((t) => oldTracks.has(t)))
          consumer.close(new InvalidStateError('stream sources replaced'));
      }
      for (const runner of old) runner.close();
    });
  }

  /** Idempotent: closes consumers, then sources and publishers; emits `close` once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.close();
    for (const consumer of [...this.#consumers]) consumer.close();
    this.#consumers.clear();
    // Transcoders first: they read the sources.
    for (const runner of [...this.#allRunners()].reverse()) runner.close();
    this.#transcoders.clear();
    this.#runners = [];
    this.#publishers = [];
    this.emit('close');
    this.removeAllListeners();
  }

  info(): StreamInfo {
    const runners = this.#allRunners();
    const tracks = runners.flatMap((r) => this.#slots.get(r) ?? []);
    return {
      name: this.name,
      producers: runners.map((r) => (this.#isTranscoder(r) ? { ...r.info(), transcoder: true } : r.info())),
      consumers: [...this.#consumers].map((c) => {
        const via = [...this.#transcoders.values()]
          .filter((r) => c.tracks.some((t) => this.#slots.get(r)?.includes(t)))
          .map((r) => r.url);
        return via.length > 0 ? { ...c.info(), transcoders: via } : c.info();
      }),
      tracks: tracks.map((t) => ({
        id: t.id,
        kind: t.kind,
        codec: t.codec.name,
        readers: t.readerCount,
        frames: t.counters.frames,
        bytes: t.counters.bytes,
      })),
    };
  }

  /** Negotiation order: publishers, configured sources, transcoders. */
  #allRunners(): SourceRunner[] {
    return [...this.#publishers, ...this.#runners, ...this.#transcoders.values()];
  }

  #setSources(sources: SourceSpec[]): void {
    this.#sources = sources;
    this.#runners = sources.map((s) => this.#newRunner(maskSecrets(s.url), s.driver));
  }

  #newRunner(displayUrl: string, driver: SourceDriver | undefined): SourceRunner {
    const runner = new SourceRunner(displayUrl, driver, this.#alloc, this.runnerOptions);
    this.#slots.set(runner, []);
    return runner;
  }

  /** The stable track for a source's media slot; a codec change gives a new track. */
  #trackFor(runner: SourceRunner, index: number, codec: Codec): StreamTrack {
    const slots = this.#slots.get(runner) ?? [];
    this.#slots.set(runner, slots);
    const existing = slots[index];
    if (existing && existing.codec.name === codec.name) {
      existing.codec = codec;
      return existing;
    }
    if (existing) {
      // The source now sends another codec: its readers must renegotiate.
      for (const consumer of [...this.#consumers]) {
        if (consumer.tracks.includes(existing))
          consumer.close(new InvalidStateError(`source codec changed to ${codec.name}`));
      }
    }
    const track = new StreamTrack(this.#nextTrackId++, codec);
    track.onReadersChanged = () => runner.readersChanged();
    track.onKeyframeRequest = () => runner.requestKeyframe();
    slots[index] = track;
    return track;
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError(`stream ${this.name} is closed`);
  }
}

/** Position of the first codec of `request` that `track` matches; -1 for none, 0 for `any`. */
function rankOf(request: MediaRequest, track: StreamTrack): number {
  if (track.kind !== request.kind) return -1;
  if (request.codecs === 'any') return 0;
  return request.codecs.findIndex((want) => codecMatches(want, track.codec));
}

/** Each request whose match is not its first choice, cut to the codecs it ranks above the match. */
function upgradesOf(requests: readonly MediaRequest[], chosen: readonly (StreamTrack | undefined)[]) {
  const out: MediaRequest[] = [];
  requests.forEach((request, i) => {
    const track = chosen[i];
    const rank = track ? rankOf(request, track) : -1;
    if (rank > 0 && request.codecs !== 'any')
      out.push({ kind: request.kind, codecs: request.codecs.slice(0, rank) });
  });
  return out;
}
