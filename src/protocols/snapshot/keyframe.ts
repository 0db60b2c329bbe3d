/**
 * The latest video keyframe of a stream: the cached GOP of a live H.264/H.265 track, or, when no
 * source is running, the first keyframe of a temporary consumer that starts the stream.
 */
import { Consumer, type MediaRequest } from '../../core/consumer.ts';
import { InvalidStateError } from '../../core/errors.ts';
import type { Codec, Frame } from '../../core/media.ts';
import type { Stream } from '../../core/stream.ts';
import type { StreamTrack } from '../../core/track.ts';

/** A keyframe and the codec of its track (whose fmtp may hold the parameter sets). */
export interface Keyframe {
  codec: Codec;
  frame: Frame;
}

/** A cached GOP older than this (its source stopped) is not used, ms. */
const FRESH_MS = 5000;
const VIDEO: MediaRequest = {
  kind: 'video',
  codecs: [
    { name: 'H264', clockRate: 90000 },
    { name: 'H265', clockRate: 90000 },
  ],
};

/** The cached keyframe of the stream's first live H.264/H.265 track, if any. */
export function cachedKeyframe(stream: Stream): Keyframe | undefined {
  const now = performance.now();
  for (const runner of stream.sources) {
    if (runner.state !== 'online') continue;
    for (const track of runner.tracks) {
      if (track.codec.name !== 'H264' && track.codec.name !== 'H265') continue;
      if (now - track.counters.lastFrameAt > FRESH_MS) continue;
      const first = track.gop()[0];
      if (first?.keyframe) return { codec: track.codec, frame: first };
    }
  }
  return undefined;
}

/**
 * A consumer that takes the first video keyframe (the cached GOP's, else the next) and closes.
 * `result` settles once; it rejects when the consumer closes first.
 */
export class KeyframeConsumer extends Consumer {
  readonly type = 'snapshot';
  readonly result: Promise<Keyframe>;
  #resolve!: (k: Keyframe) => void;

  constructor() {
    super();
    this.result = new Promise<Keyframe>((resolve, reject) => {
      this.#resolve = resolve;
      this.once('close', (err) => reject(err ?? new InvalidStateError('closed before a keyframe arrived')));
    });
    this.result.catch(() => undefined);
  }

  requests(): MediaRequest[] {
    return [VIDEO];
  }

  protected writeFrame(track: StreamTrack, frame: Frame): void {
    if (!frame.keyframe) return;
    this.#resolve({ codec: track.codec, frame });
    this.close();
  }

  protected onClose(): void {}
}
