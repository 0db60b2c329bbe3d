/**
 * Small byte helpers shared by the RTP and RTCP writers. Parsers use `ParseError.need()` for their
 * length checks; these are for the writing side, where a short buffer is the caller's mistake.
 */
import { BadRequestError } from '../core/errors.ts';

/** Rounds `n` up to the next multiple of 4 (RTP extensions and RTCP packets are 32-bit aligned). */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Throws `BadRequestError` unless `buf` has `need` bytes from `offset`; the check before a write. */
export function ensureRoom(what: string, buf: Uint8Array, offset: number, need: number): void {
  if (offset < 0 || offset + need > buf.length) {
    throw new BadRequestError(
      `${what}: need ${need} bytes at offset ${offset}, buffer has ${Math.max(0, buf.length - offset)}`,
    );
  }
}
