/**
 * Consumer: the base of everything that takes a stream out of the gateway (an RTSP reader, a WebRTC
 * viewer, an MSE socket, a recorder). It owns the per-consumer bounded queue: when the consumer's
 * backlog is over its limit, frames are dropped and counted instead of delaying the source or the
 * other consumers, and video resumes at the next keyframe so the decoder never sees a broken GOP.
 */
import { SafeEmitter } from './emitter.ts';
import { errorMessage } from './errors.ts';
import type { Codec, Frame, MediaKind } from './media.ts';
import type { StreamTrack, TrackReader } from './track.ts';

/** What a consumer accepts for one kind: a list of codecs in order of preference, or any codec. */
export interface MediaRequest {
  kind: MediaKind;
  codecs: Codec[] | 'any';
}

export interface ConsumerCounters {
  frames: number;
  bytes: number;
  drops: number;
  errors: number;
}

export interface ConsumerInfo {
  id: number;
  type: string;
  remoteAddress?: string;
  userAgent?: string;
  tracks: string[];
  counters: ConsumerCounters;
  queueBytes: number;
  /** Bits per second over the last diag sampling interval (0 until sampled). */
  bitrate: number;
  startedAt: string;
}

export type ConsumerEvents = { close: [error: Error | undefined] };

/** Default backlog above which a consumer drops: about 2 s of a 16 Mbps stream. */
export const DEFAULT_MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

let nextConsumerId = 1;

export abstract class Consumer extends SafeEmitter<ConsumerEvents> implements TrackReader {
  readonly id = nextConsumerId++;
  readonly counters: ConsumerCounters = { frames: 0, bytes: 0, drops: 0, errors: 0 };
  readonly startedAt = new Date();
  /** Tracks attached by negotiation, in the order of the consumer's requests. */
  readonly tracks: StreamTrack[] = [];
  remoteAddress: string | undefined;
  userAgent: string | undefined;
  maxBacklogBytes = DEFAULT_MAX_BACKLOG_BYTES;
  /** Bits per second over the last sampling interval; written by the diag sampler, never per frame. */
  bitrate = 0;

  #closed = false;
  #playing = false;
  #waitKeyframe = new Set<StreamTrack>();

  /** Protocol name shown in the API: `rtsp`, `webrtc`, `mse`, ... */
  abstract readonly type: string;

  /** What the consumer accepts, in order; negotiation attaches at most one track per request. */
  abstract requests(): MediaRequest[];

  /** Writes one frame. Called only while playing and under the backlog limit. May throw. */
  protected abstract writeFrame(track: StreamTrack, frame: Frame): void;

  /** Frees the consumer's own resources (sockets, muxers). Called once, by close(). */
  protected abstract onClose(): void;

  /** Bytes accepted but not yet sent (e.g. `socket.writableLength`); the queue the limit applies to. */
  protected backlogBytes(): number {
    return 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get playing(): boolean {
    return this.#playing;
  }

  /** Called by the stream during negotiation. */
  attachTrack(track: StreamTrack): void {
    if (!this.tracks.includes(track)) this.tracks.push(track);
  }

  /** Starts the flow of frames, beginning with each video track's cached GOP. */
  play(): void {
    if (this.#closed || this.#playing) return;
    this.#playing = true;
    for (const track of this.tracks) track.addReader(this);
  }

  deliver(track: StreamTrack, frame: Frame): void {
    if (this.#closed) return;
    if (this.backlogBytes() > this.maxBacklogBytes) {
      this.counters.drops++;
      if (track.kind === 'video') this.#waitKeyframe.add(track);
      return;
    }
    if (this.#waitKeyframe.size > 0 && this.#waitKeyframe.has(track)) {
      if (!frame.keyframe) {
        this.counters.drops++;
        return;
      }
      this.#waitKeyframe.delete(track);
    }
    try {
      this.writeFrame(track, frame);
      this.counters.frames++;
      this.counters.bytes += frame.data.length;
    } catch (err) {
      // A failing consumer is removed without touching the source or the others.
      this.counters.errors++;
      this.close(err instanceof Error ? err : new Error(errorMessage(err)));
    }
  }

  /** Idempotent. Detaches from every track, frees resources, emits `close` exactly once. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const track of this.tracks) track.removeReader(this);
    let failure = error;
    try {
      this.onClose();
    } catch (err) {
      failure ??= err instanceof Error ? err : new Error(errorMessage(err));
    }
    this.emit('close', failure);
    this.removeAllListeners();
  }

  info(): ConsumerInfo {
    return {
      id: this.id,
      type: this.type,
      remoteAddress: this.remoteAddress,
      userAgent: this.userAgent,
      tracks: this.tracks.map((t) => `${t.kind}:${t.codec.name}`),
      counters: { ...this.counters },
      queueBytes: this.backlogBytes(),
      bitrate: this.bitrate,
      startedAt: this.startedAt.toISOString(),
    };
  }
}
