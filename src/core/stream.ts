/**
 * Stream: a named set of ordered sources and the consumers reading them. Negotiation and source
 * replacement run through the stream's serial queue; close() is synchronous and idempotent and
 * closes the consumers before the sources they read from.
 */
import type { Consumer } from './consumer.ts';
import { SafeEmitter } from './emitter.ts';
import { errorMessage, InvalidStateError, UnsupportedError } from './errors.ts';
import { maskSecrets } from './mask.ts';
import { type Codec, mediaToString } from './media.ts';
import { findTrack, requestToString } from './negotiate.ts';
import { type RunnerOptions, type SourceInfo, SourceRunner, type TrackAllocator } from './runner.ts';
import { SerialQueue } from './serial.ts';
import type { FrameSink, SourceConnection, SourceDriver } from './source.ts';
import { StreamTrack } from './track.ts';

/** A source as configured: the URL as written (kept for the config file) and its driver. */
export interface SourceSpec {
  url: string;
  driver: SourceDriver;
}

export interface StreamInfo {
  name: string;
  producers: SourceInfo[];
  consumers: ReturnType<Consumer['info']>[];
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

  /** Publishers, then the configured sources, in the order info() lists them. A snapshot (for diag). */
  get sources(): readonly SourceRunner[] {
    return this.#allRunners();
  }

  /**
   * Negotiates the consumer's requests against the sources, in config order, connecting sources
   * only as far as needed, attaches the matching tracks and registers the consumer. The consumer
   * starts receiving when it calls `play()`. Rejects with UnsupportedError naming both sides when
   * nothing matched; the consumer is then not registered (and not closed: that is the caller's).
   */
  addConsumer(consumer: Consumer): Promise<void> {
    return this.#queue.run(async () => {
      this.#assertOpen();
      const failures: string[] = [];
      const failed = new Set<SourceRunner>();
      const offered: string[] = [];
      const requests = consumer.requests();
      for (const request of requests) {
        for (const runner of this.#allRunners()) {
          if (failed.has(runner)) continue;
          let tracks: StreamTrack[];
          try {
            tracks = await runner.ensureConnected();
          } catch (err) {
            failed.add(runner);
            failures.push(`${runner.url}: ${errorMessage(err)}`);
            continue;
          }
          if (consumer.closed || this.#closed) {
            throw new InvalidStateError(
              `${consumer.closed ? 'consumer' : `stream ${this.name}`} closed during negotiation`,
            );
          }
          const track = findTrack(request, tracks);
          if (track) {
            consumer.attachTrack(track);
            break;
          }
        }
      }
      this.#assertOpen();
      if (consumer.closed) throw new InvalidStateError('consumer closed during negotiation');
      if (consumer.tracks.length === 0) {
        if (failures.length > 0 && failures.length === this.#allRunners().length) {
          throw new UnsupportedError(`stream ${this.name}: no source available (${failures.join('; ')})`);
        }
        for (const runner of this.#allRunners()) {
          for (const m of runner.medias) offered.push(mediaToString(m.kind, m.codecs));
        }
        throw new UnsupportedError(
          `codecs not matched: ${offered.join(', ') || 'none'} => ${requests.map(requestToString).join(', ')}`,
        );
      }
      this.#consumers.add(consumer);
      consumer.once('close', () => this.#consumers.delete(consumer));
    });
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
        if (consumer.tracks.some((t) => gone.has(t))) consumer.close(new Error('publisher left'));
      }
    });
    return runner.adopt(conn);
  }

  /**
   * Replaces the sources. Consumers reading a removed source are closed so they reconnect to the
   * new ones; consumers of publishers are untouched.
   */
  replaceSources(sources: SourceSpec[]): Promise<void> {
    return this.#queue.run(() => {
      this.#assertOpen();
      const old = this.#runners;
      this.#setSources(sources);
      const oldTracks = new Set(old.flatMap((r) => this.#slots.get(r) ?? []));
      for (const consumer of [...this.#consumers]) {
        if (consumer.tracks.some((t) => oldTracks.has(t)))
          consumer.close(new Error('stream sources replaced'));
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
    for (const runner of this.#allRunners()) runner.close();
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
      producers: runners.map((r) => r.info()),
      consumers: [...this.#consumers].map((c) => c.info()),
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

  #allRunners(): SourceRunner[] {
    return [...this.#publishers, ...this.#runners];
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
          consumer.close(new Error(`source codec changed to ${codec.name}`));
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
