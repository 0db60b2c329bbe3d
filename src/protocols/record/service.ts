/**
 * RecordService: which streams are being recorded, and keeping them recorded.
 *
 * A job is the wish to record one stream (from `record.streams` or `POST /api/record`); its
 * recorder is the consumer doing it. When a recorder ends without being asked to (the source's
 * codec changed, its sources were replaced, a write failed) the job attaches a new one after a
 * backoff of 1 s doubling to 30 s (reset by every finished segment). A job from the API whose
 * stream is deleted ends with it; a configured job waits for its stream to come (back).
 *
 * One timer for the whole module (not one per recorder or file) runs the retries and, every
 * `retentionIntervalMs`, retention. At start-up `.part` files left by a crash are repaired first.
 */
import type { RecordConfig } from '../../config/schema.ts';
import { ConflictError, errorMessage, NotFoundError } from '../../core/errors.ts';
import type { StreamRegistry } from '../../core/registry.ts';
import type { Logger } from '../../log/logger.ts';
import { Fmp4Muxer } from '../mp4/muxer.ts';
import { attachConsumer } from '../mp4/negotiate.ts';
import { Sweeper } from '../mp4/sweeper.ts';
import { nodeFs, type RecordFs } from './fs.ts';
import { streamDir } from './naming.ts';
import { Recorder } from './recorder.ts';
import { repairAll, repairPart } from './repair.ts';
import { applyRetention, type RetentionRule } from './retention.ts';

/** A job as the API shows it. */
export interface RecordJobInfo {
  stream: string;
  /** `config` (record.streams) or `api` (POST /api/record). */
  origin: 'config' | 'api';
  /** `recording`: a recorder is attached; `starting`: attaching; `waiting`: retrying after an error. */
  state: 'starting' | 'recording' | 'waiting' | 'stopped';
  /** Segment length, seconds. */
  segment: number;
  /** The segment being written (its final name), once the first keyframe came. */
  file?: string;
  /** The last finished segment. */
  lastFile?: string;
  /** Segments finished and their bytes, since the job started. */
  segments: number;
  bytes: number;
  /** Frames the recorder dropped because the disk was too slow. */
  drops: number;
  startedAt: string;
  /** Why the last recorder ended or the last attempt failed. */
  error?: string;
  /** Seconds until the next attempt (`waiting`). */
  retryIn?: number;
}

export interface RecordServiceOptions {
  config: RecordConfig;
  registry: StreamRegistry;
  log: Logger;
  fs?: RecordFs;
  /** How often the module's timer runs, ms. Default 1000. */
  tickMs?: number;
  /** How often retention runs, ms. Default 60000. */
  retentionIntervalMs?: number;
}

interface Job {
  stream: string;
  origin: 'config' | 'api';
  segmentSeconds: number;
  recorder: Recorder | undefined;
  attaching: boolean;
  stopped: boolean;
  startedAt: Date;
  segments: number;
  bytes: number;
  drops: number;
  lastFile: string | undefined;
  error: string | undefined;
  /** The error of the last failed attempt (what POST /api/record answers with). */
  failure: Error | undefined;
  retryAt: number;
  backoffMs: number;
}

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** Shutdown waits this long for the last segments to be finished, ms. */
const DRAIN_MS = 2000;

export class RecordService {
  readonly #opts: RecordServiceOptions;
  readonly #fs: RecordFs;
  readonly #log: Logger;
  readonly #jobs = new Map<string, Job>();
  /** Writers still working, including those of closed recorders finishing their last segment. */
  readonly #busy = new Set<Promise<void>>();
  readonly #sweeper: Sweeper;
  #nextRetention = 0;
  #retention: Promise<void> | undefined;
  #accepting = true;
  #closed = false;

  constructor(opts: RecordServiceOptions) {
    this.#opts = opts;
    this.#fs = opts.fs ?? nodeFs;
    this.#log = opts.log;
    this.#sweeper = new Sweeper(opts.tickMs ?? 1000, (now) => this.#tick(now));
    opts.registry.on('change', this.#onStreamChange);
  }

  /** A stream was created or changed: a job waiting for it tries at once. */
  readonly #onStreamChange = (name: string): void => {
    const job = this.#jobs.get(name);
    if (job && !job.recorder) job.retryAt = 0;
  };

  get root(): string {
    return this.#opts.config.path;
  }

  /** Repairs leftovers of a crash, starts the configured jobs and the module's timer. */
  async start(): Promise<void> {
    for (const r of await repairAll(this.root)) {
      if (r.action === 'repaired') {
        this.#log.warn(
          { file: r.segment, duration: r.duration, truncated: r.truncated },
          'recording: repaired a segment left unfinished by a crash',
        );
      } else
        this.#log.warn({ file: r.part, reason: r.reason }, `recording: ${r.action} a leftover .part file`);
    }
    for (const [stream, s] of Object.entries(this.#opts.config.streams)) {
      const job = this.#newJob(stream, 'config', s.segmentSeconds ?? this.#opts.config.segmentSeconds);
      void this.#attach(job);
    }
    this.#sweeper.ensure();
  }

  /**
   * Starts recording `stream` (POST /api/record). Resolves once the recorder is attached; rejects
   * with ConflictError when it is recorded already, NotFoundError for an unknown stream and
   * UnsupportedError when nothing in it can be recorded.
   */
  async record(stream: string, segmentSeconds?: number): Promise<RecordJobInfo> {
    if (!this.#accepting) throw new ConflictError('server is shutting down');
    if (this.#jobs.has(stream)) throw new ConflictError(`stream "${stream}" is being recorded already`);
    this.#opts.registry.require(stream);
    const job = this.#newJob(stream, 'api', segmentSeconds ?? this.#segmentSecondsOf(stream));
    await this.#attach(job);
    if (!job.recorder) {
      this.#jobs.delete(stream);
      throw job.failure ?? new Error(job.error ?? 'recording did not start');
    }
    return this.#info(job);
  }

  /** Stops recording `stream`; resolves once its last segment is finished. NotFoundError if not recorded. */
  async stop(stream: string): Promise<RecordJobInfo> {
    const job = this.#jobs.get(stream);
    if (!job) throw new NotFoundError(`stream "${stream}" is not being recorded`);
    this.#jobs.delete(stream);
    job.stopped = true;
    const recorder = job.recorder;
    recorder?.close();
    await recorder?.writer.idle();
    return this.#info(job);
  }

  list(): RecordJobInfo[] {
    return [...this.#jobs.values()].map((j) => this.#info(j));
  }

  /** No new recorders from here on (shutdown has begun). */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /**
   * Idempotent: closes the recorders still open (the streams usually closed them already) and
   * waits, at most 2 s, until their last segments are finished.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#accepting = false;
    this.#sweeper.close();
    this.#opts.registry.off('change', this.#onStreamChange);
    for (const job of this.#jobs.values()) {
      job.stopped = true;
      job.recorder?.close();
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, DRAIN_MS);
    });
    await Promise.race([Promise.all([...this.#busy, this.#retention]), deadline]);
    clearTimeout(timer);
    this.#jobs.clear();
  }

  #segmentSecondsOf(stream: string): number {
    return this.#opts.config.streams[stream]?.segmentSeconds ?? this.#opts.config.segmentSeconds;
  }

  #newJob(stream: string, origin: Job['origin'], segmentSeconds: number): Job {
    const job: Job = {
      stream,
      origin,
      segmentSeconds,
      recorder: undefined,
      attaching: false,
      stopped: false,
      startedAt: new Date(),
      segments: 0,
      bytes: 0,
      drops: 0,
      lastFile: undefined,
      error: undefined,
      failure: undefined,
      retryAt: 0,
      backoffMs: MIN_BACKOFF_MS,
    };
    this.#jobs.set(stream, job);
    this.#sweeper.ensure();
    return job;
  }

  async #attach(job: Job): Promise<void> {
    if (job.attaching || job.recorder || job.stopped || !this.#accepting) return;
    job.attaching = true;
    const recorder = new Recorder({
      stream: job.stream,
      dir: streamDir(this.root, job.stream),
      segmentSeconds: job.segmentSeconds,
      fs: this.#fs,
      onSegment: (segment) => {
        job.segments++;
        job.bytes += segment.bytes;
        job.lastFile = segment.name;
        job.backoffMs = MIN_BACKOFF_MS;
        this.#log.debug(
          { stream: job.stream, file: segment.path, duration: segment.duration },
          'segment finished',
        );
      },
      onWriteError: (error, part) => {
        this.#log.error(
          { stream: job.stream, file: part, err: error },
          `recording of "${job.stream}" failed: ${errorMessage(error)}`,
        );
        if (part) this.#track(repairPart(part).then(() => undefined));
      },
    });
    try {
      await attachConsumer(this.#opts.registry, job.stream, recorder);
      try {
        new Fmp4Muxer(recorder.tracks); // AAC without its config: say so now, not at the first frame
      } catch (err) {
        recorder.close();
        throw err;
      }
      if (job.stopped || !this.#accepting) {
        recorder.close();
        return;
      }
      job.recorder = recorder;
      job.error = undefined;
      job.failure = undefined;
      recorder.once('close', (err) => this.#ended(job, recorder, err));
      recorder.play();
      this.#log.info({ stream: job.stream, dir: streamDir(this.root, job.stream) }, 'recording started');
    } catch (err) {
      const failure = err instanceof Error ? err : new Error(errorMessage(err));
      job.failure = failure;
      if (job.error !== failure.message) {
        this.#log.warn({ stream: job.stream, err: failure.message }, 'recording could not start');
      }
      job.error = failure.message;
      if (err instanceof NotFoundError && job.origin === 'api') this.#jobs.delete(job.stream);
      this.#backoff(job);
    } finally {
      job.attaching = false;
    }
  }

  /** A recorder closed: keep its writer tracked until it is done, and retry unless stopped. */
  #ended(job: Job, recorder: Recorder, err: Error | undefined): void {
    this.#track(recorder.writer.idle());
    job.drops += recorder.counters.drops;
    if (job.recorder === recorder) job.recorder = undefined;
    if (job.stopped || this.#closed) return;
    if (err) {
      job.error = err.message;
      this.#log.warn({ stream: job.stream, err: err.message }, 'recording interrupted, retrying');
    }
    this.#backoff(job);
  }

  #backoff(job: Job): void {
    job.retryAt = performance.now() + job.backoffMs;
    job.backoffMs = Math.min(job.backoffMs * 2, MAX_BACKOFF_MS);
    this.#sweeper.ensure();
  }

  #track(work: Promise<void>): void {
    const p = work.finally(() => this.#busy.delete(p));
    this.#busy.add(p);
  }

  #tick(now: number): boolean {
    if (this.#closed) return false;
    for (const job of this.#jobs.values()) {
      if (!job.recorder && !job.attaching && now >= job.retryAt) void this.#attach(job);
    }
    const { retention } = this.#opts.config;
    if (
      now >= this.#nextRetention &&
      !this.#retention &&
      (retention.maxAgeMs || retention.maxBytes || this.#hasStreamRules())
    ) {
      this.#nextRetention = now + (this.#opts.retentionIntervalMs ?? 60_000);
      this.#retention = this.#runRetention().finally(() => {
        this.#retention = undefined;
      });
    }
    return true;
  }

  #hasStreamRules(): boolean {
    return Object.values(this.#opts.config.streams).some((s) => s.retention.maxAgeMs || s.retention.maxBytes);
  }

  async #runRetention(): Promise<void> {
    const perStream = (stream: string): RetentionRule => this.#opts.config.streams[stream]?.retention ?? {};
    const result = await applyRetention(this.root, Date.now(), this.#opts.config.retention, perStream);
    if (result.deleted.length > 0) {
      const bytes = result.deleted.reduce((n, s) => n + s.bytes, 0);
      this.#log.info({ segments: result.deleted.length, bytes }, 'retention: old segments deleted');
    }
    for (const f of result.failed) {
      this.#log.warn({ file: f.segment.path, err: f.error }, 'retention: cannot delete a segment');
    }
  }

  #info(job: Job): RecordJobInfo {
    const r = job.recorder;
    const state = job.stopped ? 'stopped' : r ? 'recording' : job.attaching ? 'starting' : 'waiting';
    return {
      stream: job.stream,
      origin: job.origin,
      state,
      segment: job.segmentSeconds,
      file: r?.currentSegment,
      lastFile: job.lastFile,
      segments: job.segments,
      bytes: job.bytes,
      drops: job.drops + (r?.counters.drops ?? 0),
      startedAt: job.startedAt.toISOString(),
      error: job.error,
      retryIn:
        state === 'waiting'
          ? Math.max(0, Math.round((job.retryAt - performance.now()) / 100) / 10)
          : undefined,
    };
  }
}
