/**
 * Streaming S16 PCM sample-rate converter and channel mixer.
 *
 * Rate conversion is band-limited interpolation with a Kaiser-windowed sinc (`sinc.ts`): output
 * sample k sits at input time k·inRate/outRate, computed in exact integer arithmetic on the reduced
 * ratio, so the output never drifts from the input however long the stream runs. The filter cutoff
 * is 0.9 × the lower of the two Nyquist frequencies (anti-aliasing when downsampling, anti-imaging
 * when upsampling). The stage holds `reach` input samples of history and the same of lookahead, so
 * output lags input by `reach` input samples (1.3 ms at 8 kHz → 48 kHz, 1.4 ms at 48 kHz → 8 kHz)
 * until `flush()`.
 *
 * Voice gateways crash here when a history buffer sized for one format is reused after the sample
 * rate or channel count changes mid-stream. This resampler keeps no state across formats: a change
 * flushes the old stage (its tail comes out first, so output stays continuous) and builds a new one
 * sized for the new format. Every output array is allocated from the exact number of samples the
 * call will produce, computed before the first write.
 */
import { BadRequestError } from '../core/errors.ts';
import { checkPcmFormat, concatPcm, formatToString, remix, sameFormat, toS16 } from './pcm.ts';
import { KERNEL_ROLLOFF, KERNEL_ZERO_CROSSINGS, kernelAt } from './sinc.ts';
import type { PcmFormat } from './types.ts';

/** Initial history capacity per channel, samples; grows by doubling when a large chunk arrives. */
const INITIAL_CAPACITY = 4096;
/**
 * Largest precomputed filter bank, in weights (512 KiB): one row of taps per output phase. Ratios
 * with more phases than fit (e.g. 44100 → 48000 has 160) compute weights per output sample.
 */
const MAX_BANK_WEIGHTS = 65536;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** ceil(a / b) for integers a ≥ 0, b > 0 (operands stay small thanks to rebasing). */
function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/**
 * One fixed-format conversion (inRate → outRate on `channels` channels). Positions are input sample
 * indices relative to a moving origin: whenever a whole period of the reduced ratio (outStep output
 * samples = inStep input samples) has been produced, both counters drop by it, so every product
 * below stays far inside the exact-integer range of a double.
 */
class RateStage {
  readonly #channels: number;
  readonly #inStep: number;
  readonly #outStep: number;
  /** Cutoff as a fraction of the input Nyquist frequency. */
  readonly #scale: number;
  /** Taps on each side of the output position, in input samples. */
  readonly #reach: number;
  /** Taps of every output phase (row p: output at fraction p/outStep past an input), or undefined. */
  readonly #bank: Float64Array | undefined;
  readonly #weights: Float64Array;
  #history: Float32Array[];
  /** Samples per channel held in `#history`. */
  #length: number;
  /** Input index of `#history[c][0]`; starts at `-reach` (leading zeros before the first input). */
  #start: number;
  /** Input index of the next sample to arrive. */
  #inputEnd = 0;
  /** Index of the next output sample. */
  #next = 0;

  constructor(inRate: number, outRate: number, channels: number) {
    const g = gcd(inRate, outRate);
    this.#inStep = inRate / g;
    this.#outStep = outRate / g;
    this.#channels = channels;
    this.#scale = Math.min(1, outRate / inRate) * KERNEL_ROLLOFF;
    this.#reach = Math.ceil(KERNEL_ZERO_CROSSINGS / this.#scale);
    const taps = 2 * this.#reach;
    this.#weights = new Float64Array(taps);
    if (this.#outStep * taps <= MAX_BANK_WEIGHTS) {
      this.#bank = new Float64Array(this.#outStep * taps);
      for (let p = 0; p < this.#outStep; p++) {
        this.#fillWeights(this.#bank.subarray(p * taps, (p + 1) * taps), p / this.#outStep);
      }
    }
    const capacity = Math.max(INITIAL_CAPACITY, 4 * this.#reach);
    this.#history = Array.from({ length: channels }, () => new Float32Array(capacity));
    this.#length = this.#reach;
    this.#start = -this.#reach;
  }

  /** Input samples per channel this stage lags behind (history plus lookahead). */
  get reach(): number {
    return this.#reach;
  }

  /** Takes interleaved samples (whole frames) and returns every output sample now computable. */
  push(pcm: Int16Array): Int16Array {
    const frames = pcm.length / this.#channels;
    this.#reserve(frames);
    for (let c = 0; c < this.#channels; c++) {
      const h = this.#history[c];
      for (let f = 0, i = c; f < frames; f++, i += this.#channels) h[this.#length + f] = pcm[i];
    }
    this.#length += frames;
    this.#inputEnd += frames;
    // Output k needs input up to floor(k·in/out) + reach, and input ends at inputEnd - 1.
    const lastBase = this.#inputEnd - 1 - this.#reach;
    return this.#produce(lastBase < 0 ? 0 : ceilDiv((lastBase + 1) * this.#outStep, this.#inStep));
  }

  /** Returns the remaining output: every sample whose position lies before the end of the input. */
  flush(): Int16Array {
    this.#reserve(this.#reach);
    for (const h of this.#history) h.fill(0, this.#length, this.#length + this.#reach);
    this.#length += this.#reach;
    return this.#produce(ceilDiv(this.#inputEnd * this.#outStep, this.#inStep));
  }

  #reserve(frames: number): void {
    const need = this.#length + frames;
    const capacity = this.#history[0].length;
    if (need <= capacity) return;
    const size = Math.max(need, 2 * capacity);
    this.#history = this.#history.map((h) => {
      const grown = new Float32Array(size);
      grown.set(h.subarray(0, this.#length));
      return grown;
    });
  }

  /** Computes outputs `#next` .. `end - 1` into an array sized for exactly that many. */
  #produce(end: number): Int16Array {
    const count = Math.max(0, end - this.#next);
    const channels = this.#channels;
    const out = new Int16Array(count * channels);
    const taps = 2 * this.#reach;
    const weights = this.#weights;
    const scale = this.#scale;
    for (let j = 0; j < count; j++) {
      const position = (this.#next + j) * this.#inStep;
      const base = Math.floor(position / this.#outStep);
      const phase = position - base * this.#outStep;
      const offset = base - this.#reach + 1 - this.#start;
      let w = weights;
      let w0 = 0;
      if (this.#bank) {
        w = this.#bank;
        w0 = phase * taps;
      } else {
        this.#fillWeights(weights, phase / this.#outStep);
      }
      for (let c = 0; c < channels; c++) {
        const h = this.#history[c];
        let acc = 0;
        for (let t = 0; t < taps; t++) acc += h[offset + t] * w[w0 + t];
        out[j * channels + c] = toS16(acc * scale);
      }
    }
    this.#next += count;
    this.#discard();
    return out;
  }

  /**
   * Taps for an output `frac` (0 ≤ frac < 1) input samples past input `base`: the inputs are
   * base-reach+1 .. base+reach, so tap t lies (reach-1-t+frac) samples before the output.
   */
  #fillWeights(into: Float64Array, frac: number): void {
    for (let t = 0; t < into.length; t++) into[t] = kernelAt((frac + this.#reach - 1 - t) * this.#scale);
  }

  /** Drops history the next output no longer needs, then rebases the counters. */
  #discard(): void {
    const keepFrom = Math.floor((this.#next * this.#inStep) / this.#outStep) - this.#reach + 1;
    const drop = Math.min(this.#length, keepFrom - this.#start);
    if (drop > 0) {
      for (const h of this.#history) h.copyWithin(0, drop, this.#length);
      this.#length -= drop;
      this.#start += drop;
    }
    const periods = Math.floor(this.#next / this.#outStep);
    if (periods > 0) {
      this.#next -= periods * this.#outStep;
      this.#start -= periods * this.#inStep;
      this.#inputEnd -= periods * this.#inStep;
    }
  }
}

/**
 * Converts interleaved S16 PCM of any rate and channel count to one fixed output format, as a
 * stream: feed chunks of any size to `process()`, each with its format; call `flush()` at the end
 * to get the samples still held for lookahead.
 *
 * Channels are mixed before rate conversion when they decrease and after when they increase, so
 * the filter always runs on the smaller count (see `remix()` for the mapping).
 */
export class Resampler {
  /** The format every result has. */
  readonly output: Readonly<PcmFormat>;
  #input: PcmFormat | undefined;
  /** Undefined while input and output rates are equal: samples pass straight through. */
  #stage: RateStage | undefined;
  #rebuilds = 0;

  /** @param output rate (Hz) and channel count of every result. */
  constructor(output: PcmFormat) {
    checkPcmFormat(output, 'resampler output');
    this.output = Object.freeze({ sampleRate: output.sampleRate, channels: output.channels });
  }

  /** Format of the current input segment; undefined before the first chunk and after `flush()`. */
  get input(): Readonly<PcmFormat> | undefined {
    return this.#input;
  }

  /** How often the internal state was rebuilt for a new input format (the first format counts). */
  get rebuilds(): number {
    return this.#rebuilds;
  }

  /** Input samples per channel held back for lookahead (0 while passing through). */
  get latency(): number {
    return this.#stage?.reach ?? 0;
  }

  /**
   * Converts one chunk. When `format` differs from the previous chunk's, the old state is flushed
   * first (its tail leads the result) and rebuilt for the new format. The result may be the input
   * array itself when nothing needs converting; it is never written to afterwards.
   *
   * @param samples interleaved S16, a whole number of frames of `format.channels` samples.
   * @throws BadRequestError on an invalid format or a partial frame.
   */
  process(samples: Int16Array, format: PcmFormat): Int16Array {
    checkPcmFormat(format, 'resampler input');
    if (samples.length % format.channels !== 0) {
      throw new BadRequestError(
        `resampler input of ${samples.length} samples is not whole ${format.channels}-channel frames`,
      );
    }
    const parts: Int16Array[] = [];
    if (this.#input === undefined || !sameFormat(this.#input, format)) {
      if (this.#input !== undefined) parts.push(this.flush());
      this.#configure(format);
    }
    parts.push(this.#convert(samples, this.#input!));
    return concatPcm(parts);
  }

  /** Returns every held sample and forgets the input format; the next chunk starts a new segment. */
  flush(): Int16Array {
    const input = this.#input;
    if (input === undefined) return new Int16Array(0);
    const tail = this.#stage?.flush() ?? new Int16Array(0);
    this.reset();
    return remix(tail, Math.min(input.channels, this.output.channels), this.output.channels);
  }

  /** Drops held samples and the input format without producing output. */
  reset(): void {
    this.#input = undefined;
    this.#stage = undefined;
  }

  #configure(format: PcmFormat): void {
    this.#input = { sampleRate: format.sampleRate, channels: format.channels };
    const channels = Math.min(format.channels, this.output.channels);
    this.#stage =
      format.sampleRate === this.output.sampleRate
        ? undefined
        : new RateStage(format.sampleRate, this.output.sampleRate, channels);
    this.#rebuilds++;
  }

  #convert(samples: Int16Array, input: PcmFormat): Int16Array {
    const out = this.output.channels;
    const mid = Math.min(input.channels, out);
    const mixed = remix(samples, input.channels, mid);
    const converted = this.#stage ? this.#stage.push(mixed) : mixed;
    return remix(converted, mid, out);
  }

  /** `8000/1 -> 48000/2`, for messages. */
  toString(): string {
    return `${this.#input ? formatToString(this.#input) : '?'} -> ${formatToString(this.output)}`;
  }
}
