/**
 * FLV container layer (Adobe FLV 10.1 Annex E, Enhanced RTMP): a streaming demuxer (`FlvDemuxer`),
 * a live muxer (`FlvMuxer`), and the tag-body parsers and builders RTMP reuses without the file
 * framing (`FlvTagReader`, `parseVideoTagBody`, `videoTagBody`, ...). Pure: buffers in, values out.
 */
export { type Amf0Object, Amf0Type, type Amf0Value, decodeAmf0, decodeAmf0All, encodeAmf0 } from './amf0.ts';
export { AudioPacketType, audioSequenceHeaderBody, audioTagBody, parseAudioTagBody } from './audio-tag.ts';
export { FLV_HEADER_SIZE, FLV_TAG_HEADER_SIZE, FlvDemuxer, PREVIOUS_TAG_SIZE_SIZE } from './demuxer.ts';
export {
  buildOpusHead,
  FlvMuxer,
  type FlvMuxerOptions,
  type FlvTag,
  flvFileHeader,
  serializeTag,
} from './muxer.ts';
export { FlvTagReader } from './tag-reader.ts';
export {
  type FlvAudioCodec,
  type FlvAudioTag,
  type FlvEvent,
  type FlvReaderOptions,
  type FlvStats,
  type FlvVideoCodec,
  type FlvVideoTag,
  SoundFormat,
  TagType,
  VideoCodecId,
  VideoFrameType,
} from './types.ts';
export {
  parseVideoTagBody,
  VideoPacketType,
  type VideoTagOptions,
  videoEndOfSequenceBody,
  videoSequenceHeaderBody,
  videoTagBody,
} from './video-tag.ts';
