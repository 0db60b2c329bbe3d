/**
 * Container timestamps turned into `Frame` times: unwrapping of fixed-width counters (MPEG-TS's
 * 33-bit 90 kHz PTS/DTS, FLV's 32-bit milliseconds) and continuous per-frame audio times.
 */

/** Width of MPEG-TS PTS, DTS and PCR base fields in bits (ISO/IEC 13818-1 2.4.3.7). */
export const PTS_BITS = 33;
/** The MPEG-TS system clock for PTS / DTS, in Hz. */
export const TS_CLOCK_RATE = 90000;

/**
 * Unwraps a counter of `bits` bits: each value is placed on the number line as close as possible
 * to the previous result, so a wrap (or a small step back, as B-frames make) never jumps by a
 * whole period. One instance serves every stream of a container, so that streams stay aligned
 * when they wrap at slightly different moments.
 */
export class TimestampUnwrapper {
  private readonly period: number;
  private last: number | undefined;

  /** @param bits width of the counter (33 for MPEG-TS, 32 for FLV milliseconds) */
  constructor(bits: number) {
    this.period = 2 ** bits;
  }

  /** `value` (0 ≤ value < 2^bits) on the unwrapped line. */
  unwrap(value: number): number {
    if (this.last === undefined) {
      this.last = value;
      return value;
    }
    const out = value + Math.round((this.last - value) / this.period) * this.period;
    this.last = out;
    return out;
  }
}

/** Snap tolerance of `AudioTimeline` as a share of a frame's duration. */
const SNAP_SHARE = 1 / 8;

/**
 * Per-frame audio times in the sample clock. Containers date audio coarsely (FLV in whole ms, TS
 * per PES of several frames); a container time within 1/8 of a frame of where the previous frame
 * ended is snapped to it, so the timeline stays gap-free and strictly increasing.
 */
export class AudioTimeline {
  private next: number | undefined;

  /**
   * The time of a frame the container dates `at` (undefined when it carries no time, e.g. the
   * second frame of a PES), lasting `duration` samples. Undefined when neither is known yet.
   */
  stamp(at: number | undefined, duration: number): number | undefined {
    let t: number;
    if (at === undefined) {
      if (this.next === undefined) return undefined;
      t = this.next;
    } else if (this.next !== undefined && Math.abs(at - this.next) <= duration * SNAP_SHARE) {
      t = this.next;
    } else {
      t = at;
    }
    this.next = t + duration;
    return t;
  }

  /** Forgets the running time (after a discontinuity). */
  reset(): void {
    this.next = undefined;
  }
}

/** `value` in `from` Hz converted to `to` Hz, rounded to a whole tick. */
export function rescale(value: number, from: number, to: number): number {
  return from === to ? value : Math.round((value * to) / from);
}
