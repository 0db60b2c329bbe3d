/**
 * Goodbye packets (RFC 3550 §6.6).
 */
import { BadRequestError } from '../core/errors.ts';
import { align4 } from './bytes.ts';
import {
  needBody,
  RTCP_HEADER_SIZE,
  RTCP_MAX_COUNT,
  RTCP_WHAT,
  type RtcpHeader,
  writeRtcpHeader,
} from './rtcp-header.ts';
import { type Goodbye, RtcpPacketType } from './rtcp-types.ts';

const SSRC_SIZE = 4;
const REASON_LENGTH_SIZE = 1;
const MAX_REASON_LENGTH = 255;

/* RFC 3550 §6.6; the reason is zero-padded to 32 bits:
 *
 *        0                   1                   2                   3
 *        0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |V=2|P|    SC   |   PT=BYE=203  |             length            |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |                           SSRC/CSRC                           |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       :                              ...                              :
 *       +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * (opt) |     length    |               reason for leaving            ...
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

/**
 * Parses the body of a BYE whose header is `h`. Bytes after the sources are read as the reason;
 * throws `ParseError` when the sources or the announced reason do not fit.
 */
export function readGoodbye(buf: Buffer, h: RtcpHeader): Goodbye {
  let o = h.bodyStart;
  needBody(h, o, h.count * SSRC_SIZE, `${h.count} BYE sources`);
  const sources: number[] = new Array(h.count);
  for (let i = 0; i < h.count; i++, o += SSRC_SIZE) sources[i] = buf.readUInt32BE(o);
  const bye: Goodbye = { type: 'bye', sources };
  if (o < h.bodyEnd) {
    const length = buf[o];
    o += REASON_LENGTH_SIZE;
    needBody(h, o, length, 'BYE reason');
    bye.reason = buf.toString('utf8', o, o + length);
  }
  return bye;
}

/** Size in bytes of `p` on the wire, header included. */
export function goodbyeSize(p: Goodbye): number {
  const reason =
    p.reason === undefined ? 0 : align4(REASON_LENGTH_SIZE + Buffer.byteLength(p.reason, 'utf8'));
  return RTCP_HEADER_SIZE + p.sources.length * SSRC_SIZE + reason;
}

/**
 * Writes `p` at `offset` and returns the bytes written. Throws `BadRequestError` for more than 31
 * sources or a reason longer than 255 bytes.
 */
export function writeGoodbye(p: Goodbye, buf: Buffer, offset: number): number {
  if (p.sources.length > RTCP_MAX_COUNT)
    throw new BadRequestError(`${RTCP_WHAT}: ${p.sources.length} BYE sources, at most 31`);
  if (p.reason !== undefined && Buffer.byteLength(p.reason, 'utf8') > MAX_REASON_LENGTH) {
    throw new BadRequestError(`${RTCP_WHAT}: BYE reason longer than 255 bytes`);
  }
  const size = goodbyeSize(p);
  let o = offset + writeRtcpHeader(buf, offset, p.sources.length, RtcpPacketType.BYE, size);
  for (const ssrc of p.sources) {
    buf.writeUInt32BE(ssrc >>> 0, o);
    o += SSRC_SIZE;
  }
  if (p.reason !== undefined) {
    const length = buf.write(p.reason, o + REASON_LENGTH_SIZE, 'utf8');
    buf[o] = length;
    o += REASON_LENGTH_SIZE + length;
    buf.fill(0, o, offset + size);
  }
  return size;
}
