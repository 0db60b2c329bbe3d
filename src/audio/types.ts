/**
 * Public types of the audio layer: the PCM format that flows between decoders, the resampler and
 * encoders, and the counters each stage exposes. Pure types, no code.
 *
 * PCM is always signed 16-bit, interleaved (`L R L R ...`), in an `Int16Array` (host order, i.e.
 * little-endian on every platform Node.js runs on).
 */

/** Shape of interleaved S16 PCM. */
export interface PcmFormat {
  /** Samples per second per channel, a positive integer (8000, 16000, 44100, 48000, ...). */
  sampleRate: number;
  /** Interleaved channel count, 1..8. */
  channels: number;
}

/** Opus encoder tuning (RFC 6716 2.1.1 modes): `voip` favours speech, `audio` music and ambience. */
export type OpusApplication = 'voip' | 'audio' | 'lowdelay';

/** Counters of an `AudioTranscoder`; all only ever increase. */
export interface AudioTranscoderStats {
  /** Frames passed to `push()`. */
  framesIn: number;
  /** Encoded frames returned. */
  framesOut: number;
  /** Bad input packets (empty, wrong size, undecodable) plus encoder failures; each is skipped. */
  errors: number;
  /** Forward input gaps filled with silence. */
  gapsFilled: number;
  /** Silence inserted for those gaps, in input samples per channel. */
  silenceSamples: number;
  /** Input timestamp jumps (backwards, or forwards beyond `maxGapMs`) absorbed by re-anchoring. */
  reanchors: number;
  /** Changes of the input codec or format through `push(frame, codec)`. */
  formatChanges: number;
}
