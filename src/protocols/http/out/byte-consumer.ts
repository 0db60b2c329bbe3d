/**
 * ByteStreamConsumer: the base of the consumers that turn a stream into one continuous byte or
 * message stream (MPEG-TS, FLV, ADTS and MJPEG over HTTP, RTMP players). It starts at the first
 * video keyframe (at once when it reads no video), gives the subclass frames whose times count
 * from that start, and closes a reader whose backlog stays over the limit (`StallWatch`).
 */
import { Consumer, type MediaRequest } from '../../../core/consumer.ts';
import type { Frame, Media } from '../../../core/media.ts';
import type { StreamTrack } from '../../../core/track.ts';
import { sessionClosed, sessionOpened } from '../../../diag/sessions.ts';
import { StallWatch } from './stall.ts';

export abstract class ByteStreamConsumer extends Consumer {
  readonly stall = new StallWatch();
  readonly #requests: MediaRequest[];
  #started = false;
  /** Start time in seconds of the stream clock; frames are rebased to it. */
  #baseSeconds = 0;
  readonly #offsets = new Map<StreamTrack, number>();

  constructor(requests: MediaRequest[]) {
    super();
    this.#requests = requests;
  }

  requests(): MediaRequest[] {
    return this.#requests;
  }

  /** True once the first frame went out (the first video keyframe when there is video). */
  get started(): boolean {
    return this.#started;
  }

  /** The attached tracks as medias, in the order of `tracks` (what the muxers take). */
  protected medias(): Media[] {
    return this.tracks.map((t) => ({ kind: t.kind, direction: 'sendonly', codecs: [t.codec] }));
  }

  /** Starts the frames and counts the session for /metrics until the consumer closes. */
  override play(): void {
    if (this.closed || this.playing) return;
    sessionOpened(this.type);
    this.once('close', () => sessionClosed(this.type));
    super.play();
  }

  override deliver(track: StreamTrack, frame: Frame): void {
    if (this.closed) return;
    const stalled = this.stall.check(this.backlogBytes(), this.maxBacklogBytes, this.counters.drops);
    if (stalled) {
      this.close(stalled);
      return;
    }
    super.deliver(track, frame);
  }

  protected writeFrame(track: StreamTrack, frame: Frame): void {
    if (!this.#started) {
      const hasVideo = this.tracks.some((t) => t.kind === 'video');
      if (hasVideo && (track.kind !== 'video' || !frame.keyframe)) return;
      this.#started = true;
      this.#baseSeconds = frame.dts / track.codec.clockRate;
      this.start();
      if (this.closed) return;
    }
    let offset = this.#offsets.get(track);
    if (offset === undefined) {
      offset = Math.round(this.#baseSeconds * track.codec.clockRate);
      this.#offsets.set(track, offset);
    }
    const dts = frame.dts - offset;
    if (dts < 0) return; // from before the start (audio ahead of the first keyframe)
    const rebased: Frame = {
      pts: Math.max(0, frame.pts - offset),
      dts,
      keyframe: frame.keyframe,
      data: frame.data,
    };
    this.write(this.tracks.indexOf(track), rebased);
  }

  /** Called once, before the first frame: send the header (FLV header, PAT/PMT, metadata). May throw. */
  protected abstract start(): void;

  /** Sends one frame of track `index` (into `tracks`), times counted from the start. May throw. */
  protected abstract write(index: number, frame: Frame): void;
}
