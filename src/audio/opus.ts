/**
 * In-process Opus (RFC 6716) encoder and decoder at 48 kHz over the libopus WebAssembly build.
 *
 * Both own native memory and must be released with `free()`, which is idempotent: the "codec
 * object freed twice" crash of voice gateways (a second `opus_decoder_destroy` on a stale pointer)
 * cannot happen, and any other call after `free()` throws `InvalidStateError` instead of touching
 * freed memory. An object garbage-collected without `free()` is released by a finalizer.
 */
import { opusPacketDuration } from '../codecs/opus/toc.ts';
import { BadRequestError, InvalidStateError } from '../core/errors.ts';
import { singleFramePacket, splitOpusFrames } from './opus-frames.ts';
import {
  OPUS_MAX_ENCODE_FRAME,
  OPUS_SAMPLE_RATE,
  OPUS_SET_BITRATE,
  OPUS_SET_COMPLEXITY,
  OpusHandle,
  opusErrorName,
} from './opus-wasm.ts';
import { concatPcm } from './pcm.ts';
import type { OpusApplication } from './types.ts';

/** Frame sizes libopus encodes, samples per channel at 48 kHz: 2.5, 5, 10, 20, 40, 60 ms. */
export const OPUS_FRAME_SIZES: readonly number[] = [120, 240, 480, 960, 1920, OPUS_MAX_ENCODE_FRAME];
/** Bitrate limits of libopus, bits per second. */
export const OPUS_MIN_BITRATE = 6000;
export const OPUS_MAX_BITRATE = 510000;
/** Default bitrate per channel, bits per second: transparent for speech, fine for ambience. */
const DEFAULT_BITRATE_PER_CHANNEL = 32000;

function checkChannels(channels: number, what: string): 1 | 2 {
  if (channels !== 1 && channels !== 2)
    throw new BadRequestError(`${what}: ${channels} channels, not 1 or 2`);
  return channels;
}

/** Options of `OpusDecoder`. */
export interface OpusDecoderOptions {
  /** Channels of the decoded PCM, 1 or 2 (default 2); libopus down- or up-mixes packets to it. */
  channels?: 1 | 2;
}

/**
 * Decodes Opus packets to interleaved S16 PCM at 48 kHz. Never throws for bad input: a packet
 * whose TOC is unreadable (empty, bad frame count, over 120 ms) gives an empty result, a packet
 * libopus rejects (or one of up to 60 ms over 4000 bytes) gives silence of the duration its TOC
 * announces; both count in `errors`.
 */
export class OpusDecoder {
  /** Output sample rate, Hz. */
  readonly sampleRate = OPUS_SAMPLE_RATE;
  /** Output channel count. */
  readonly channels: 1 | 2;
  readonly #handle: OpusHandle;
  #errors = 0;

  constructor(options: OpusDecoderOptions = {}) {
    this.channels = checkChannels(options.channels ?? 2, 'OpusDecoder');
    this.#handle = new OpusHandle(this.channels, 'audio', 'decoder');
  }

  /** Packets that could not be decoded. */
  get errors(): number {
    return this.#errors;
  }

  /** True after `free()`. */
  get freed(): boolean {
    return this.#handle.freed;
  }

  /**
   * Decodes one packet to `duration × channels` interleaved samples (duration from the TOC, 120 to
   * 5760). See the class comment for bad packets. Packets over 60 ms are decoded frame by frame.
   * @throws InvalidStateError after `free()` (the only exception).
   */
  decode(packet: Uint8Array): Int16Array {
    if (this.#handle.freed) throw new InvalidStateError('OpusDecoder.decode() after free()');
    let duration: number;
    try {
      duration = opusPacketDuration(packet);
    } catch {
      this.#errors++;
      return new Int16Array(0);
    }
    if (duration <= OPUS_MAX_ENCODE_FRAME) {
      const result = this.#handle.decode(packet);
      return typeof result === 'number' ? this.#silence(duration) : result;
    }
    // Over 60 ms: one frame at a time (see opus-frames.ts); same samples as decoding it whole.
    let frames: Uint8Array[];
    try {
      frames = splitOpusFrames(packet);
    } catch {
      return this.#silence(duration);
    }
    const parts: Int16Array[] = [];
    for (const frame of frames) {
      const result = this.#handle.decode(singleFramePacket(packet[0], frame));
      if (typeof result === 'number') return this.#silence(duration);
      parts.push(result);
    }
    return concatPcm(parts);
  }

  /** Releases the native decoder. Safe to call any number of times. */
  free(): void {
    this.#handle.free();
  }

  #silence(duration: number): Int16Array {
    this.#errors++;
    return new Int16Array(duration * this.channels);
  }
}

/** Options of `OpusEncoder`. */
export interface OpusEncoderOptions {
  /** Input channels, 1 or 2 (default 2). */
  channels?: 1 | 2;
  /** Target bitrate in bits per second, 6000..510000 (default 32000 per channel). */
  bitrate?: number;
  /** Encoder tuning (default `audio`). */
  application?: OpusApplication;
  /** CPU/quality trade-off 0..10 (default 10, libopus' default). */
  complexity?: number;
}

/** Encodes interleaved S16 PCM at 48 kHz, one frame of 2.5 to 60 ms per call, to Opus packets. */
export class OpusEncoder {
  /** Input sample rate, Hz. */
  readonly sampleRate = OPUS_SAMPLE_RATE;
  /** Input channel count. */
  readonly channels: 1 | 2;
  readonly #handle: OpusHandle;
  #bitrate: number;

  /** @throws BadRequestError on invalid options. */
  constructor(options: OpusEncoderOptions = {}) {
    this.channels = checkChannels(options.channels ?? 2, 'OpusEncoder');
    const bitrate = options.bitrate ?? DEFAULT_BITRATE_PER_CHANNEL * this.channels;
    checkBitrate(bitrate);
    const complexity = options.complexity ?? 10;
    if (!Number.isInteger(complexity) || complexity < 0 || complexity > 10) {
      throw new BadRequestError(`OpusEncoder: complexity ${complexity} is not an integer in 0..10`);
    }
    this.#handle = new OpusHandle(this.channels, options.application ?? 'audio', 'encoder');
    this.#bitrate = bitrate;
    try {
      this.#ctl(OPUS_SET_BITRATE, bitrate, 'bitrate');
      this.#ctl(OPUS_SET_COMPLEXITY, complexity, 'complexity');
    } catch (err) {
      this.#handle.free();
      throw err;
    }
  }

  /** Target bitrate, bits per second. */
  get bitrate(): number {
    return this.#bitrate;
  }

  /** True after `free()`. */
  get freed(): boolean {
    return this.#handle.freed;
  }

  /**
   * Changes the target bitrate (bits per second, 6000..510000) from the next frame on.
   * @throws BadRequestError when out of range, InvalidStateError after `free()`.
   */
  setBitrate(bitrate: number): void {
    this.#checkLive('setBitrate');
    checkBitrate(bitrate);
    this.#ctl(OPUS_SET_BITRATE, bitrate, 'bitrate');
    this.#bitrate = bitrate;
  }

  /**
   * Encodes one frame: `pcm` holds frameSize × channels interleaved samples, frameSize one of
   * `OPUS_FRAME_SIZES` (960 = 20 ms). Returns a new Buffer with the packet.
   * @throws BadRequestError on another length or a libopus failure, InvalidStateError after `free()`.
   */
  encode(pcm: Int16Array): Buffer {
    this.#checkLive('encode');
    const frameSize = pcm.length / this.channels;
    if (!OPUS_FRAME_SIZES.includes(frameSize)) {
      throw new BadRequestError(
        `OpusEncoder: ${pcm.length} samples is not one ${this.channels}-channel frame of ${OPUS_FRAME_SIZES.join('/')} samples`,
      );
    }
    const result = this.#handle.encode(pcm, frameSize);
    if (typeof result === 'number') {
      throw new BadRequestError(`OpusEncoder: libopus failed with ${opusErrorName(result)}`);
    }
    return result;
  }

  /** Releases the native encoder. Safe to call any number of times. */
  free(): void {
    this.#handle.free();
  }

  #checkLive(call: string): void {
    if (this.#handle.freed) throw new InvalidStateError(`OpusEncoder.${call}() after free()`);
  }

  #ctl(request: number, value: number, what: string): void {
    const code = this.#handle.encoderCtl(request, value);
    if (code < 0) throw new BadRequestError(`OpusEncoder: setting ${what} ${value}: ${opusErrorName(code)}`);
  }
}

function checkBitrate(bitrate: number): void {
  if (!Number.isInteger(bitrate) || bitrate < OPUS_MIN_BITRATE || bitrate > OPUS_MAX_BITRATE) {
    throw new BadRequestError(
      `OpusEncoder: bitrate ${bitrate} is not an integer in ${OPUS_MIN_BITRATE}..${OPUS_MAX_BITRATE} bit/s`,
    );
  }
}
