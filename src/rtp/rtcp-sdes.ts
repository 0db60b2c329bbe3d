/**
 * Source description packets (RFC 3550 §6.5): every item of every chunk is parsed, CNAME being the
 * one a gateway needs (lip sync across the SSRCs of one participant).
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
import {
  RtcpPacketType,
  type SdesChunk,
  type SdesItem,
  SdesItemType,
  type SourceDescription,
} from './rtcp-types.ts';

const SSRC_SIZE = 4;
const ITEM_HEADER_SIZE = 2;
const END_ITEM = 0;
const MAX_TEXT_LENGTH = 255;
const MAX_ITEM_TYPE = 255;

/* RFC 3550 §6.5; each chunk's item list ends with a null octet and is zero-padded to 32 bits:
 *
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    SC   |  PT=SDES=202  |             length            |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * chunk  |                          SSRC/CSRC_1                          |
 *   1    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                           SDES items                          |
 *        |                              ...                              |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *
 * Item (§6.5.1):
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |    CNAME=1    |     length    | user and domain name        ...
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

/** Parses the body of an SDES packet whose header is `h`; throws `ParseError` when it is cut short. */
export function readSourceDescription(buf: Buffer, h: RtcpHeader): SourceDescription {
  const chunks: SdesChunk[] = new Array(h.count);
  let o = h.bodyStart;
  for (let c = 0; c < h.count; c++) {
    needBody(h, o, SSRC_SIZE, `SDES chunk ${c}`);
    const source = buf.readUInt32BE(o);
    o += SSRC_SIZE;
    const items: SdesItem[] = [];
    for (;;) {
      needBody(h, o, 1, `SDES item type in chunk ${c}`);
      const type = buf[o];
      if (type === END_ITEM) break;
      needBody(h, o, ITEM_HEADER_SIZE, `SDES item ${type} length`);
      const length = buf[o + 1];
      o += ITEM_HEADER_SIZE;
      needBody(h, o, length, `SDES item ${type}`);
      items.push({ type, text: buf.toString('utf8', o, o + length) });
      o += length;
    }
    // Skip the null octet and the zero padding up to the next 32-bit boundary of the body.
    const next = h.bodyStart + align4(o + 1 - h.bodyStart);
    needBody(h, o, next - o, `SDES chunk ${c} padding`);
    o = next;
    chunks[c] = { source, items };
  }
  return { type: 'sdes', chunks };
}

function chunkSize(chunk: SdesChunk): number {
  let n = SSRC_SIZE;
  for (const item of chunk.items) n += ITEM_HEADER_SIZE + Buffer.byteLength(item.text, 'utf8');
  return align4(n + 1);
}

/** Size in bytes of `p` on the wire, header included. */
export function sourceDescriptionSize(p: SourceDescription): number {
  let n = RTCP_HEADER_SIZE;
  for (const chunk of p.chunks) n += chunkSize(chunk);
  return n;
}

/**
 * Writes `p` at `offset` and returns the bytes written. Throws `BadRequestError` for more than 31
 * chunks, an item type outside 1-255 or a text longer than 255 bytes.
 */
export function writeSourceDescription(p: SourceDescription, buf: Buffer, offset: number): number {
  if (p.chunks.length > RTCP_MAX_COUNT)
    throw new BadRequestError(`${RTCP_WHAT}: ${p.chunks.length} SDES chunks, at most 31`);
  for (const chunk of p.chunks) {
    for (const item of chunk.items) {
      if (!Number.isInteger(item.type) || item.type <= END_ITEM || item.type > MAX_ITEM_TYPE) {
        throw new BadRequestError(`${RTCP_WHAT}: SDES item type ${item.type} outside 1-255`);
      }
      const length = Buffer.byteLength(item.text, 'utf8');
      if (length > MAX_TEXT_LENGTH) {
        throw new BadRequestError(`${RTCP_WHAT}: SDES item ${item.type} has ${length} bytes, at most 255`);
      }
    }
  }
  const size = sourceDescriptionSize(p);
  let o = offset + writeRtcpHeader(buf, offset, p.chunks.length, RtcpPacketType.SDES, size);
  for (const chunk of p.chunks) {
    const end = o + chunkSize(chunk);
    buf.writeUInt32BE(chunk.source >>> 0, o);
    o += SSRC_SIZE;
    for (const item of chunk.items) {
      buf[o] = item.type;
      const length = buf.write(item.text, o + ITEM_HEADER_SIZE, 'utf8');
      buf[o + 1] = length;
      o += ITEM_HEADER_SIZE + length;
    }
    buf.fill(END_ITEM, o, end);
    o = end;
  }
  return size;
}

/** The CNAME of the first chunk that has one, or undefined. */
export function sdesCname(p: SourceDescription): string | undefined {
  for (const chunk of p.chunks) {
    for (const item of chunk.items) if (item.type === SdesItemType.CNAME) return item.text;
  }
  return undefined;
}
