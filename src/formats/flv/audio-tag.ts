/**
 * FLV audio tag bodies (Adobe FLV 10.1 E.4.2.1) and their Enhanced RTMP v2 form: the payload of
 * FLV audio tags and of RTMP audio messages.
 *
 * Legacy:
 *   SoundFormat (4): 7 = G.711 A-law, 8 = G.711 mu-law, 10 = AAC | SoundRate (2) | SoundSize (1) | SoundType (1)
 *   AAC: AACPacketType (8): 0 = AudioSpecificConfig, 1 = raw access unit | data
 *
 * Enhanced (SoundFormat 9):
 *   SoundFormat (4) = 9 | AudioPacketType (4): 0 SequenceStart, 1 CodedFrames, 2 SequenceEnd,
 *                                               4 MultichannelConfig, 5 Multitrack, 6 ModEx
 *   FourCC (32): 'mp4a' (config = AudioSpecificConfig) | 'Opus' (config = OpusHead) | ...
 */
import { ParseError } from '../../core/errors.ts';
import { type FlvAudioCodec, type FlvAudioTag, SoundFormat } from './types.ts';

const WHAT = 'FLV audio tag';
const FORMAT_SHIFT = 4;
const PACKET_TYPE_MASK = 0x0f;
const SOUND_TYPE_STEREO = 0x01;
const FOURCC_SIZE = 4;
const MS_PER_SECOND = 1000;
/** The header byte ffmpeg and OBS write for AAC: 44 kHz, 16-bit, stereo (the decoder ignores them). */
const AAC_FLAGS = 0x0f;
/** G.711 tags: rate 5.5 kHz (ignored, 8 kHz implied), 16-bit, mono. */
const G711_FLAGS = 0x02;

const AacPacketType = { SEQUENCE_HEADER: 0, RAW: 1 } as const;
/** Enhanced RTMP AudioPacketType. */
export const AudioPacketType = { SEQUENCE_START: 0, CODED_FRAMES: 1, SEQUENCE_END: 2 } as const;

const FOURCC_CODECS: Readonly<Record<string, FlvAudioCodec>> = { mp4a: 'AAC', Opus: 'OPUS' };
const CODEC_FOURCC: Readonly<Record<string, string>> = { AAC: 'mp4a', OPUS: 'Opus' };

/** Fixed clock rates of codecs whose rate the tag does not need to carry. */
const FIXED_RATES: Readonly<Partial<Record<FlvAudioCodec, number>>> = { OPUS: 48000, PCMA: 8000, PCMU: 8000 };

function frameOf(
  codec: FlvAudioCodec,
  data: Buffer,
  timestampMs: number,
  clockRate: number,
  channels: number,
): FlvAudioTag {
  if (data.length === 0) return { type: 'skip', reason: 'empty frame' };
  const rate = FIXED_RATES[codec] ?? clockRate;
  const t = Math.round((timestampMs * rate) / MS_PER_SECOND);
  return { type: 'frame', codec, frame: { pts: t, dts: t, keyframe: true, data }, channels };
}

/**
 * Parses an audio tag body dated `timestampMs`. Frame times are in `clockRate` units for AAC
 * (pass the sample rate from the AudioSpecificConfig; default 1000 keeps milliseconds) and in the
 * codec's fixed rate for Opus (48 kHz) and G.711 (8 kHz). Throws `ParseError` when truncated.
 */
export function parseAudioTagBody(body: Buffer, timestampMs: number, clockRate = MS_PER_SECOND): FlvAudioTag {
  ParseError.need(WHAT, body, 0, 1, 'header');
  const format = body[0] >> FORMAT_SHIFT;
  switch (format) {
    case SoundFormat.PCMA:
    case SoundFormat.PCMU: {
      const channels = body[0] & SOUND_TYPE_STEREO ? 2 : 1;
      const codec = format === SoundFormat.PCMA ? 'PCMA' : 'PCMU';
      return frameOf(codec, body.subarray(1), timestampMs, clockRate, channels);
    }
    case SoundFormat.AAC: {
      ParseError.need(WHAT, body, 1, 1, 'AACPacketType');
      const data = body.subarray(2);
      if (body[1] === AacPacketType.SEQUENCE_HEADER) return { type: 'config', codec: 'AAC', record: data };
      if (body[1] === AacPacketType.RAW) return frameOf('AAC', data, timestampMs, clockRate, 0);
      return { type: 'skip', reason: `AACPacketType ${body[1]}` };
    }
    case SoundFormat.EX_HEADER: {
      const packetType = body[0] & PACKET_TYPE_MASK;
      if (packetType > AudioPacketType.SEQUENCE_END)
        return { type: 'skip', reason: `AudioPacketType ${packetType}` };
      ParseError.need(WHAT, body, 1, FOURCC_SIZE, 'FourCC');
      const fourcc = body.toString('latin1', 1, 1 + FOURCC_SIZE);
      const codec = FOURCC_CODECS[fourcc];
      if (!codec) return { type: 'skip', reason: `FourCC ${JSON.stringify(fourcc)}` };
      const data = body.subarray(1 + FOURCC_SIZE);
      if (packetType === AudioPacketType.SEQUENCE_START) return { type: 'config', codec, record: data };
      if (packetType === AudioPacketType.SEQUENCE_END) return { type: 'end', codec };
      return frameOf(codec, data, timestampMs, clockRate, 0);
    }
    default:
      return { type: 'skip', reason: `SoundFormat ${format}` };
  }
}

/** A sequence-header body: AAC with its AudioSpecificConfig (legacy) or Opus with an OpusHead (enhanced). */
export function audioSequenceHeaderBody(codec: 'AAC' | 'OPUS', record: Buffer): Buffer {
  if (codec === 'AAC') {
    return Buffer.concat([
      Buffer.from([(SoundFormat.AAC << FORMAT_SHIFT) | AAC_FLAGS, AacPacketType.SEQUENCE_HEADER]),
      record,
    ]);
  }
  return Buffer.concat([enhancedHead(codec, AudioPacketType.SEQUENCE_START), record]);
}

function enhancedHead(codec: FlvAudioCodec, packetType: number): Buffer {
  const out = Buffer.alloc(1 + FOURCC_SIZE);
  out[0] = (SoundFormat.EX_HEADER << FORMAT_SHIFT) | packetType;
  out.write(CODEC_FOURCC[codec], 1, 'latin1');
  return out;
}

/**
 * The body of one audio frame: AAC raw (legacy), Opus (enhanced CodedFrames) or G.711 (legacy,
 * `channels` 1 or 2). The data is copied as it is.
 */
export function audioTagBody(codec: FlvAudioCodec, data: Buffer, channels = 1): Buffer {
  switch (codec) {
    case 'AAC':
      return Buffer.concat([
        Buffer.from([(SoundFormat.AAC << FORMAT_SHIFT) | AAC_FLAGS, AacPacketType.RAW]),
        data,
      ]);
    case 'OPUS':
      return Buffer.concat([enhancedHead(codec, AudioPacketType.CODED_FRAMES), data]);
    default: {
      const format = codec === 'PCMA' ? SoundFormat.PCMA : SoundFormat.PCMU;
      const head = (format << FORMAT_SHIFT) | G711_FLAGS | (channels === 2 ? SOUND_TYPE_STEREO : 0);
      return Buffer.concat([Buffer.from([head]), data]);
    }
  }
}
