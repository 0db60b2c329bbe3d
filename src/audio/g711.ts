/**
 * ITU-T G.711 A-law (PCMA) and µ-law (PCMU) companding between S16 PCM and one byte per sample,
 * following the ITU-T G.191 reference implementation (which truncates magnitudes into decision
 * intervals, using the one's complement for negative samples; decoders return interval centres).
 * Decoding is bit-exact with ffmpeg's; ffmpeg's encoder rounds at a few decision boundaries
 * differently (about 1% of sample values) and is never closer to the input there. All four tables are built once at module load: encoding is one lookup per
 * sample in a 64 KiB table indexed by the 16-bit sample, decoding one lookup in a 256-entry table.
 *
 * A-law keeps 13 bits of magnitude (7 segments of 16 steps), µ-law 14 bits; both have a worst-case
 * error of half a step, i.e. at most 1/32 (A-law) and 1/16.7 (µ-law) of the sample's magnitude
 * above the first segments.
 */

const SIGN_BIT = 0x80;
const QUANT_MASK = 0x0f;
const SEG_SHIFT = 4;
const SEG_MASK = 0x70;
/** A-law inverts the even bits on the wire (G.711 3.2). */
const ALAW_XOR = 0x55;
/** µ-law bias added before segment search (G.711 table 2a): 0x84 = 132. */
const ULAW_BIAS = 0x84;
/** Largest 14-bit magnitude µ-law can encode before the bias is added. */
const ULAW_CLIP = 8159;
/** Upper ends of the 8 segments: A-law on 13-bit, µ-law on biased 14-bit magnitudes. */
const ALAW_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const ULAW_SEG_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const SEGMENTS = 8;
const SAMPLE_VALUES = 65536;
const CODE_VALUES = 256;

function segment(value: number, ends: readonly number[]): number {
  for (let i = 0; i < SEGMENTS; i++) if (value <= ends[i]) return i;
  return SEGMENTS;
}

/** One S16 sample to an A-law byte. */
function linearToAlaw(sample: number): number {
  let value = sample >> 3;
  let mask: number;
  if (value >= 0) {
    mask = 0xd5; // sign bit set for positive values, then the 0x55 inversion
  } else {
    mask = 0x55;
    value = -value - 1;
  }
  const seg = segment(value, ALAW_SEG_END);
  if (seg >= SEGMENTS) return 0x7f ^ mask;
  const quant = seg < 2 ? (value >> 1) & QUANT_MASK : (value >> seg) & QUANT_MASK;
  return ((seg << SEG_SHIFT) | quant) ^ mask;
}

/** One A-law byte to S16. */
function alawToLinear(code: number): number {
  const a = code ^ ALAW_XOR;
  let t = (a & QUANT_MASK) << 4;
  const seg = (a & SEG_MASK) >> SEG_SHIFT;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & SIGN_BIT ? t : -t;
}

/** One S16 sample to a µ-law byte. Negative samples use the one's complement, as G.191 does. */
function linearToUlaw(sample: number): number {
  const negative = sample < 0;
  const value = Math.min((negative ? ~sample : sample) >> 2, ULAW_CLIP) + (ULAW_BIAS >> 2);
  const mask = negative ? 0x7f : 0xff;
  const seg = segment(value, ULAW_SEG_END);
  if (seg >= SEGMENTS) return 0x7f ^ mask;
  return ((seg << SEG_SHIFT) | ((value >> (seg + 1)) & QUANT_MASK)) ^ mask;
}

/** One µ-law byte to S16. */
function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & QUANT_MASK) << 3) + ULAW_BIAS) << ((u & SEG_MASK) >> SEG_SHIFT);
  return u & SIGN_BIT ? ULAW_BIAS - t : t - ULAW_BIAS;
}

function buildEncodeTable(encode: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(SAMPLE_VALUES);
  // Indexed by the sample's 16-bit pattern: `sample & 0xffff`.
  for (let i = 0; i < SAMPLE_VALUES; i++) table[i] = encode((i << 16) >> 16);
  return table;
}

function buildDecodeTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(CODE_VALUES);
  for (let i = 0; i < CODE_VALUES; i++) table[i] = decode(i);
  return table;
}

const ALAW_ENCODE = buildEncodeTable(linearToAlaw);
const ULAW_ENCODE = buildEncodeTable(linearToUlaw);
const ALAW_DECODE = buildDecodeTable(alawToLinear);
const ULAW_DECODE = buildDecodeTable(ulawToLinear);

function encodeWith(table: Uint8Array, pcm: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = table[pcm[i] & 0xffff];
  return out;
}

function decodeWith(table: Int16Array, data: Uint8Array): Int16Array {
  const out = new Int16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = table[data[i]];
  return out;
}

/** S16 PCM to A-law (PCMA), one byte per sample; channels stay interleaved. */
export function encodeAlaw(pcm: Int16Array): Buffer {
  return encodeWith(ALAW_ENCODE, pcm);
}

/** A-law (PCMA) bytes to S16 PCM, one sample per byte. */
export function decodeAlaw(data: Uint8Array): Int16Array {
  return decodeWith(ALAW_DECODE, data);
}

/** S16 PCM to µ-law (PCMU), one byte per sample; channels stay interleaved. */
export function encodeUlaw(pcm: Int16Array): Buffer {
  return encodeWith(ULAW_ENCODE, pcm);
}

/** µ-law (PCMU) bytes to S16 PCM, one sample per byte. */
export function decodeUlaw(data: Uint8Array): Int16Array {
  return decodeWith(ULAW_DECODE, data);
}

/** The A-law byte of one S16 sample (table lookup). */
export function alawFromSample(sample: number): number {
  return ALAW_ENCODE[sample & 0xffff];
}

/** The S16 value of one A-law byte. */
export function sampleFromAlaw(code: number): number {
  return ALAW_DECODE[code & 0xff];
}

/** The µ-law byte of one S16 sample (table lookup). */
export function ulawFromSample(sample: number): number {
  return ULAW_ENCODE[sample & 0xffff];
}

/** The S16 value of one µ-law byte. */
export function sampleFromUlaw(code: number): number {
  return ULAW_DECODE[code & 0xff];
}
