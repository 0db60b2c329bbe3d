/**
 * One reader per content kind, all with the demuxers' shape: bytes in, a `tracks` event once and
 * then frames out. FLV and MPEG-TS are the container layer's demuxers; MJPEG, raw H.264/H.265 and
 * ADTS are read here. Pure: the wall clock that dates undated formats is passed in.
 */
import type { Codec, Media } from '../../../core/media.ts';
import { FlvDemuxer } from '../../../formats/flv/demuxer.ts';
import { AdtsEs } from '../../../formats/ts/audio-es.ts';
import { TsDemuxer } from '../../../formats/ts/demuxer.ts';
import type { DemuxEvent } from '../../../formats/ts/track-gate.ts';
import { AnnexBReader } from './annexb.ts';
import type { Detection } from './detect.ts';
import { type MultipartLimits, MultipartReader } from './multipart.ts';

/** A streaming reader of one body. Never throws on bad input: damage is dropped and counted. */
export interface MediaReader {
  push(chunk: Buffer): DemuxEvent[];
  /** Ends the input. */
  flush(): DemuxEvent[];
}

const JPEG: Codec = { name: 'JPEG', clockRate: 90000 };
const JPEG_CLOCK_PER_MS = 90;

/** The video track of JPEG pictures (MJPEG, snapshots). */
export function jpegMedia(): Media {
  return { kind: 'video', direction: 'recvonly', codecs: [{ ...JPEG }] };
}

/**
 * Dates pictures that carry no time of their own on the 90 kHz clock, from the first one, never
 * twice the same time.
 */
export class WallClock {
  #start: number | undefined;
  #last = -1;

  constructor(private readonly now: () => number) {}

  /** The time of a picture that arrives now. */
  stamp(): number {
    const ms = this.now();
    this.#start ??= ms;
    let t = Math.round((ms - this.#start) * JPEG_CLOCK_PER_MS);
    if (t <= this.#last) t = this.#last + 1;
    this.#last = t;
    return t;
  }
}

/** MJPEG: each JPEG part is a keyframe of a JPEG video track, dated on arrival. */
export class MjpegReader implements MediaReader {
  readonly parts: MultipartReader;
  readonly #clock: WallClock;
  #started = false;

  constructor(boundary: string | undefined, now: () => number, limits: MultipartLimits = {}) {
    this.parts = new MultipartReader(boundary, limits);
    this.#clock = new WallClock(now);
  }

  push(chunk: Buffer): DemuxEvent[] {
    return this.#events(this.parts.push(chunk));
  }

  flush(): DemuxEvent[] {
    return this.#events(this.parts.flush());
  }

  #events(pictures: Buffer[]): DemuxEvent[] {
    const out: DemuxEvent[] = [];
    for (const data of pictures) {
      if (!this.#started) {
        this.#started = true;
        out.push({ type: 'tracks', medias: [jpegMedia()] });
      }
      const t = this.#clock.stamp();
      out.push({ type: 'frame', track: 0, frame: { pts: t, dts: t, keyframe: true, data } });
    }
    return out;
  }
}

/** ADTS AAC: frames timed by their sample count from the first one. */
export class AdtsReader implements MediaReader {
  readonly #es = new AdtsEs();
  #started = false;

  push(chunk: Buffer): DemuxEvent[] {
    // Until a first frame came out, the input is dated 0; the rest continue from it.
    const frames = this.#es.frames(chunk, this.#started ? undefined : 0);
    const out: DemuxEvent[] = [];
    const codec = this.#es.codec;
    if (frames.length === 0 || !codec) return out;
    if (!this.#started) {
      this.#started = true;
      out.push({ type: 'tracks', medias: [{ kind: 'audio', direction: 'recvonly', codecs: [codec] }] });
    }
    for (const frame of frames) out.push({ type: 'frame', track: 0, frame });
    return out;
  }

  flush(): DemuxEvent[] {
    return [];
  }
}

/** The reader for a detected kind. JPEG snapshots are not streams: the caller polls them instead. */
export function createReader(detection: Detection, now: () => number): MediaReader {
  switch (detection.kind) {
    case 'flv':
      return new FlvDemuxer();
    case 'mpegts':
      return new TsDemuxer();
    case 'mjpeg':
      return new MjpegReader(detection.boundary, now);
    case 'h264':
    case 'h265':
      return new AnnexBReader(detection.kind === 'h264' ? 'H264' : 'H265', now);
    case 'adts':
      return new AdtsReader();
    case 'jpeg':
      // A body of JPEG pictures back to back is read like MJPEG without headers: not supported.
      return new MjpegReader(undefined, now);
  }
}
