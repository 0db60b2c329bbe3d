/**
 * The 4-byte header every RTCP packet starts with (RFC 3550 §6.4.1) and the checks shared by the
 * packet parsers.
 */
import { BadRequestError, ParseError } from '../core/errors.ts';
import { ensureRoom } from './bytes.ts';

/** Size of the common RTCP header in bytes. */
export const RTCP_HEADER_SIZE = 4;
/** Largest value of the 5-bit count / FMT field. */
export const RTCP_MAX_COUNT = 31;

export const RTCP_WHAT = 'RTCP packet';
const RTCP_VERSION = 2;
const VERSION_SHIFT = 6;
const PADDING_BIT = 0x20;
const COUNT_MASK = 0x1f;
const WORD = 4;
const MAX_LENGTH_WORDS = 0xffff;

/* RFC 3550 §6.4.1; length is the packet size in 32-bit words minus one, header and padding included:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  count  |      PT       |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

/** Where one RTCP packet of a compound packet sits, as read from its header. */
export interface RtcpHeader {
  /** The 5-bit count / FMT field. */
  count: number;
  /** The 8-bit packet type. */
  packetType: number;
  /** Offset of the first byte after the header. */
  bodyStart: number;
  /** Offset after the last body byte, padding excluded. */
  bodyEnd: number;
  /** Offset after the packet, padding included: where the next packet starts. */
  end: number;
}

/**
 * Reads and checks the header of the packet at `offset`: version 2, the whole announced length
 * present, and a padding count between 1 and the body size. Throws `ParseError` otherwise.
 */
export function readRtcpHeader(buf: Buffer, offset: number): RtcpHeader {
  ParseError.need(RTCP_WHAT, buf, offset, RTCP_HEADER_SIZE, 'header');
  const b0 = buf[offset];
  const version = b0 >> VERSION_SHIFT;
  if (version !== RTCP_VERSION) throw new ParseError(RTCP_WHAT, `version ${version}, want 2`, offset);
  const size = (buf.readUInt16BE(offset + 2) + 1) * WORD;
  ParseError.need(RTCP_WHAT, buf, offset, size, `packet of type ${buf[offset + 1]}`);
  const bodyStart = offset + RTCP_HEADER_SIZE;
  const end = offset + size;
  let bodyEnd = end;
  if (b0 & PADDING_BIT) {
    const pad = buf[end - 1];
    if (pad === 0 || pad > end - bodyStart) {
      throw new ParseError(
        RTCP_WHAT,
        `padding count ${pad} with a body of ${end - bodyStart} bytes`,
        end - 1,
      );
    }
    bodyEnd -= pad;
  }
  return { count: b0 & COUNT_MASK, packetType: buf[offset + 1], bodyStart, bodyEnd, end };
}

/**
 * Throws `ParseError` unless the body in `h` has `need` bytes from `offset`; the length check before
 * every read inside a packet (the body ends before the padding, not at the end of the buffer).
 */
export function needBody(h: RtcpHeader, offset: number, need: number, field: string): void {
  if (offset + need > h.bodyEnd) {
    throw new ParseError(
      RTCP_WHAT,
      `${field} needs ${need} bytes, ${Math.max(0, h.bodyEnd - offset)} left`,
      offset,
    );
  }
}

/**
 * Writes a header for a packet of `size` bytes (a multiple of 4, header and padding included) at
 * `offset` and returns 4. `padded` sets the P bit; the caller writes the padding count. Throws
 * `BadRequestError` for a count above 31, a bad size or a buffer too small for `size` bytes.
 */
export function writeRtcpHeader(
  buf: Buffer,
  offset: number,
  count: number,
  packetType: number,
  size: number,
  padded = false,
): number {
  if (count < 0 || count > RTCP_MAX_COUNT) throw new BadRequestError(`${RTCP_WHAT}: count ${count} above 31`);
  if (size % WORD !== 0 || size < RTCP_HEADER_SIZE || size / WORD - 1 > MAX_LENGTH_WORDS) {
    throw new BadRequestError(`${RTCP_WHAT}: size ${size} is not a valid word count`);
  }
  ensureRoom(RTCP_WHAT, buf, offset, size);
  buf[offset] = (RTCP_VERSION << VERSION_SHIFT) | (padded ? PADDING_BIT : 0) | count;
  buf[offset + 1] = packetType & 0xff;
  buf.writeUInt16BE(size / WORD - 1, offset + 2);
  return RTCP_HEADER_SIZE;
}
