/**
 * The libopus 1.4 WebAssembly build of the `opusscript` package, driven directly.
 *
 * `opusscript`'s own JavaScript wrapper is not used: it views its scratch buffers through
 * `HEAPU16.subarray(pointer, ...)`, which indexes in 16-bit units, so every encode and decode
 * writes at twice the address it allocated (into other objects' memory), and it keeps those views
 * across WebAssembly memory growth, after which they are detached. Here each handle allocates one
 * scratch block, computes byte addresses itself and takes fresh heap views on every call.
 *
 * The build's embind class `OpusScriptHandler` owns one libopus encoder and one decoder. Its
 * calling convention (from its C++ source): `_encode(input, bytes, output, frameSize)` reads
 * `bytes` 16-bit words at `input` each holding one byte of little-endian S16 PCM (and reads up to
 * twice as many words); `_decode(input, bytes, output)` writes two 16-bit words per sample, low
 * byte then high byte, for up to 5760 samples per channel. Both return libopus' result: a sample
 * or byte count, or a negative error code.
 *
 * The module (about 16 MiB of WebAssembly memory, growing on demand and never shrinking) loads on
 * the first handle. Memory stays flat across any number of create/free cycles: a handle frees
 * exactly once, through embind's `delete()` (which refuses a second call instead of freeing twice).
 */
import { createRequire } from 'node:module';
import { UnsupportedError } from '../core/errors.ts';
import type { OpusApplication } from './types.ts';

interface NativeHandler {
  _encode(input: number, bytes: number, output: number, frameSize: number): number;
  _decode(input: number, bytes: number, output: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
  _decoder_ctl(ctl: number, arg: number): number;
  delete(): void;
  isDeleted(): boolean;
}

interface NativeModule {
  HEAPU8: Uint8Array;
  HEAPU16: Uint16Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  OpusScriptHandler: new (sampleRate: number, channels: number, application: number) => NativeHandler;
}

/** The Opus sample rate used for every handle, Hz (RFC 7587 4.1: Opus RTP always counts 48 kHz). */
export const OPUS_SAMPLE_RATE = 48000;
/** Largest frame encoded, samples per channel: 60 ms (libopus 1.4's build loops on 80+ ms frames). */
export const OPUS_MAX_ENCODE_FRAME = 2880;
/** Largest packet decoded, samples per channel: 120 ms (RFC 6716 3.2.5). */
export const OPUS_MAX_DECODE_SAMPLES = 5760;
/** Largest Opus packet accepted for decoding and produced by encoding, bytes. */
export const OPUS_MAX_PACKET_BYTES = 4000;
/** The handler's own output limit (3 × 1275 bytes); our output region must hold at least this. */
const HANDLER_MAX_PACKET = 3828;
/** libopus CTL requests (opus_defines.h). */
export const OPUS_SET_BITRATE = 4002;
export const OPUS_SET_COMPLEXITY = 4010;

const APPLICATION_CODES: Record<OpusApplication, number> = { voip: 2048, audio: 2049, lowdelay: 2051 };
const ERROR_NAMES: Record<number, string> = {
  [-1]: 'bad argument',
  [-2]: 'buffer too small',
  [-3]: 'internal error',
  [-4]: 'invalid packet',
  [-5]: 'unimplemented',
  [-6]: 'invalid state',
  [-7]: 'memory allocation failed',
};
const ALIGN = 16;

/** libopus error code to its name (`invalid packet`). */
export function opusErrorName(code: number): string {
  return ERROR_NAMES[code] ?? `error ${code}`;
}

let native: NativeModule | undefined;
let liveHandles = 0;

function loadNative(): NativeModule {
  if (native) return native;
  const require = createRequire(import.meta.url);
  try {
    const factory = require('opusscript/build/opusscript_native_wasm.js') as () => NativeModule;
    native = factory();
  } catch (err) {
    throw new UnsupportedError(`Opus: cannot load the libopus WebAssembly build: ${String(err)}`);
  }
  return native;
}

/** Size of the WebAssembly heap (bytes, 0 before the first handle) and handles not yet freed. */
export function opusHeapStats(): { heapBytes: number; liveHandles: number } {
  return { heapBytes: native ? native.HEAPU8.buffer.byteLength : 0, liveHandles };
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** What must be released for one handle; shared with the finalizer so either frees it once. */
interface Resources {
  handler: NativeHandler;
  scratch: number;
  released: boolean;
}

function release(resources: Resources): void {
  if (resources.released) return;
  resources.released = true;
  liveHandles--;
  try {
    resources.handler.delete();
  } finally {
    native!._free(resources.scratch);
  }
}

/** Frees the native side of a handle that was garbage-collected without `free()`. */
const finalizer = new FinalizationRegistry<Resources>(release);

/**
 * One native libopus encoder/decoder pair at 48 kHz with its scratch memory. Low level: results
 * are negative libopus error codes rather than exceptions, and nothing checks for use after
 * `free()`; `OpusEncoder` and `OpusDecoder` wrap it.
 */
export class OpusHandle {
  readonly channels: number;
  readonly #native: NativeModule;
  readonly #resources: Resources;
  /** Byte addresses of the regions inside the scratch block. */
  readonly #pcmIn: number;
  readonly #packet: number;
  readonly #pcmOut: number;

  /** @throws UnsupportedError when the module cannot load or libopus rejects the settings. */
  constructor(channels: 1 | 2, application: OpusApplication, role: 'encoder' | 'decoder') {
    this.channels = channels;
    const mod = loadNative();
    this.#native = mod;
    // Encoder: PCM in, 4 bytes per sample read (see above) + packet out. Decoder: packet in + PCM
    // out, 4 bytes per sample written.
    const pcmInBytes = role === 'encoder' ? align(OPUS_MAX_ENCODE_FRAME * channels * 8) : 0;
    const packetBytes = align(Math.max(OPUS_MAX_PACKET_BYTES, HANDLER_MAX_PACKET));
    const pcmOutBytes = role === 'decoder' ? align(OPUS_MAX_DECODE_SAMPLES * channels * 4) : 0;
    let handler: NativeHandler;
    try {
      handler = new mod.OpusScriptHandler(OPUS_SAMPLE_RATE, channels, APPLICATION_CODES[application]);
    } catch (err) {
      throw new UnsupportedError(`Opus: cannot create a ${channels}-channel ${role}: ${String(err)}`);
    }
    const scratch = mod._malloc(pcmInBytes + packetBytes + pcmOutBytes);
    if (scratch === 0) {
      handler.delete();
      throw new UnsupportedError(`Opus: out of WebAssembly memory for a ${role}`);
    }
    this.#pcmIn = scratch;
    this.#packet = scratch + pcmInBytes;
    this.#pcmOut = this.#packet + packetBytes;
    this.#resources = { handler, scratch, released: false };
    liveHandles++;
    finalizer.register(this, this.#resources, this);
  }

  /** True once the native side is released. */
  get freed(): boolean {
    return this.#resources.released;
  }

  /**
   * Encodes one frame of `frameSize` samples per channel (interleaved `pcm`, length
   * frameSize × channels, frameSize ≤ 2880). Returns the packet, or a negative libopus error.
   */
  encode(pcm: Int16Array, frameSize: number): Buffer | number {
    const words = this.#native.HEAPU16;
    const base = this.#pcmIn >> 1;
    for (let i = 0; i < pcm.length; i++) {
      const s = pcm[i];
      words[base + 2 * i] = s & 0xff;
      words[base + 2 * i + 1] = (s >> 8) & 0xff;
    }
    const bytes = this.#resources.handler._encode(this.#pcmIn, pcm.length * 2, this.#packet, frameSize);
    if (bytes < 0) return bytes;
    return Buffer.from(this.#native.HEAPU8.subarray(this.#packet, this.#packet + bytes));
  }

  /**
   * Decodes one packet (1..4000 bytes; an empty one would make libopus conceal 120 ms of loss).
   * Returns interleaved PCM, or a negative libopus error.
   */
  decode(packet: Uint8Array): Int16Array | number {
    this.#native.HEAPU8.set(packet, this.#packet);
    const samples = this.#resources.handler._decode(this.#packet, packet.length, this.#pcmOut);
    if (samples < 0) return samples;
    const count = samples * this.channels;
    const out = new Int16Array(count);
    const words = this.#native.HEAPU16;
    const base = this.#pcmOut >> 1;
    for (let i = 0; i < count; i++) out[i] = (words[base + 2 * i] & 0xff) | (words[base + 2 * i + 1] << 8);
    return out;
  }

  /** An encoder CTL (`OPUS_SET_BITRATE`, ...); returns libopus' result (0 = OK). */
  encoderCtl(request: number, value: number): number {
    return this.#resources.handler._encoder_ctl(request, value);
  }

  /** Releases the native encoder, decoder and scratch memory; later calls do nothing. */
  free(): void {
    if (this.#resources.released) return;
    finalizer.unregister(this);
    release(this.#resources);
  }
}
