/**
 * Public types and constants of the FLV layer (Adobe FLV 10.1 spec, Annex E; Enhanced RTMP v1/v2
 * for H.265 and Opus): tag types, codec ids, what the tag parsers return and what the demuxer
 * counts.
 */
import type { Frame } from '../../core/media.ts';
import type { TrackGateLimits } from '../ts/track-gate.ts';

export type { DemuxEvent as FlvEvent } from '../ts/track-gate.ts';

/** TagType (5 bits): also the RTMP message type ids of audio, video and AMF0 data messages. */
export const TagType = {
  AUDIO: 8,
  VIDEO: 9,
  SCRIPT: 18,
} as const;

/** Legacy video CodecID (4 bits). */
export const VideoCodecId = {
  AVC: 7,
} as const;

/** Legacy audio SoundFormat (4 bits). */
export const SoundFormat = {
  PCMA: 7,
  PCMU: 8,
  /** Enhanced RTMP v2: AudioPacketType and a FourCC follow. */
  EX_HEADER: 9,
  AAC: 10,
} as const;

/** FrameType of a video tag (3 bits in enhanced tags, 4 in legacy ones). */
export const VideoFrameType = {
  KEY: 1,
  INTER: 2,
  DISPOSABLE_INTER: 3,
  GENERATED_KEY: 4,
  COMMAND: 5,
} as const;

/** The codecs the FLV tag parsers produce. */
export type FlvVideoCodec = 'H264' | 'H265';
export type FlvAudioCodec = 'AAC' | 'OPUS' | 'PCMA' | 'PCMU';

/** A parsed video tag body. Buffers are views of the body unless said otherwise. */
export type FlvVideoTag =
  /** A sequence header: an avcC (H.264) or hvcC (H.265) record. */
  | { type: 'config'; codec: FlvVideoCodec; record: Buffer }
  /** A coded frame; `frame.data` is AVCC with 4-byte lengths (a new buffer when it was converted). */
  | { type: 'frame'; codec: FlvVideoCodec; frame: Frame }
  /** End of sequence. */
  | { type: 'end'; codec: FlvVideoCodec }
  /** A codec or packet type mediagate does not handle, or a command frame. */
  | { type: 'skip'; reason: string };

/** A parsed audio tag body. Buffers are views of the body. */
export type FlvAudioTag =
  /** A sequence header: the AudioSpecificConfig (AAC) or OpusHead (Opus). */
  | { type: 'config'; codec: FlvAudioCodec; record: Buffer }
  /**
   * A coded frame; times in the clock rate given to the parser. `channels` is the SoundType bit's
   * count (1 or 2) for G.711, and 0 for AAC and Opus, whose configuration carries it.
   */
  | { type: 'frame'; codec: FlvAudioCodec; frame: Frame; channels: number }
  | { type: 'end'; codec: FlvAudioCodec }
  | { type: 'skip'; reason: string };

/** Options of `FlvTagReader` and `FlvDemuxer`. */
export interface FlvReaderOptions extends TrackGateLimits {
  /** A tag whose DataSize exceeds this is treated as damage, in bytes; default 16 MiB. */
  maxTagSize?: number;
}

/** Counters of an `FlvTagReader` / `FlvDemuxer`; they only grow. */
export interface FlvStats {
  /** Tags read. */
  tags: number;
  /** Tags that did not parse or were skipped (unsupported codec, encrypted, malformed). */
  invalidTags: number;
  /** Frames dropped: before their sequence header, undated, or of a track not in the tracks event. */
  framesDropped: number;
  /** Bytes skipped while looking for a tag after damage (bad signature, size or PreviousTagSize). */
  garbageBytes: number;
  /** PreviousTagSize fields that did not match the tag before them. */
  previousTagSizeErrors: number;
}
