/**
 * Feedback messages (RFC 4585 §6): generic NACK (RTPFB FMT 1), PLI (PSFB FMT 1) and FIR (PSFB FMT 4,
 * RFC 5104 §4.3.1), plus the PID/BLP expansion and compression of NACKed sequence numbers.
 */
import { ParseError } from '../core/errors.ts';
import { needBody, RTCP_HEADER_SIZE, RTCP_WHAT, type RtcpHeader, writeRtcpHeader } from './rtcp-header.ts';
import {
  type FirEntry,
  type FullIntraRequest,
  type GenericNack,
  type NackPair,
  type PictureLossIndication,
  RtcpFeedbackFormat,
  RtcpPacketType,
} from './rtcp-types.ts';

const SSRC_SIZE = 4;
/** Sender SSRC + media source SSRC. */
const FEEDBACK_HEADER_SIZE = 8;
const NACK_ITEM_SIZE = 4;
const FIR_ITEM_SIZE = 8;
/** A BLP covers the 16 sequence numbers after its PID. */
const BLP_BITS = 16;
const SEQUENCE_MASK = 0xffff;

/* RFC 4585 §6.1 common format; FCI is a list of NACK items (§6.2.1) or FIR items (RFC 5104 §4.3.1):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|   FMT   |       PT      |          length               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  SSRC of packet sender                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  SSRC of media source                         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    :            Feedback Control Information (FCI)                 :
 *
 * NACK item:
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |            PID                |             BLP               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * FIR item:
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                              SSRC                             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    | Seq nr.       |    Reserved                                   |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

/** Checks the two SSRCs and that the FCI is a whole number of `itemSize` items; returns the count. */
function fciItems(h: RtcpHeader, itemSize: number, what: string): number {
  needBody(h, h.bodyStart, FEEDBACK_HEADER_SIZE, `${what} SSRCs`);
  const fci = h.bodyEnd - h.bodyStart - FEEDBACK_HEADER_SIZE;
  if (fci % itemSize !== 0) {
    throw new ParseError(
      RTCP_WHAT,
      `${what} FCI of ${fci} bytes is not a multiple of ${itemSize}`,
      h.bodyStart,
    );
  }
  return fci / itemSize;
}

/** Parses the body of a generic NACK whose header is `h`; throws `ParseError` when malformed. */
export function readGenericNack(buf: Buffer, h: RtcpHeader): GenericNack {
  const n = fciItems(h, NACK_ITEM_SIZE, 'NACK');
  const pairs: NackPair[] = new Array(n);
  let o = h.bodyStart + FEEDBACK_HEADER_SIZE;
  for (let i = 0; i < n; i++, o += NACK_ITEM_SIZE) {
    pairs[i] = { pid: buf.readUInt16BE(o), blp: buf.readUInt16BE(o + 2) };
  }
  return {
    type: 'nack',
    senderSsrc: buf.readUInt32BE(h.bodyStart),
    mediaSsrc: buf.readUInt32BE(h.bodyStart + SSRC_SIZE),
    pairs,
  };
}

/** Size in bytes of `p` on the wire, header included. */
export function genericNackSize(p: GenericNack): number {
  return RTCP_HEADER_SIZE + FEEDBACK_HEADER_SIZE + p.pairs.length * NACK_ITEM_SIZE;
}

/** Writes `p` at `offset` and returns the bytes written. */
export function writeGenericNack(p: GenericNack, buf: Buffer, offset: number): number {
  const size = genericNackSize(p);
  let o = offset + writeRtcpHeader(buf, offset, RtcpFeedbackFormat.NACK, RtcpPacketType.RTPFB, size);
  o = writeSsrcs(buf, o, p.senderSsrc, p.mediaSsrc);
  for (const pair of p.pairs) {
    buf.writeUInt16BE(pair.pid & SEQUENCE_MASK, o);
    buf.writeUInt16BE(pair.blp & SEQUENCE_MASK, o + 2);
    o += NACK_ITEM_SIZE;
  }
  return size;
}

/** Parses the body of a PLI whose header is `h`; a PLI has no FCI, extra bytes are ignored. */
export function readPictureLoss(buf: Buffer, h: RtcpHeader): PictureLossIndication {
  needBody(h, h.bodyStart, FEEDBACK_HEADER_SIZE, 'PLI SSRCs');
  return {
    type: 'pli',
    senderSsrc: buf.readUInt32BE(h.bodyStart),
    mediaSsrc: buf.readUInt32BE(h.bodyStart + SSRC_SIZE),
  };
}

/** Size in bytes of a PLI on the wire (always 12). */
export function pictureLossSize(_p: PictureLossIndication): number {
  return RTCP_HEADER_SIZE + FEEDBACK_HEADER_SIZE;
}

/** Writes `p` at `offset` and returns the bytes written (12). */
export function writePictureLoss(p: PictureLossIndication, buf: Buffer, offset: number): number {
  const size = pictureLossSize(p);
  writeRtcpHeader(buf, offset, RtcpFeedbackFormat.PLI, RtcpPacketType.PSFB, size);
  writeSsrcs(buf, offset + RTCP_HEADER_SIZE, p.senderSsrc, p.mediaSsrc);
  return size;
}

/** Parses the body of a FIR whose header is `h`; throws `ParseError` when malformed. */
export function readFullIntra(buf: Buffer, h: RtcpHeader): FullIntraRequest {
  const n = fciItems(h, FIR_ITEM_SIZE, 'FIR');
  const entries: FirEntry[] = new Array(n);
  let o = h.bodyStart + FEEDBACK_HEADER_SIZE;
  for (let i = 0; i < n; i++, o += FIR_ITEM_SIZE) {
    entries[i] = { ssrc: buf.readUInt32BE(o), sequenceNumber: buf[o + SSRC_SIZE] };
  }
  return {
    type: 'fir',
    senderSsrc: buf.readUInt32BE(h.bodyStart),
    mediaSsrc: buf.readUInt32BE(h.bodyStart + SSRC_SIZE),
    entries,
  };
}

/** Size in bytes of `p` on the wire, header included. */
export function fullIntraSize(p: FullIntraRequest): number {
  return RTCP_HEADER_SIZE + FEEDBACK_HEADER_SIZE + p.entries.length * FIR_ITEM_SIZE;
}

/** Writes `p` at `offset` and returns the bytes written; the reserved bytes are zero. */
export function writeFullIntra(p: FullIntraRequest, buf: Buffer, offset: number): number {
  const size = fullIntraSize(p);
  let o = offset + writeRtcpHeader(buf, offset, RtcpFeedbackFormat.FIR, RtcpPacketType.PSFB, size);
  o = writeSsrcs(buf, o, p.senderSsrc, p.mediaSsrc);
  for (const e of p.entries) {
    buf.writeUInt32BE(e.ssrc >>> 0, o);
    buf.writeUInt32BE(((e.sequenceNumber & 0xff) << 24) >>> 0, o + SSRC_SIZE);
    o += FIR_ITEM_SIZE;
  }
  return size;
}

function writeSsrcs(buf: Buffer, offset: number, sender: number, media: number): number {
  buf.writeUInt32BE(sender >>> 0, offset);
  buf.writeUInt32BE(media >>> 0, offset + SSRC_SIZE);
  return offset + FEEDBACK_HEADER_SIZE;
}

/** The lost sequence numbers a list of PID/BLP pairs names, in wire order (PID first, then BLP bits). */
export function expandNackPairs(pairs: readonly NackPair[]): number[] {
  const out: number[] = [];
  for (const { pid, blp } of pairs) {
    out.push(pid & SEQUENCE_MASK);
    for (let bit = 0; bit < BLP_BITS; bit++) {
      if (blp & (1 << bit)) out.push((pid + bit + 1) & SEQUENCE_MASK);
    }
  }
  return out;
}

/**
 * Packs lost sequence numbers into PID/BLP pairs (the reverse of `expandNackPairs()`). Each pair
 * covers its PID and the 16 numbers after it, across the 65535 -> 0 wrap. Input in ascending
 * (wrap-aware) order gives the fewest pairs; any order gives a correct list. Duplicates of the
 * current PID are skipped.
 */
export function compressNackSequences(sequences: readonly number[]): NackPair[] {
  const pairs: NackPair[] = [];
  let current: NackPair | undefined;
  for (const seq of sequences) {
    const s = seq & SEQUENCE_MASK;
    if (current) {
      const d = (s - current.pid) & SEQUENCE_MASK;
      if (d === 0) continue;
      if (d <= BLP_BITS) {
        current.blp |= 1 << (d - 1);
        continue;
      }
    }
    current = { pid: s, blp: 0 };
    pairs.push(current);
  }
  return pairs;
}
