/**
 * Cuts a stream of interleaved S16 PCM into frames of a fixed number of samples per channel (the
 * 20 ms packets an encoder takes), keeping the remainder for the next call.
 */
import { BadRequestError } from '../core/errors.ts';

export class PcmFramer {
  /** Samples per channel in each frame. */
  readonly frameSamples: number;
  readonly channels: number;
  /** Holds less than one frame between calls. */
  readonly #pending: Int16Array;
  #fill = 0;

  /**
   * @param frameSamples samples per channel per frame (e.g. 960 for 20 ms at 48 kHz), ≥ 1.
   * @param channels interleaved channel count, ≥ 1.
   */
  constructor(frameSamples: number, channels: number) {
    if (!Number.isInteger(frameSamples) || frameSamples < 1 || !Number.isInteger(channels) || channels < 1) {
      throw new BadRequestError(`PcmFramer: bad frame of ${frameSamples} samples × ${channels} channels`);
    }
    this.frameSamples = frameSamples;
    this.channels = channels;
    this.#pending = new Int16Array(frameSamples * channels);
  }

  /** Samples per channel waiting for a full frame. */
  get buffered(): number {
    return this.#fill / this.channels;
  }

  /** Appends samples (whole frames of `channels`) and returns every frame completed, as new arrays. */
  push(pcm: Int16Array): Int16Array[] {
    if (pcm.length % this.channels !== 0) {
      throw new BadRequestError(
        `PcmFramer: ${pcm.length} samples is not whole ${this.channels}-channel frames`,
      );
    }
    const size = this.#pending.length;
    const frames: Int16Array[] = [];
    let offset = 0;
    if (this.#fill > 0) {
      const take = Math.min(size - this.#fill, pcm.length);
      this.#pending.set(pcm.subarray(0, take), this.#fill);
      this.#fill += take;
      offset = take;
      if (this.#fill < size) return frames;
      frames.push(this.#pending.slice());
      this.#fill = 0;
    }
    for (; offset + size <= pcm.length; offset += size) frames.push(pcm.slice(offset, offset + size));
    this.#pending.set(pcm.subarray(offset), 0);
    this.#fill = pcm.length - offset;
    return frames;
  }

  /** Returns the partial frame padded with silence (undefined when nothing is pending). */
  flush(): Int16Array | undefined {
    if (this.#fill === 0) return undefined;
    const frame = new Int16Array(this.#pending.length);
    frame.set(this.#pending.subarray(0, this.#fill));
    this.#fill = 0;
    return frame;
  }

  /** Drops the pending samples. */
  reset(): void {
    this.#fill = 0;
  }
}
