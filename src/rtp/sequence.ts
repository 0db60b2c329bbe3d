/**
 * Unwrapping of the wrapping RTP counters: 16-bit sequence numbers (RFC 3550 §A.1 "extended
 * sequence number") and 32-bit timestamps. A new value is taken as the nearest one to the
 * reference modulo the counter range, so reordering and backward jumps of less than half the
 * range come out as negative deltas instead of a full cycle forward.
 */

const SEQUENCE_RANGE = 0x1_0000;
const SEQUENCE_HALF = 0x8000;
const TIMESTAMP_RANGE = 0x1_0000_0000;
const TIMESTAMP_HALF = 0x8000_0000;

/**
 * Turns 16-bit sequence numbers into extended sequence numbers that keep counting across the
 * 65535 -> 0 wrap. The first value is returned unchanged; later ones are placed relative to the
 * highest seen so far, so a reordered packet from before a wrap gets its old cycle back. A packet
 * from before the first one and before a wrap gets a negative value. A jump of exactly 32768 counts
 * as forward.
 */
export class SequenceUnwrapper {
  #highest: number | undefined;

  /** The extended number for `sequenceNumber` (only its low 16 bits are used). */
  unwrap(sequenceNumber: number): number {
    const seq = sequenceNumber & 0xffff;
    if (this.#highest === undefined) {
      this.#highest = seq;
      return seq;
    }
    const low = this.#highest & 0xffff;
    let delta = (seq - low) & 0xffff;
    if (delta > SEQUENCE_HALF) delta -= SEQUENCE_RANGE;
    const extended = this.#highest + delta;
    if (extended > this.#highest) this.#highest = extended;
    return extended;
  }

  /** The highest extended sequence number returned so far, undefined before the first call. */
  get highest(): number | undefined {
    return this.#highest;
  }

  /** Completed wrap cycles of the highest number (the upper 16 bits of RFC 3550's extended value). */
  get cycles(): number {
    return this.#highest === undefined ? 0 : Math.floor(this.#highest / SEQUENCE_RANGE);
  }

  /** Forgets all state; the next value starts a new run. */
  reset(): void {
    this.#highest = undefined;
  }
}

/**
 * Turns 32-bit RTP timestamps into an unwrapped number of clock units. Each value is placed
 * relative to the previous one: a step back of less than 2^31 (B-frames, a reordered packet) is a
 * negative delta, anything else moves forward across the wrap. The first value is returned
 * unchanged.
 */
export class TimestampUnwrapper {
  #last: number | undefined;

  /** The unwrapped value for `timestamp` (only its low 32 bits are used). */
  unwrap(timestamp: number): number {
    const ts = timestamp >>> 0;
    if (this.#last === undefined) {
      this.#last = ts;
      return ts;
    }
    let delta = (ts - (this.#last >>> 0)) >>> 0;
    if (delta > TIMESTAMP_HALF) delta -= TIMESTAMP_RANGE;
    this.#last += delta;
    return this.#last;
  }

  /** The last unwrapped value returned, undefined before the first call. */
  get last(): number | undefined {
    return this.#last;
  }

  /** Forgets all state; the next value starts a new run. */
  reset(): void {
    this.#last = undefined;
  }
}
