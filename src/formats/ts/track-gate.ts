/**
 * The start of a demuxed stream: frames are held back until every track the container announced
 * has its codec parameters (or a wait limit passes), then one `tracks` event fixes the track
 * indexes and the held frames follow. Shared by the MPEG-TS and FLV demuxers and RTMP ingest.
 */
import type { Codec, Frame, Media } from '../../core/media.ts';
import { kindOf } from '../../core/media.ts';

/** What a demuxer emits: the track list once, then frames that index into it. */
export type DemuxEvent = { type: 'tracks'; medias: Media[] } | { type: 'frame'; track: number; frame: Frame };

/** A track a container announced, in container order; `codec` stays undefined until it is known. */
export interface TrackCandidate {
  /** Container-specific key: a PID, an FLV tag type. */
  key: number;
  codec: Codec | undefined;
}

/** Limits of the wait for late tracks. */
export interface TrackGateLimits {
  /** Held media time after which the ready tracks go without the others, in seconds; default 2. */
  maxWaitSeconds?: number;
  /** Held frames after which the ready tracks go without the others; default 1000. */
  maxFrames?: number;
  /** Held bytes after which the ready tracks go without the others; default 32 MiB. */
  maxBytes?: number;
}

const DEFAULT_MAX_WAIT_SECONDS = 2;
const DEFAULT_MAX_FRAMES = 1000;
const DEFAULT_MAX_BYTES = 32 << 20;

/**
 * Holds frames until the track list is known. After `open`, frames of a key that is not in the
 * list are dropped and counted in `dropped`.
 */
export class TrackGate {
  /** Frames of tracks that were not ready when the track list was fixed. */
  dropped = 0;
  private medias: Media[] | undefined;
  private readonly index = new Map<number, number>();
  private pending: { key: number; frame: Frame }[] = [];
  private pendingBytes = 0;
  /** Per key: first and last held dts in seconds. */
  private readonly span = new Map<number, [number, number]>();
  private readonly maxWaitSeconds: number;
  private readonly maxFrames: number;
  private readonly maxBytes: number;

  constructor(limits: TrackGateLimits = {}) {
    this.maxWaitSeconds = limits.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS;
    this.maxFrames = limits.maxFrames ?? DEFAULT_MAX_FRAMES;
    this.maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** True once the `tracks` event went out. */
  get open(): boolean {
    return this.medias !== undefined;
  }

  /** The track list, once open. */
  get tracks(): readonly Media[] | undefined {
    return this.medias;
  }

  /** The track index of `key`, once open and when the key is in the list. */
  trackOf(key: number): number | undefined {
    return this.index.get(key);
  }

  /**
   * Offers a frame of `key`, whose codec must be known. `candidates` are all tracks the container
   * announced so far. Appends the events that become due to `out`.
   */
  push(key: number, frame: Frame, candidates: readonly TrackCandidate[], out: DemuxEvent[]): void {
    if (this.medias) {
      this.deliver(key, frame, out);
      return;
    }
    this.pending.push({ key, frame });
    this.pendingBytes += frame.data.length;
    const clock = candidates.find((c) => c.key === key)?.codec?.clockRate ?? 1;
    const t = frame.dts / clock;
    const s = this.span.get(key);
    if (s) s[1] = t;
    else this.span.set(key, [t, t]);
    if (candidates.every((c) => c.codec !== undefined) || this.overLimit()) this.openWith(candidates, out);
  }

  /** Opens with the tracks that are ready now (end of input); no-op when open or nothing is ready. */
  flush(candidates: readonly TrackCandidate[], out: DemuxEvent[]): void {
    if (!this.medias && (this.pending.length > 0 || candidates.some((c) => c.codec))) {
      this.openWith(candidates, out);
    }
  }

  private overLimit(): boolean {
    if (this.pending.length >= this.maxFrames || this.pendingBytes >= this.maxBytes) return true;
    for (const [first, last] of this.span.values()) if (last - first >= this.maxWaitSeconds) return true;
    return false;
  }

  private openWith(candidates: readonly TrackCandidate[], out: DemuxEvent[]): void {
    const medias: Media[] = [];
    for (const c of candidates) {
      if (!c.codec) continue;
      this.index.set(c.key, medias.length);
      medias.push({ kind: kindOf(c.codec), direction: 'recvonly', codecs: [c.codec] });
    }
    this.medias = medias;
    out.push({ type: 'tracks', medias });
    const held = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.span.clear();
    for (const p of held) this.deliver(p.key, p.frame, out);
  }

  private deliver(key: number, frame: Frame, out: DemuxEvent[]): void {
    const track = this.index.get(key);
    if (track === undefined) this.dropped++;
    else out.push({ type: 'frame', track, frame });
  }
}
