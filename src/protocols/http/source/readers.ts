/**
 * One reader per content kind, all with the demuxers' shape: bytes in, a `tracks` event once and
 * then frames out. FLV and MPEG-TS are the container layer's demuxers; MJPEG, raw H.264/H.265 and
 * ADTS are read here. Pure: the wall clock that dates undated formats is passed in.
 */
import { ADTS_HEADER_SIZE, type AdtsHeader, parseAdtsHeader } from '../../../codecs/aac/adts.ts';
import { buildAudioSpecificConfig } from '../../../codecs/aac/config.ts';
import { aacFmtp } from '../../../codecs/aac/fmtp.ts';
import { ParseError, UnsupportedError } from '../../../core/errors.ts';
import type { Codec, Media } from '../../../core/media.ts';
import { FlvDemuxer } from '../../../formats/flv/demuxer.ts';
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
const AAC_FRAME_SAMPLES = 1024;
/** Longest ADTS frame (13-bit aac_frame_length). */
const MAX_ADTS_FRAME = 0x1fff;
/** ADTS channel_configuration 7 means 8 channels (7.1). */
const ADTS_CHANNELS = [undefined, 1, 2, 3, 4, 5, 6, 8];

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

/** ADTS AAC: frames timed by their sample count from the first one; garbage between frames is skipped. */
export class AdtsReader implements MediaReader {
  /** Frames dropped: several raw data blocks, or another rate than the first frame's. */
  dropped = 0;
  #buf: Buffer = Buffer.alloc(0);
  #codec: Codec | undefined;
  #samples = 0;

  push(chunk: Buffer): DemuxEvent[] {
    const out: DemuxEvent[] = [];
    const buf = this.#buf.length > 0 ? Buffer.concat([this.#buf, chunk]) : chunk;
    let o = 0;
    while (o + ADTS_HEADER_SIZE <= buf.length) {
      if (buf[o] !== 0xff || (buf[o + 1] & 0xf6) !== 0xf0) {
        o++;
        continue;
      }
      let header: AdtsHeader;
      try {
        header = parseAdtsHeader(buf, o);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        o++;
        continue;
      }
      if (o + header.frameLength > buf.length) break;
      const data = buf.subarray(o + header.headerSize, o + header.frameLength);
      o += header.frameLength;
      if (!this.#codec) {
        this.#codec = adtsCodec(header);
        out.push({
          type: 'tracks',
          medias: [{ kind: 'audio', direction: 'recvonly', codecs: [this.#codec] }],
        });
      }
      // Several raw data blocks per frame, or a change of rate, would need decoding to split.
      if (header.rawDataBlocks !== 1 || header.sampleRate !== this.#codec.clockRate || data.length === 0) {
        this.dropped++;
        continue;
      }
      const t = this.#samples;
      this.#samples += AAC_FRAME_SAMPLES;
      out.push({ type: 'frame', track: 0, frame: { pts: t, dts: t, keyframe: true, data } });
    }
    const rest = buf.subarray(o);
    // A partial frame is at most 8191 bytes; more unparsed bytes would be garbage.
    this.#buf = rest.length > MAX_ADTS_FRAME ? Buffer.alloc(0) : Buffer.from(rest);
    return out;
  }

  flush(): DemuxEvent[] {
    this.#buf = Buffer.alloc(0);
    return [];
  }
}

/** The codec of an ADTS stream from its first header. */
function adtsCodec(header: AdtsHeader): Codec {
  const config = buildAudioSpecificConfig({
    objectType: header.objectType,
    sampleRate: header.sampleRate,
    channelConfig: header.channelConfig,
  });
  const codec: Codec = { name: 'AAC', clockRate: header.sampleRate, fmtp: aacFmtp(config) };
  const channels = ADTS_CHANNELS[header.channelConfig];
  if (channels !== undefined) codec.channels = channels;
  return codec;
}

/**
 * The reader for a detected kind. Throws UnsupportedError for `jpeg`: a snapshot is not a stream,
 * the caller polls it instead.
 */
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
      throw new UnsupportedError('a JPEG picture is polled as a snapshot, not read as a stream');
  }
}
