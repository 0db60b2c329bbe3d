/**
 * The pure audio layer: G.711 companding, PCM resampling and channel mixing, in-process Opus
 * (libopus WebAssembly) and a streaming transcoder between OPUS, PCMA, PCMU and L16. Buffers in,
 * values out: no sockets, timers or logging.
 */
export { PcmFramer } from './framer.ts';
export {
  alawFromSample,
  decodeAlaw,
  decodeUlaw,
  encodeAlaw,
  encodeUlaw,
  sampleFromAlaw,
  sampleFromUlaw,
  ulawFromSample,
} from './g711.ts';
export {
  OPUS_FRAME_SIZES,
  OPUS_MAX_BITRATE,
  OPUS_MIN_BITRATE,
  OpusDecoder,
  type OpusDecoderOptions,
  OpusEncoder,
  type OpusEncoderOptions,
} from './opus.ts';
export { OPUS_SAMPLE_RATE, type OpusHeapStats, opusHeapStats } from './opus-wasm.ts';
export {
  createPacketDecoder,
  createPacketEncoder,
  type PacketDecoder,
  type PacketEncoder,
  type PacketEncoderOptions,
} from './packet-codecs.ts';
export { concatPcm, decodeL16, encodeL16, remix } from './pcm.ts';
export { Resampler } from './resampler.ts';
export { AudioTranscoder, type AudioTranscoderOptions } from './transcoder.ts';
export type { AudioTranscoderStats, OpusApplication, PcmFormat } from './types.ts';
