/**
 * Audio elementary streams in MPEG-TS: AAC in ADTS (stream_type 0x0F, ISO/IEC 13818-7) and Opus
 * (ETSI TS 102 366-style private data, stream_type 0x06 with an `Opus` registration). A PES holds
 * one or more audio frames; each becomes a `Frame` timed in the codec's sample clock, the first
 * from the PES PTS, the rest continuing from it.
 *
 *   opus_control_header: prefix 0x3FF (11) | start_trim_flag (1) | end_trim_flag (1)
 *     control_extension_flag (1) | reserved (2) | au_size: { 0xFF }... last byte (< 0xFF)
 *     [start_trim (16)] [end_trim (16)] [control_extension_length (8) | bytes] | Opus packet
 */

import { ADTS_HEADER_SIZE, parseAdtsHeader } from '../../codecs/aac/adts.ts';
import { buildAudioSpecificConfig } from '../../codecs/aac/config.ts';
import { aacFmtp } from '../../codecs/aac/fmtp.ts';
import { OPUS_CLOCK_RATE, opusPacketDuration } from '../../codecs/opus/toc.ts';
import { ParseError } from '../../core/errors.ts';
import type { Codec, Frame } from '../../core/media.ts';
import { AudioTimeline, rescale, TS_CLOCK_RATE } from './timestamp.ts';

/** Samples per AAC frame (one raw data block). */
const AAC_FRAME_SAMPLES = 1024;
const ADTS_SYNC_HIGH = 0xff;
const ADTS_SYNC_LOW_MASK = 0xf0;
/** ADTS channel_configuration 7 means 8 channels (7.1). */
const ADTS_CHANNELS = [undefined, 1, 2, 3, 4, 5, 6, 8];
/** Longest ADTS frame (13-bit aac_frame_length): the most that is carried into the next PES. */
const MAX_ADTS_FRAME = 0x1fff;

const OPUS_PREFIX_MASK = 0xffe0;
const OPUS_PREFIX = 0x7fe0;
const OPUS_START_TRIM = 0x10;
const OPUS_END_TRIM = 0x08;
const OPUS_CONTROL_EXTENSION = 0x04;
const OPUS_CONTROL_HEADER_SIZE = 2;
const OPUS_TRIM_SIZE = 2;
const AU_SIZE_CONTINUE = 0xff;

/** The common shape of the audio stream handlers. */
export interface AudioEs {
  codec: Codec | undefined;
  /** Frames dropped: damaged headers, unsupported variants, no time known. */
  dropped: number;
  /** Frames of one PES payload; `pts` is the unwrapped PES PTS in 90 kHz units, if it has one. */
  frames(payload: Buffer, pts: number | undefined): Frame[];
  /** Forgets carried bytes and the running time (after lost packets). */
  reset(): void;
}

/** AAC in ADTS. Frames may span PES packets; the data of a frame is a view of the PES buffer. */
export class AdtsEs implements AudioEs {
  codec: Codec | undefined;
  dropped = 0;
  private carry: Buffer | undefined;
  private readonly timeline = new AudioTimeline();

  frames(payload: Buffer, pts: number | undefined): Frame[] {
    const carried = this.carry?.length ?? 0;
    const data = this.carry ? Buffer.concat([this.carry, payload]) : payload;
    this.carry = undefined;
    const out: Frame[] = [];
    let ptsUsed = false;
    let o = 0;
    while (o + ADTS_HEADER_SIZE <= data.length) {
      if (data[o] !== ADTS_SYNC_HIGH || (data[o + 1] & ADTS_SYNC_LOW_MASK) !== ADTS_SYNC_LOW_MASK) {
        o++;
        continue;
      }
      let header: ReturnType<typeof parseAdtsHeader>;
      try {
        header = parseAdtsHeader(data, o);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        o++;
        continue;
      }
      if (o + header.frameLength > data.length) break;
      const body = data.subarray(o + header.headerSize, o + header.frameLength);
      // The PES PTS dates the first frame that starts in this PES (2.4.3.7).
      const at = !ptsUsed && o >= carried && pts !== undefined ? pts : undefined;
      if (at !== undefined) ptsUsed = true;
      o += header.frameLength;
      if (!this.codec) this.codec = adtsCodec(header);
      const rate = this.codec.clockRate;
      const t = this.timeline.stamp(
        at === undefined ? undefined : rescale(at, TS_CLOCK_RATE, rate),
        AAC_FRAME_SAMPLES * header.rawDataBlocks,
      );
      // Several raw data blocks per frame, or a change of rate, would need decoding to split.
      if (t === undefined || header.rawDataBlocks !== 1 || header.sampleRate !== rate || body.length === 0) {
        this.dropped++;
        continue;
      }
      out.push({ pts: t, dts: t, keyframe: true, data: body });
    }
    if (o < data.length && data.length - o <= MAX_ADTS_FRAME) this.carry = Buffer.from(data.subarray(o));
    return out;
  }

  reset(): void {
    this.carry = undefined;
    this.timeline.reset();
  }
}

function adtsCodec(header: ReturnType<typeof parseAdtsHeader>): Codec {
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

/** Opus with control headers; `channels` comes from the PMT's extension descriptor. */
export class OpusEs implements AudioEs {
  codec: Codec | undefined;
  dropped = 0;
  private readonly timeline = new AudioTimeline();

  constructor(channels: number) {
    this.codec = { name: 'OPUS', clockRate: OPUS_CLOCK_RATE, channels };
  }

  frames(payload: Buffer, pts: number | undefined): Frame[] {
    const out: Frame[] = [];
    let at = pts === undefined ? undefined : rescale(pts, TS_CLOCK_RATE, OPUS_CLOCK_RATE);
    let o = 0;
    try {
      while (o < payload.length) {
        ParseError.need('Opus TS', payload, o, OPUS_CONTROL_HEADER_SIZE, 'control header');
        const head = payload.readUInt16BE(o);
        if ((head & OPUS_PREFIX_MASK) !== OPUS_PREFIX)
          throw new ParseError('Opus TS', 'no control header', o);
        o += OPUS_CONTROL_HEADER_SIZE;
        let size = 0;
        for (;;) {
          ParseError.need('Opus TS', payload, o, 1, 'au_size');
          const b = payload[o++];
          size += b;
          if (b !== AU_SIZE_CONTINUE) break;
        }
        if (head & OPUS_START_TRIM) o += OPUS_TRIM_SIZE;
        if (head & OPUS_END_TRIM) o += OPUS_TRIM_SIZE;
        if (head & OPUS_CONTROL_EXTENSION) {
          ParseError.need('Opus TS', payload, o, 1, 'control_extension_length');
          o += 1 + payload[o];
        }
        ParseError.need('Opus TS', payload, o, size, 'packet');
        const packet = payload.subarray(o, o + size);
        o += size;
        const t = this.timeline.stamp(at, opusPacketDuration(packet));
        at = undefined;
        if (t === undefined) this.dropped++;
        else out.push({ pts: t, dts: t, keyframe: true, data: packet });
      }
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.dropped++; // the rest of this PES
    }
    return out;
  }

  reset(): void {
    this.timeline.reset();
  }
}
