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
 *
 * Decoding more than 60 ms in one call corrupts the build's heap and sooner or later traps the
 * module (found by fuzzing 120 ms packets), so `OpusDecoder` never does; should an instance abort anyway,
 * its handles move to a fresh instance on their next call (see `OpusHandle`).
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
/** Largest frame encoded, samples per channel: 60 ms (this build never returns from 80+ ms frames). */
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

/** One instance of the module; `aborted` once a call trapped, after which it is never called again. */
interface ModuleInstance {
  mod: NativeModule;
  aborted: boolean;
}

let current: ModuleInstance | undefined;
let liveHandles = 0;
let moduleAborts = 0;
/** The module's last line on stderr (emscripten prints `Aborted(...)` there when it traps). */
let lastMessage = '';

/** The module instance new handles use: loaded on first use, replaced after an abort. */
function instance(): ModuleInstance {
  if (current && !current.aborted) return current;
  const require = createRequire(import.meta.url);
  try {
    const factory = require('opusscript/build/opusscript_native_wasm.js') as (overrides: {
      print(line: string): void;
      printErr(line: string): void;
    }) => NativeModule;
    // Kept for `opusHeapStats()` instead of printed: this layer does no logging.
    const keep = (line: string) => {
      lastMessage = line;
    };
    current = { mod: factory({ print: keep, printErr: keep }), aborted: false };
  } catch (err) {
    throw new UnsupportedError(`Opus: cannot load the libopus WebAssembly build: ${String(err)}`);
  }
  return current;
}

/** State of the libopus WebAssembly module, for diagnostics and leak tests. */
export interface OpusHeapStats {
  /** WebAssembly memory of the current instance, bytes (0 before the first handle). */
  heapBytes: number;
  /** Encoders and decoders not yet freed. */
  liveHandles: number;
  /** Instances that trapped and were replaced. */
  moduleAborts: number;
  /** The module's last diagnostic line (`Aborted()` after a trap), or ''. */
  lastMessage: string;
}

export function opusHeapStats(): OpusHeapStats {
  const heapBytes = current ? current.mod.HEAPU8.buffer.byteLength : 0;
  return { heapBytes, liveHandles, moduleAborts, lastMessage };
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** The native side of a handle: one embind handler and one scratch block in one module instance. */
interface Native {
  instance: ModuleInstance;
  handler: NativeHandler;
  scratch: number;
  /** Byte addresses of the regions inside the scratch block. */
  pcmIn: number;
  packet: number;
  pcmOut: number;
}

/** What a handle must release; shared with the finalizer so that exactly one of them does. */
interface Resources {
  native: Native;
  released: boolean;
}

/** Marks an instance as aborted (once); it is never called again and its memory goes with it. */
function markAborted(inst: ModuleInstance): void {
  if (inst.aborted) return;
  inst.aborted = true;
  moduleAborts++;
}

function releaseNative(native: Native): void {
  if (native.instance.aborted) return;
  try {
    native.handler.delete();
    native.instance.mod._free(native.scratch);
  } catch {
    // A corrupted heap traps in free(): the instance is done for.
    markAborted(native.instance);
  }
}

function release(resources: Resources): void {
  if (resources.released) return;
  resources.released = true;
  liveHandles--;
  releaseNative(resources.native);
}

/** Frees the native side of a handle that was garbage-collected without `free()`. */
const finalizer = new FinalizationRegistry<Resources>(release);

/** libopus' internal error, returned when the module traps. */
const OPUS_INTERNAL_ERROR = -3;
/** libopus' bad-argument error, returned for sizes the scratch regions cannot hold. */
const OPUS_BAD_ARG = -1;

/**
 * One native libopus encoder/decoder pair at 48 kHz with its scratch memory. Low level: results
 * are negative libopus error codes rather than exceptions, and nothing checks for use after
 * `free()`; `OpusEncoder` and `OpusDecoder` wrap it.
 *
 * If a call traps (the module aborts), the call returns an internal error, the instance is marked
 * aborted, and the next call rebuilds this handle in a fresh instance, replaying its encoder
 * settings: the stream glitches (codec state is lost) but the process keeps working.
 */
export class OpusHandle {
  readonly channels: 1 | 2;
  readonly #application: OpusApplication;
  readonly #role: 'encoder' | 'decoder';
  readonly #resources: Resources;
  /** Encoder CTLs applied so far, replayed after a rebuild. */
  readonly #settings = new Map<number, number>();

  /** @throws UnsupportedError when the module cannot load or libopus rejects the settings. */
  constructor(channels: 1 | 2, application: OpusApplication, role: 'encoder' | 'decoder') {
    this.channels = channels;
    this.#application = application;
    this.#role = role;
    this.#resources = { native: this.#create(), released: false };
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
    if (pcm.length > OPUS_MAX_ENCODE_FRAME * this.channels) return OPUS_BAD_ARG;
    return this.#call((n) => {
      const words = n.instance.mod.HEAPU16;
      const base = n.pcmIn >> 1;
      for (let i = 0; i < pcm.length; i++) {
        const s = pcm[i];
        words[base + 2 * i] = s & 0xff;
        words[base + 2 * i + 1] = (s >> 8) & 0xff;
      }
      const bytes = n.handler._encode(n.pcmIn, pcm.length * 2, n.packet, frameSize);
      if (bytes < 0) return bytes;
      return Buffer.from(n.instance.mod.HEAPU8.subarray(n.packet, n.packet + bytes));
    });
  }

  /**
   * Decodes one packet of at most 60 ms (see `opus-frames.ts`) and 1..4000 bytes; an empty one
   * would make libopus conceal 120 ms of loss. Returns interleaved PCM, or a negative libopus error.
   */
  decode(packet: Uint8Array): Int16Array | number {
    if (packet.length === 0 || packet.length > OPUS_MAX_PACKET_BYTES) return OPUS_BAD_ARG;
    return this.#call((n) => {
      n.instance.mod.HEAPU8.set(packet, n.packet);
      const samples = n.handler._decode(n.packet, packet.length, n.pcmOut);
      if (samples < 0) return samples;
      const count = samples * this.channels;
      const out = new Int16Array(count);
      const words = n.instance.mod.HEAPU16;
      const base = n.pcmOut >> 1;
      for (let i = 0; i < count; i++) out[i] = (words[base + 2 * i] & 0xff) | (words[base + 2 * i + 1] << 8);
      return out;
    });
  }

  /** An encoder CTL (`OPUS_SET_BITRATE`, ...); returns libopus' result (0 = OK). */
  encoderCtl(request: number, value: number): number {
    const result = this.#call((n) => n.handler._encoder_ctl(request, value));
    if (result === 0) this.#settings.set(request, value);
    return result;
  }

  /** Releases the native encoder, decoder and scratch memory; later calls do nothing. */
  free(): void {
    if (this.#resources.released) return;
    finalizer.unregister(this);
    release(this.#resources);
  }

  /** Builds the native side; a trap (corrupted heap) moves to a fresh instance, once. */
  #create(): Native {
    try {
      return this.#createIn(instance());
    } catch (err) {
      if (!(err instanceof WebAssembly.RuntimeError)) throw err;
      markAborted(current!);
    }
    try {
      return this.#createIn(instance());
    } catch (err) {
      throw new UnsupportedError(
        `Opus: cannot create a ${this.channels}-channel ${this.#role}: ${String(err)}`,
      );
    }
  }

  #createIn(inst: ModuleInstance): Native {
    const { mod } = inst;
    const channels = this.channels;
    // Encoder: PCM in, 4 bytes per sample read (see above) + packet out. Decoder: packet in + PCM
    // out, 4 bytes per sample written.
    const pcmInBytes = this.#role === 'encoder' ? align(OPUS_MAX_ENCODE_FRAME * channels * 8) : 0;
    const packetBytes = align(Math.max(OPUS_MAX_PACKET_BYTES, HANDLER_MAX_PACKET));
    const pcmOutBytes = this.#role === 'decoder' ? align(OPUS_MAX_DECODE_SAMPLES * channels * 4) : 0;
    let handler: NativeHandler;
    try {
      handler = new mod.OpusScriptHandler(OPUS_SAMPLE_RATE, channels, APPLICATION_CODES[this.#application]);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) throw err;
      throw new UnsupportedError(`Opus: cannot create a ${channels}-channel ${this.#role}: ${String(err)}`);
    }
    const scratch = mod._malloc(pcmInBytes + packetBytes + pcmOutBytes);
    if (scratch === 0) {
      handler.delete();
      throw new UnsupportedError(`Opus: out of WebAssembly memory for a ${this.#role}`);
    }
    const packet = scratch + pcmInBytes;
    return { instance: inst, handler, scratch, pcmIn: scratch, packet, pcmOut: packet + packetBytes };
  }

  /** Runs a native call, rebuilding first if the instance aborted and marking it if it traps. */
  #call<T>(run: (native: Native) => T): T | number {
    const resources = this.#resources;
    if (resources.native.instance.aborted) {
      try {
        resources.native = this.#create();
        for (const [request, value] of this.#settings) resources.native.handler._encoder_ctl(request, value);
      } catch {
        return OPUS_INTERNAL_ERROR;
      }
    }
    const native = resources.native;
    try {
      return run(native);
    } catch {
      markAborted(native.instance);
      return OPUS_INTERNAL_ERROR;
    }
  }
}
