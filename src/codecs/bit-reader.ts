/**
 * A bounds-checked MSB-first bit reader for codec headers (H.264/H.265 RBSP, AAC
 * AudioSpecificConfig), with Exp-Golomb codes (H.264 9.1) and emulation-prevention removal
 * (H.264 7.4.1). Every read checks the remaining bits and throws `ParseError`.
 */
import { ParseError } from '../core/errors.ts';

/** Exp-Golomb codes longer than this many leading zeros exceed 32 bits (H.264 9.1: values < 2^32 - 1). */
const MAX_EXP_GOLOMB_LEADING_ZEROS = 31;
/** Largest width a single `u(n)` read returns as an exact number. */
const MAX_READ_BITS = 32;

/** Reads bits MSB first from a byte buffer; every read is bounds-checked (throws `ParseError`). */
export class BitReader {
  /** What is being parsed, for error messages (`H264 SPS`). */
  readonly what: string;
  private readonly buf: Uint8Array;
  private pos = 0;

  /** Reads `buf` from bit 0; `buf` is not copied or modified. */
  constructor(what: string, buf: Uint8Array) {
    this.what = what;
    this.buf = buf;
  }

  /** Bits read so far. */
  get bitOffset(): number {
    return this.pos;
  }

  /** Bits left to read. */
  get bitsLeft(): number {
    return this.buf.length * 8 - this.pos;
  }

  private need(bits: number, field: string): void {
    if (bits > this.bitsLeft) {
      throw new ParseError(this.what, `${field} needs ${bits} bits, ${this.bitsLeft} left`, this.pos >> 3);
    }
  }

  /** One bit as 0 or 1. */
  bit(field = 'bit'): number {
    this.need(1, field);
    const b = (this.buf[this.pos >> 3] >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  /** One bit as a boolean. */
  flag(field = 'flag'): boolean {
    return this.bit(field) === 1;
  }

  /** An unsigned `n`-bit number, `0 <= n <= 32` (H.264 `u(n)`). */
  u(n: number, field = 'field'): number {
    if (n < 0 || n > MAX_READ_BITS)
      throw new ParseError(this.what, `${field}: cannot read ${n} bits at once`, this.pos >> 3);
    this.need(n, field);
    let v = 0;
    for (let i = 0; i < n; i++) {
      v = v * 2 + ((this.buf[this.pos >> 3] >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }

  /** Skips `n` bits. */
  skip(n: number, field = 'skipped bits'): void {
    this.need(n, field);
    this.pos += n;
  }

  /** Unsigned Exp-Golomb `ue(v)`, at most 2^32 - 2. */
  ue(field = 'ue(v)'): number {
    let zeros = 0;
    while (this.bit(field) === 0) {
      if (++zeros > MAX_EXP_GOLOMB_LEADING_ZEROS) {
        throw new ParseError(this.what, `${field}: Exp-Golomb code longer than 32 bits`, this.pos >> 3);
      }
    }
    return 2 ** zeros - 1 + this.u(zeros, field);
  }

  /** Signed Exp-Golomb `se(v)` (H.264 9.1.1: 1, -1, 2, -2, ...). */
  se(field = 'se(v)'): number {
    const k = this.ue(field);
    return k % 2 === 1 ? (k + 1) / 2 : 0 - k / 2; // 0 - 0 is +0, -(0) would be -0
  }

  /** `ue(v)` that must not exceed `max` (a range the spec gives for the field). */
  ueMax(max: number, field: string): number {
    const v = this.ue(field);
    if (v > max) throw new ParseError(this.what, `${field} ${v} out of range 0..${max}`, this.pos >> 3);
    return v;
  }
}

/**
 * Removes emulation-prevention bytes (the `03` in `00 00 03`, H.264 7.4.1 / H.265 7.4.2) and
 * returns the RBSP. Returns `nal` itself (no copy) when it contains none.
 */
export function removeEmulationPrevention(nal: Uint8Array): Uint8Array {
  let zeros = 0;
  let found = -1;
  for (let i = 0; i < nal.length; i++) {
    if (zeros >= 2 && nal[i] === 3) {
      found = i;
      break;
    }
    zeros = nal[i] === 0 ? zeros + 1 : 0;
  }
  if (found < 0) return nal;
  const out = new Uint8Array(nal.length);
  let n = 0;
  zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i];
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}
