/**
 * NAL unit framing shared by H.264 and H.265: Annex B byte streams (start codes, ISO 14496-10 Annex
 * B) and AVCC (length-prefixed, ISO 14496-15 5.3.2), the framing of `Frame.data`.
 *
 *   Annex B:  00 00 00 01 | NAL | 00 00 01 | NAL ...
 *   AVCC:     length (4 bytes, big-endian) | NAL | length | NAL ...
 */
import { ParseError } from '../core/errors.ts';

/** Bytes of the length prefix in `Frame.data`. */
export const AVCC_LENGTH_SIZE = 4;
const START_CODE = Buffer.from([0, 0, 0, 1]);
const SHORT_START_CODE_LENGTH = 3;

/**
 * Splits an AVCC buffer into NAL units. The results are views (`subarray`) that alias `data`.
 * Throws `ParseError` on a truncated length or NAL unit and on an empty NAL unit.
 *
 * @param lengthSize bytes of each length prefix: 1, 2 or 4 (avcC `lengthSizeMinusOne + 1`), default 4.
 */
export function splitAvcc(data: Buffer, lengthSize = AVCC_LENGTH_SIZE): Buffer[] {
  const nals: Buffer[] = [];
  let off = 0;
  while (off < data.length) {
    ParseError.need('AVCC', data, off, lengthSize, 'NAL length');
    const size = data.readUIntBE(off, lengthSize);
    off += lengthSize;
    if (size === 0) throw new ParseError('AVCC', 'empty NAL unit', off - lengthSize);
    ParseError.need('AVCC', data, off, size, 'NAL unit');
    nals.push(data.subarray(off, off + size));
    off += size;
  }
  return nals;
}

/** Joins NAL units into one AVCC buffer with 4-byte lengths (a new buffer). */
export function joinAvcc(nals: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const n of nals) total += AVCC_LENGTH_SIZE + n.length;
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (const n of nals) {
    out.writeUInt32BE(n.length, off);
    out.set(n, off + AVCC_LENGTH_SIZE);
    off += AVCC_LENGTH_SIZE + n.length;
  }
  return out;
}

/**
 * Splits an Annex B byte stream into NAL units (views that alias `data`). Accepts 3- and 4-byte start
 * codes, skips bytes before the first start code, empty NAL units and trailing zero bytes.
 * Throws `ParseError` when `data` is not empty and has no start code.
 */
export function splitAnnexB(data: Buffer): Buffer[] {
  const starts: number[] = []; // offsets of the first byte after each start code
  const codeAt: number[] = []; // offsets of each start code
  for (let i = 0; i + SHORT_START_CODE_LENGTH <= data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      codeAt.push(i);
      starts.push(i + SHORT_START_CODE_LENGTH);
      i += SHORT_START_CODE_LENGTH - 1;
    }
  }
  if (starts.length === 0) {
    if (data.length === 0) return [];
    throw new ParseError('Annex B', `no start code in ${data.length} bytes`);
  }
  const nals: Buffer[] = [];
  for (let k = 0; k < starts.length; k++) {
    let end = k + 1 < starts.length ? codeAt[k + 1] : data.length;
    while (end > starts[k] && data[end - 1] === 0) end--; // zero byte of a 4-byte start code, trailing_zero_8bits
    if (end > starts[k]) nals.push(data.subarray(starts[k], end));
  }
  return nals;
}

/**
 * `nal` without trailing zero bytes (a view). A NAL unit never ends in 0x00 (H.264 7.4.1, H.265
 * 7.4.2.2); zeros there are trailing_zero_8bits or a start code's leading zero that a packetizer
 * (ffmpeg's, for H.265) kept with the NAL unit.
 */
export function trimTrailingZeros(nal: Buffer): Buffer {
  let end = nal.length;
  while (end > 0 && nal[end - 1] === 0) end--;
  return end === nal.length ? nal : nal.subarray(0, end);
}

/** Converts an Annex B byte stream to AVCC with 4-byte lengths (a new buffer). */
export function annexBToAvcc(data: Buffer): Buffer {
  return joinAvcc(splitAnnexB(data));
}

/** Converts AVCC (4-byte lengths) to an Annex B byte stream with 4-byte start codes (a new buffer). */
export function avccToAnnexB(data: Buffer): Buffer {
  const nals = splitAvcc(data);
  const parts: Buffer[] = [];
  for (const n of nals) parts.push(START_CODE, n);
  return Buffer.concat(parts);
}
