/**
 * Streaming audio transcoder: packets of one codec in, 20 ms packets of another out. Pure: no
 * timers, no I/O; call `push()` with each input frame and send what it returns.
 *
 * Pipeline: decode (Opus, PCMA, PCMU, L16) → `Resampler` (rate and channels) → `PcmFramer`
 * (fixed packets) → encode. The use cases are doorbell talk-back (browser OPUS/48000/2 → camera
 * PCMA/8000) and G.711 cameras to WebRTC viewers (PCMU/8000 → OPUS/48000/2).
 *
 * Timestamps come from sample counts, never from a clock: output packet n has
 * `pts = origin + n × frameSamples` in the output clock, where `origin` is the first input frame's
 * pts converted to the output clock. Output timestamps are therefore always continuous. The input
 * timeline is tracked only to decide what a jump means:
 *
 * - Within ±2.5 ms of the expected pts (the previous frame's expected pts plus its decoded
 *   duration): jitter, ignored; the nominal timeline is kept, so jitter never accumulates.
 * - Forward by more than that, up to `maxGapMs` (lost packets, a talk-back pause, a skipped bad
 *   packet): the gap is filled with silence, so later output lines up with the input again.
 * - Backwards, or forward beyond `maxGapMs` (a source restart, a timestamp reset): re-anchored, i.e.
 *   the input continues where the output is, without silence; counted in `stats.reanchors`.
 * - A change of input codec or format (`push(frame, codec)`): the decoder is replaced, the
 *   resampler flushes its old state and rebuilds, and the input re-anchors. Output continues.
 *
 * Bad input packets are counted in `stats.errors` and skipped; if they leave a gap in the input
 * timestamps, that gap is filled as above.
 */
import { BadRequestError, InvalidStateError } from '../core/errors.ts';
import type { Codec, Frame } from '../core/media.ts';
import { PcmFramer } from './framer.ts';
import {
  createPacketDecoder,
  createPacketEncoder,
  type PacketDecoder,
  type PacketEncoder,
  type PacketEncoderOptions,
} from './packet-codecs.ts';
import { Resampler } from './resampler.ts';
import type { AudioTranscoderStats } from './types.ts';

/** Options of `AudioTranscoder`, including the encoder's (packet duration, Opus bitrate). */
export interface AudioTranscoderOptions extends PacketEncoderOptions {
  /** Longest forward input gap filled with silence, ms (default 1000); longer ones re-anchor. */
  maxGapMs?: number;
}

const DEFAULT_MAX_GAP_MS = 1000;
/** Timestamp deviation treated as jitter, ms: the shortest Opus frame. */
const JITTER_MS = 2.5;
const MS_PER_SECOND = 1000;

/** Channel count with the SDP default: 2 for Opus (RFC 7587 7), 1 otherwise. */
function channelsOf(codec: Codec): number {
  return codec.channels ?? (codec.name === 'OPUS' ? 2 : 1);
}

function sameCodec(a: Codec, b: Codec): boolean {
  return a.name === b.name && a.clockRate === b.clockRate && channelsOf(a) === channelsOf(b);
}

export class AudioTranscoder {
  /** The codec of every output frame. */
  readonly output: Codec;
  #input: Codec;
  #decoder: PacketDecoder;
  readonly #encoder: PacketEncoder;
  readonly #resampler: Resampler;
  readonly #framer: PcmFramer;
  readonly #maxGapMs: number;
  readonly #stats: AudioTranscoderStats = {
    framesIn: 0,
    framesOut: 0,
    errors: 0,
    gapsFilled: 0,
    silenceSamples: 0,
    reanchors: 0,
    formatChanges: 0,
  };
  /** Errors counted by decoders already replaced. */
  #retiredErrors = 0;
  /** Output pts of the first output sample; set by the first decodable frame. */
  #origin: number | undefined;
  /** Output samples per channel already packetized. */
  #emitted = 0;
  /** Input pts at which the next frame is expected; undefined right after a format change. */
  #expected: number | undefined;
  #closed = false;

  /**
   * @param input codec of the frames pushed: OPUS/48000, PCMA, PCMU or L16 at any rate.
   * @param output codec produced: OPUS/48000 with 1 or 2 channels, PCMA / PCMU (8000 or 16000 Hz),
   *   or L16.
   * @throws UnsupportedError for other codecs, BadRequestError for bad options.
   */
  constructor(input: Codec, output: Codec, options: AudioTranscoderOptions = {}) {
    this.#maxGapMs = options.maxGapMs ?? DEFAULT_MAX_GAP_MS;
    if (!(this.#maxGapMs >= 0 && Number.isFinite(this.#maxGapMs))) {
      throw new BadRequestError(`AudioTranscoder: maxGapMs ${options.maxGapMs} is not a number ≥ 0`);
    }
    this.#encoder = createPacketEncoder(output, options);
    try {
      this.#decoder = createPacketDecoder(input, this.#opusChannels());
    } catch (err) {
      this.#encoder.free();
      throw err;
    }
    this.output = output;
    this.#input = input;
    this.#resampler = new Resampler(this.#encoder.format);
    this.#framer = new PcmFramer(this.#encoder.frameSamples, this.#encoder.format.channels);
  }

  /** The codec of the frames currently pushed. */
  get input(): Codec {
    return this.#input;
  }

  /** Samples per channel in each output frame (960 for 20 ms Opus, 160 for 20 ms PCMA/8000). */
  get frameSamples(): number {
    return this.#encoder.frameSamples;
  }

  /** A snapshot of the counters. */
  get stats(): AudioTranscoderStats {
    return { ...this.#stats, errors: this.#stats.errors + this.#retiredErrors + this.#decoder.errors };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Transcodes one input frame; returns the output frames completed by it (often none or one).
   * @param input the frame's codec when it differs from the previous one (a mid-stream change).
   * @throws InvalidStateError after `close()`; UnsupportedError when `input` is not supported
   *   (the transcoder then keeps its previous input codec).
   */
  push(frame: Frame, input?: Codec): Frame[] {
    if (this.#closed) throw new InvalidStateError('AudioTranscoder.push() after close()');
    if (input && !sameCodec(input, this.#input)) this.#switchInput(input);
    this.#stats.framesIn++;
    if (!Number.isFinite(frame.pts)) {
      this.#stats.errors++;
      return [];
    }
    const pcm = this.#decoder.decode(frame.data);
    if (pcm.length === 0) return [];
    const format = this.#decoder.format;
    const parts: Int16Array[] = [];
    const gap = this.#align(frame.pts, pcm.length / format.channels, format.sampleRate);
    if (gap > 0) {
      parts.push(this.#resampler.process(new Int16Array(gap * format.channels), format));
      this.#stats.gapsFilled++;
      this.#stats.silenceSamples += gap;
    }
    parts.push(this.#resampler.process(pcm, format));
    return this.#packetize(parts, false);
  }

  /**
   * Emits everything held back: the resampler's lookahead and the last partial packet, padded
   * with silence. Pushing may continue afterwards.
   * @throws InvalidStateError after `close()`.
   */
  flush(): Frame[] {
    if (this.#closed) throw new InvalidStateError('AudioTranscoder.flush() after close()');
    return this.#packetize([this.#resampler.flush()], true);
  }

  /** Releases the codecs. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#decoder.free(); // its error count stays readable for `stats`
    this.#encoder.free();
    this.#resampler.reset();
    this.#framer.reset();
  }

  /** Opus input decodes straight to the output's channel count (libopus mixes for free). */
  #opusChannels(): 1 | 2 {
    return this.#encoder.format.channels === 1 ? 1 : 2;
  }

  #switchInput(codec: Codec): void {
    const decoder = createPacketDecoder(codec, this.#opusChannels());
    this.#retiredErrors += this.#decoder.errors;
    this.#decoder.free();
    this.#decoder = decoder;
    this.#input = codec;
    this.#expected = undefined;
    this.#stats.formatChanges++;
  }

  /**
   * Places a frame of `duration` samples at input `pts` on the timeline; returns the samples of
   * silence to insert before it (0 for none). The first frame anchors the output. Jitter keeps
   * the nominal timeline (so it cannot accumulate); a gap or a jump moves it to the frame.
   */
  #align(pts: number, duration: number, rate: number): number {
    const expected = this.#expected;
    this.#expected = pts + duration;
    if (this.#origin === undefined) {
      this.#origin = Math.round((pts * this.#encoder.format.sampleRate) / rate);
      return 0;
    }
    if (expected === undefined) return 0;
    const delta = pts - expected;
    if (Math.abs(delta) <= (rate * JITTER_MS) / MS_PER_SECOND) {
      this.#expected = expected + duration;
      return 0;
    }
    if (delta > 0 && delta <= (rate * this.#maxGapMs) / MS_PER_SECOND) return Math.round(delta);
    this.#stats.reanchors++;
    return 0;
  }

  #packetize(parts: Int16Array[], final: boolean): Frame[] {
    const frames: Frame[] = [];
    const pcmFrames: Int16Array[] = [];
    for (const part of parts) pcmFrames.push(...this.#framer.push(part));
    if (final) {
      const last = this.#framer.flush();
      if (last) pcmFrames.push(last);
    }
    for (const pcm of pcmFrames) {
      const pts = this.#origin! + this.#emitted;
      this.#emitted += this.#encoder.frameSamples;
      let data: Buffer;
      try {
        data = this.#encoder.encode(pcm);
      } catch {
        // The packet is lost but the timeline is not: the next one keeps its sample-count pts.
        this.#stats.errors++;
        continue;
      }
      frames.push({ pts, dts: pts, keyframe: true, data });
      this.#stats.framesOut++;
    }
    return frames;
  }
}
