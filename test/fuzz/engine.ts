/**
 * The seeded mutation engine of the fuzz suite: a xorshift128 PRNG and byte-level mutations in the
 * style of AFL's havoc stage (bit flips, interesting values, length fields that lie, truncation,
 * extension, insertion, deletion, splicing two corpus items), plus a few text tokens for the
 * line-based protocols. Everything is a pure function of the seed: the same seed gives the same
 * inputs on every machine, so a crash found anywhere replays with `--seed`.
 */

/** xorshift128 (Marsaglia 2003): fast, 2^128 - 1 period, and the same sequence everywhere. */
export class Rng {
  #x: number;
  #y: number;
  #z: number;
  #w: number;

  /** @param seed any 32-bit integer; 0 is replaced by a fixed non-zero state. */
  constructor(readonly seed: number) {
    // splitmix32 spreads a small seed over the four state words.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#x = next() || 1;
    this.#y = next();
    this.#z = next();
    this.#w = next();
  }

  /** The next unsigned 32-bit value. */
  u32(): number {
    const t = this.#x ^ (this.#x << 11);
    this.#x = this.#y;
    this.#y = this.#z;
    this.#z = this.#w;
    this.#w = (this.#w ^ (this.#w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.#w;
  }

  /** An integer in [0, n); 0 when n <= 0. */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 2 ** 32) * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A new generator whose sequence depends on this one's next value (for per-case streams). */
  fork(): Rng {
    return new Rng(this.u32());
  }
}

/** Byte values that sit on boundaries: sign bits, all ones, ASCII separators, RTP/STUN markers. */
export const INTERESTING_8 = [
  0x00, 0x01, 0x02, 0x0a, 0x0d, 0x10, 0x20, 0x24, 0x3a, 0x7f, 0x80, 0x81, 0xfe, 0xff,
];
/** 16-bit boundaries: lengths that are zero, tiny, one past a byte, signed and unsigned maxima. */
export const INTERESTING_16 = [
  0, 1, 2, 3, 4, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x7fff, 0x8000, 0xfffe, 0xffff,
];
/** 32-bit boundaries, including sizes that mean "to the end" or "64-bit size follows" in MP4. */
export const INTERESTING_32 = [
  0, 1, 2, 7, 8, 9, 16, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];
/** Tokens for text protocols (RTSP, SDP, YAML, JSON, URLs). */
export const TEXT_TOKENS = [
  '\r\n',
  '\n',
  '\r\n\r\n',
  ':',
  ' ',
  '\t',
  ';',
  ',',
  '=',
  '/',
  '"',
  "'",
  '\\',
  '{',
  '}',
  '[',
  ']',
  '-',
  '0',
  '-1',
  '65536',
  '4294967296',
  '99999999999999999999',
  '1e309',
  'NaN',
  '%',
  '%00',
  '%zz',
  '\u0000',
  '\u00ff',
  '\ud800',
  '${X}',
  '*',
  '&',
  '?',
  '#',
  'null',
  'true',
  '[]',
  '{}',
  'Content-Length: 99999\r\n',
  'Content-Length: -1\r\n',
  'CSeq: 1\r\n',
  'Session: ',
  'Transport: RTP/AVP/TCP;interleaved=0-1',
  'a=',
  'm=video 0 RTP/AVP 96',
  'rtpmap:',
  'fmtp:',
  'control:',
  '&&',
  '<<: *a',
  '&a',
  '*a',
];

/** Options of `mutate()`. */
export interface MutateOptions {
  /** Other inputs to splice with (the target's corpus). */
  corpus?: readonly Buffer[];
  /** Text tokens are inserted too (for line-based protocols). */
  text?: boolean;
  /** Results are cut to this many bytes. Default 1 MiB. */
  maxLength?: number;
}

const DEFAULT_MAX_LENGTH = 1 << 20;
/** The names of the mutation operators, in the order `mutate()` picks them (for statistics). */
export const OPERATORS = [
  'flipBit',
  'setByte',
  'set16',
  'set32',
  'lengthField',
  'truncate',
  'extend',
  'insert',
  'delete',
  'splice',
  'duplicate',
  'token',
] as const;

/**
 * A mutated copy of `input`: 1 to 8 stacked operators (fewer more often). Never modifies `input`.
 * Lengths are written as 8, 16 or 32-bit fields in either byte order, with values near the true
 * remaining length (off by a little) or interesting boundaries (see INTERESTING_*).
 */
export function mutate(input: Uint8Array, rng: Rng, opts: MutateOptions = {}): Buffer {
  let b: Buffer = Buffer.from(input);
  const max = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  const stack = 1 << rng.int(4); // 1, 2, 4 or 8
  for (let i = 0; i < stack; i++) b = mutateOnce(b, rng, opts);
  return b.length > max ? b.subarray(0, max) : b;
}

function mutateOnce(b: Buffer, rng: Rng, opts: MutateOptions): Buffer {
  const op = OPERATORS[rng.int(opts.text ? OPERATORS.length : OPERATORS.length - 1)];
  const at = rng.int(b.length);
  switch (op) {
    case 'flipBit':
      if (b.length > 0) b[at] ^= 1 << rng.int(8);
      return b;
    case 'setByte':
      if (b.length > 0) b[at] = rng.chance(0.5) ? rng.pick(INTERESTING_8) : rng.int(256);
      return b;
    case 'set16':
      if (b.length >= 2)
        writeField(b, Math.min(at, b.length - 2), 2, rng.pick(INTERESTING_16), rng.chance(0.8));
      return b;
    case 'set32':
      if (b.length >= 4)
        writeField(b, Math.min(at, b.length - 4), 4, rng.pick(INTERESTING_32), rng.chance(0.8));
      return b;
    case 'lengthField': {
      const size = rng.pick([1, 2, 4] as const);
      if (b.length < size) return b;
      const where = Math.min(at, b.length - size);
      const remaining = b.length - where - size;
      const value = rng.chance(0.6) ? Math.max(0, remaining + rng.int(9) - 4) : remaining * (1 + rng.int(3));
      writeField(b, where, size, value, rng.chance(0.8));
      return b;
    }
    case 'truncate':
      return b.subarray(0, at);
    case 'extend':
      return rng.chance(0.5)
        ? Buffer.concat([b, rng.bytes(1 + rng.int(64))])
        : Buffer.concat([b, b.subarray(at, at + 1 + rng.int(4096))]);
    case 'insert':
      return Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(16)), b.subarray(at)]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rng.int(32))]);
    case 'splice': {
      const other = opts.corpus && opts.corpus.length > 0 ? rng.pick(opts.corpus) : b;
      return Buffer.concat([b.subarray(0, at), other.subarray(rng.int(other.length))]);
    }
    case 'duplicate': {
      const len = 1 + rng.int(64);
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    }
    case 'token':
      return Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(TEXT_TOKENS), 'utf8'), b.subarray(at)]);
  }
}

/** Writes `value` (masked to the field size) at `offset`. */
function writeField(b: Buffer, offset: number, size: 1 | 2 | 4, value: number, bigEndian: boolean): void {
  const v = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
  if (size === 1) b[offset] = v;
  else if (size === 2) bigEndian ? b.writeUInt16BE(v, offset) : b.writeUInt16LE(v, offset);
  else bigEndian ? b.writeUInt32BE(v, offset) : b.writeUInt32LE(v, offset);
}

/** Splits `buf` into 1 to 8 chunks at random points (for stream decoders fed from a socket). */
export function chunks(buf: Buffer, rng: Rng): Buffer[] {
  if (buf.length < 2 || rng.chance(0.3)) return [buf];
  const cuts = new Set<number>();
  for (let n = 1 + rng.int(7); n > 0; n--) cuts.add(1 + rng.int(buf.length - 1));
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(buf.subarray(from, cut));
    from = cut;
  }
  out.push(buf.subarray(from));
  return out;
}
