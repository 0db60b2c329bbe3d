/**
 * StreamTrack: one elementary stream of a Stream (one codec), stable across source reconnects.
 * It fans frames out to its readers and keeps the current GOP so that a new reader starts at once.
 */
import { type Codec, type Frame, isVideo, kindOf, type MediaKind } from './media.ts';

/** Anything that takes frames from a track: consumers, muxers, transcoders. */
export interface TrackReader {
  /** Called synchronously for every frame; must not throw (the Consumer base class guarantees it). */
  deliver(track: StreamTrack, frame: Frame): void;
}

/** Limits of the cached GOP: a stream without keyframes must not grow memory. */
const GOP_MAX_FRAMES = 600;
const GOP_MAX_BYTES = 16 * 1024 * 1024;

export interface TrackCounters {
  frames: number;
  bytes: number;
  keyframes: number;
  /** `performance.now()` of the last frame, 0 if none yet. */
  lastFrameAt: number;
}

export class StreamTrack {
  readonly kind: MediaKind;
  /** Updated in place when a reconnected source brings new parameters for the same codec. */
  codec: Codec;
  readonly counters: TrackCounters = { frames: 0, bytes: 0, keyframes: 0, lastFrameAt: 0 };
  /** Told when the reader count changes (the source runner starts and stops on it). */
  onReadersChanged: ((count: number) => void) | undefined;
  /** Set by the stream: forwards a keyframe request to the source feeding this track. */
  onKeyframeRequest: (() => void) | undefined;

  // A snapshot array is rebuilt on every change so that fan-out iterates without allocating and a
  // reader added or removed during fan-out does not disturb the loop in progress.
  #readers: TrackReader[] = [];
  #gop: Frame[] = [];
  #gopBytes = 0;
  #lastFrame: Frame | undefined;
  // Timestamp rebasing: frames of each new source connection continue the track's timeline.
  #offset = 0;
  #rebaseTo: number | undefined;

  constructor(
    readonly id: number,
    codec: Codec,
  ) {
    this.codec = codec;
    this.kind = kindOf(codec);
  }

  get readerCount(): number {
    return this.#readers.length;
  }

  get lastFrame(): Frame | undefined {
    return this.#lastFrame;
  }

  /** Frames from the latest keyframe on (video only; audio keeps none). A copy of the list. */
  gop(): Frame[] {
    return [...this.#gop];
  }

  /**
   * Called when a new source connection starts feeding this track: its first frame will be mapped
   * to `streamTime` (in this track's clock units) so that readers see continuous timestamps.
   */
  rebase(streamTime: number): void {
    this.#rebaseTo = streamTime;
    // The old GOP came from another connection: its timestamps and parameters may not continue.
    this.#gop = [];
    this.#gopBytes = 0;
  }

  /** A consumer needs a keyframe (a WebRTC viewer's PLI, a reader that dropped). */
  requestKeyframe(): void {
    this.onKeyframeRequest?.();
  }

  /** Fans a frame out to every reader. The frame object is shared: readers must not mutate it. */
  write(frame: Frame): void {
    if (this.#rebaseTo !== undefined) {
      this.#offset = this.#rebaseTo - frame.dts;
      this.#rebaseTo = undefined;
    }
    if (this.#offset !== 0) {
      frame = {
        pts: frame.pts + this.#offset,
        dts: frame.dts + this.#offset,
        keyframe: frame.keyframe,
        data: frame.data,
      };
    }
    const c = this.counters;
    c.frames++;
    c.bytes += frame.data.length;
    c.lastFrameAt = performance.now();
    if (frame.keyframe) c.keyframes++;
    this.#lastFrame = frame;
    this.#cache(frame);
    const readers = this.#readers;
    for (let i = 0; i < readers.length; i++) readers[i].deliver(this, frame);
  }

  /**
   * Adds a reader. With `replayGop` it first receives the cached GOP, so a video decoder can start
   * at once instead of waiting for the next keyframe.
   */
  addReader(reader: TrackReader, replayGop = true): void {
    if (this.#readers.includes(reader)) return;
    if (replayGop) for (const frame of this.#gop) reader.deliver(this, frame);
    this.#readers = [...this.#readers, reader];
    this.onReadersChanged?.(this.#readers.length);
  }

  removeReader(reader: TrackReader): void {
    if (!this.#readers.includes(reader)) return;
    this.#readers = this.#readers.filter((r) => r !== reader);
    this.onReadersChanged?.(this.#readers.length);
  }

  #cache(frame: Frame): void {
    if (!isVideo(this.codec)) return;
    if (frame.keyframe) {
      this.#gop = [frame];
      this.#gopBytes = frame.data.length;
      return;
    }
    if (this.#gop.length === 0) return; // no keyframe yet: nothing decodable to cache
    if (this.#gop.length >= GOP_MAX_FRAMES || this.#gopBytes + frame.data.length > GOP_MAX_BYTES) {
      this.#gop = [];
      this.#gopBytes = 0;
      return;
    }
    this.#gop.push(frame);
    this.#gopBytes += frame.data.length;
  }
}
