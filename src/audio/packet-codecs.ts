/**
 * One packet decoder and encoder interface over every audio codec the transcoder handles:
 * Opus (in-process libopus), G.711 PCMA / PCMU and L16 (RFC 3551 4.5.11, big-endian).
 */
import { OPUS_CLOCK_RATE } from '../codecs/opus/toc.ts';
import { BadRequestError, UnsupportedError } from '../core/errors.ts';
import { type Codec, codecToString } from '../core/media.ts';
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from './g711.ts';
import { OpusDecoder, OpusEncoder } from './opus.ts';
import { checkPcmFormat, decodeL16, encodeL16 } from './pcm.ts';
import type { OpusApplication, PcmFormat } from './types.ts';

/** Turns packets into PCM; bad packets give an empty result (or silence) and count in `errors`. */
export interface PacketDecoder {
  /** Format of every result. */
  readonly format: PcmFormat;
  /** Packets that could not be decoded. */
  readonly errors: number;
  /** Never throws for bad data. */
  decode(data: Uint8Array): Int16Array;
  /** Idempotent. */
  free(): void;
}

/** Turns frames of exactly `frameSamples` samples per channel into packets. */
export interface PacketEncoder {
  /** Format it takes. */
  readonly format: PcmFormat;
  /** Samples per channel per packet. */
  readonly frameSamples: number;
  encode(pcm: Int16Array): Buffer;
  /** Idempotent. */
  free(): void;
}

/** Encoder settings shared by every output codec. */
export interface PacketEncoderOptions {
  /** Packet duration in milliseconds: 10, 20, 40 or 60 (default 20). */
  packetMs?: number;
  /** Opus bitrate, bits per second (default 32000 per channel). */
  bitrate?: number;
  /** Opus tuning (default `audio`). */
  application?: OpusApplication;
}

const PACKET_DURATIONS_MS = [10, 20, 40, 60];
const DEFAULT_PACKET_MS = 20;
const MS_PER_SECOND = 1000;

/** Sample-based codecs: one decode function with its sample width in bytes. */
const SAMPLE_DECODERS: Record<string, { bytes: number; decode: (data: Uint8Array) => Int16Array }> = {
  PCMA: { bytes: 1, decode: decodeAlaw },
  PCMU: { bytes: 1, decode: decodeUlaw },
  L16: { bytes: 2, decode: decodeL16 },
};
const SAMPLE_ENCODERS: Record<string, (pcm: Int16Array) => Buffer> = {
  PCMA: encodeAlaw,
  PCMU: encodeUlaw,
  L16: encodeL16,
};

function sampleFormat(codec: Codec): PcmFormat {
  const format = { sampleRate: codec.clockRate, channels: codec.channels ?? 1 };
  checkPcmFormat(format, codecToString(codec));
  return format;
}

function opusChannels(codec: Codec, fallback: 1 | 2): 1 | 2 {
  if (codec.clockRate !== OPUS_CLOCK_RATE) {
    throw new UnsupportedError(`${codecToString(codec)}: Opus always has a ${OPUS_CLOCK_RATE} Hz clock`);
  }
  const channels = codec.channels ?? fallback;
  if (channels !== 1 && channels !== 2)
    throw new UnsupportedError(`${codecToString(codec)}: only 1 or 2 channels`);
  return channels;
}

class SampleDecoder implements PacketDecoder {
  readonly format: PcmFormat;
  readonly #bytes: number;
  readonly #decode: (data: Uint8Array) => Int16Array;
  #errors = 0;

  constructor(codec: Codec) {
    this.format = sampleFormat(codec);
    const { bytes, decode } = SAMPLE_DECODERS[codec.name];
    this.#bytes = bytes * this.format.channels;
    this.#decode = decode;
  }

  get errors(): number {
    return this.#errors;
  }

  decode(data: Uint8Array): Int16Array {
    if (data.length === 0 || data.length % this.#bytes !== 0) {
      this.#errors++;
      return new Int16Array(0);
    }
    return this.#decode(data);
  }

  free(): void {}
}

class OpusPacketDecoder implements PacketDecoder {
  readonly format: PcmFormat;
  readonly #decoder: OpusDecoder;

  constructor(channels: 1 | 2) {
    this.#decoder = new OpusDecoder({ channels });
    this.format = { sampleRate: OPUS_CLOCK_RATE, channels };
  }

  get errors(): number {
    return this.#decoder.errors;
  }

  decode(data: Uint8Array): Int16Array {
    return this.#decoder.decode(data);
  }

  free(): void {
    this.#decoder.free();
  }
}

/**
 * A decoder for `codec`. For Opus, whose packets carry their own channel count, the PCM has
 * `opusChannels` channels (default: the codec's, else 2): decoding straight to the channel count
 * the consumer wants saves a remix.
 * @throws UnsupportedError for a codec other than OPUS/48000, PCMA, PCMU or L16.
 */
export function createPacketDecoder(codec: Codec, opusChannels?: 1 | 2): PacketDecoder {
  if (codec.name === 'OPUS') {
    checkOpus(codec);
    return new OpusPacketDecoder(opusChannels ?? (codec.channels === 1 ? 1 : 2));
  }
  if (Object.hasOwn(SAMPLE_DECODERS, codec.name)) return new SampleDecoder(codec);
  throw new UnsupportedError(`audio decoder: ${codecToString(codec)} is not supported`);
}

function checkOpus(codec: Codec): void {
  opusChannels(codec, 2);
}

class SampleEncoder implements PacketEncoder {
  readonly format: PcmFormat;
  readonly frameSamples: number;
  readonly encode: (pcm: Int16Array) => Buffer;

  constructor(codec: Codec, packetMs: number) {
    this.format = sampleFormat(codec);
    this.frameSamples = Math.max(1, Math.floor((this.format.sampleRate * packetMs) / MS_PER_SECOND));
    this.encode = SAMPLE_ENCODERS[codec.name];
  }

  free(): void {}
}

class OpusPacketEncoder implements PacketEncoder {
  readonly format: PcmFormat;
  readonly frameSamples: number;
  readonly #encoder: OpusEncoder;

  constructor(channels: 1 | 2, packetMs: number, options: PacketEncoderOptions) {
    this.format = { sampleRate: OPUS_CLOCK_RATE, channels };
    this.frameSamples = (OPUS_CLOCK_RATE * packetMs) / MS_PER_SECOND;
    this.#encoder = new OpusEncoder({ channels, bitrate: options.bitrate, application: options.application });
  }

  encode(pcm: Int16Array): Buffer {
    return this.#encoder.encode(pcm);
  }

  free(): void {
    this.#encoder.free();
  }
}

/**
 * An encoder for `codec`: OPUS/48000 with 1 or 2 channels (default 2), or PCMA, PCMU, L16 at the
 * codec's clock rate and channels (default 1).
 * @throws UnsupportedError for another codec, BadRequestError for a bad packet duration.
 */
export function createPacketEncoder(codec: Codec, options: PacketEncoderOptions = {}): PacketEncoder {
  const packetMs = options.packetMs ?? DEFAULT_PACKET_MS;
  if (!PACKET_DURATIONS_MS.includes(packetMs)) {
    throw new BadRequestError(
      `audio encoder: packet duration ${packetMs} ms, not ${PACKET_DURATIONS_MS.join('/')}`,
    );
  }
  if (codec.name === 'OPUS') return new OpusPacketEncoder(opusChannels(codec, 2), packetMs, options);
  if (Object.hasOwn(SAMPLE_ENCODERS, codec.name)) return new SampleEncoder(codec, packetMs);
  throw new UnsupportedError(`audio encoder: ${codecToString(codec)} is not supported`);
}
