/**
 * RTCP compound packets (RFC 3550 §6.1) and the dispatch over the packet kinds of `rtcp-types.ts`:
 * SR, RR, SDES, BYE, generic NACK, PLI and FIR are decoded, everything else is kept raw.
 */
import { ParseError } from '../core/errors.ts';
import { align4 } from './bytes.ts';
import { goodbyeSize, readGoodbye, writeGoodbye } from './rtcp-bye.ts';
import {
  fullIntraSize,
  genericNackSize,
  pictureLossSize,
  readFullIntra,
  readGenericNack,
  readPictureLoss,
  writeFullIntra,
  writeGenericNack,
  writePictureLoss,
} from './rtcp-feedback.ts';
import {
  RTCP_HEADER_SIZE,
  RTCP_WHAT,
  type RtcpHeader,
  readRtcpHeader,
  writeRtcpHeader,
} from './rtcp-header.ts';
import {
  readReceiverReport,
  readSenderReport,
  receiverReportSize,
  senderReportSize,
  writeReceiverReport,
  writeSenderReport,
} from './rtcp-report.ts';
import { readSourceDescription, sourceDescriptionSize, writeSourceDescription } from './rtcp-sdes.ts';
import { type RawRtcp, RtcpFeedbackFormat, type RtcpPacket, RtcpPacketType } from './rtcp-types.ts';

/** RFC 5761 §4: RTCP packet types that rtcp-mux tells apart from RTP by the second byte. */
const RTCP_MUX_MIN_TYPE = 192;
const RTCP_MUX_MAX_TYPE = 223;
const VERSION_2_BITS = 0x80;
const VERSION_MASK = 0xc0;

/**
 * True when `buf` looks like RTCP on an rtcp-mux port (RFC 5761 §4): version 2 and a second byte
 * (the RTCP packet type, or RTP marker + payload type) in 192-223. Never throws; false for fewer
 * than 4 bytes.
 */
export function isRtcp(buf: Uint8Array): boolean {
  if (buf.length < RTCP_HEADER_SIZE || (buf[0] & VERSION_MASK) !== VERSION_2_BITS) return false;
  return buf[1] >= RTCP_MUX_MIN_TYPE && buf[1] <= RTCP_MUX_MAX_TYPE;
}

function readRaw(buf: Buffer, h: RtcpHeader): RawRtcp {
  return {
    type: 'raw',
    packetType: h.packetType,
    count: h.count,
    body: buf.subarray(h.bodyStart, h.bodyEnd),
  };
}

/** Decodes the packet whose header `h` was read from `buf`. */
function readPacket(buf: Buffer, h: RtcpHeader): RtcpPacket {
  switch (h.packetType) {
    case RtcpPacketType.SR:
      return readSenderReport(buf, h);
    case RtcpPacketType.RR:
      return readReceiverReport(buf, h);
    case RtcpPacketType.SDES:
      return readSourceDescription(buf, h);
    case RtcpPacketType.BYE:
      return readGoodbye(buf, h);
    case RtcpPacketType.RTPFB:
      return h.count === RtcpFeedbackFormat.NACK ? readGenericNack(buf, h) : readRaw(buf, h);
    case RtcpPacketType.PSFB:
      if (h.count === RtcpFeedbackFormat.PLI) return readPictureLoss(buf, h);
      if (h.count === RtcpFeedbackFormat.FIR) return readFullIntra(buf, h);
      return readRaw(buf, h);
    default:
      return readRaw(buf, h);
  }
}

/**
 * Parses a compound RTCP packet (one or more packets back to back, as one UDP datagram carries
 * them). Raw bodies are views into `buf`; the input is never modified. Throws `ParseError` for an
 * empty input or any malformed packet; the RFC 3550 rule that the first packet is SR or RR is not
 * enforced (RFC 5506 reduced-size RTCP).
 */
export function parseRtcpCompound(buf: Buffer): RtcpPacket[] {
  if (buf.length === 0) throw new ParseError(RTCP_WHAT, 'empty compound packet');
  const out: RtcpPacket[] = [];
  for (let offset = 0; offset < buf.length; ) {
    const h = readRtcpHeader(buf, offset);
    out.push(readPacket(buf, h));
    offset = h.end;
  }
  return out;
}

/** Parses exactly one RTCP packet that fills `buf`; throws `ParseError` for trailing bytes. */
export function parseRtcpPacket(buf: Buffer): RtcpPacket {
  const h = readRtcpHeader(buf, 0);
  if (h.end !== buf.length) {
    throw new ParseError(RTCP_WHAT, `${buf.length - h.end} bytes after a single packet`, h.end);
  }
  return readPacket(buf, h);
}

function rawSize(p: RawRtcp): number {
  return RTCP_HEADER_SIZE + align4(p.body.length);
}

/** A raw body that is not word aligned is written with RTCP padding, so it parses back unchanged. */
function writeRaw(p: RawRtcp, buf: Buffer, offset: number): number {
  const size = rawSize(p);
  const pad = size - RTCP_HEADER_SIZE - p.body.length;
  writeRtcpHeader(buf, offset, p.count, p.packetType, size, pad > 0);
  p.body.copy(buf, offset + RTCP_HEADER_SIZE);
  if (pad > 0) {
    buf.fill(0, offset + size - pad, offset + size - 1);
    buf[offset + size - 1] = pad;
  }
  return size;
}

/** Size in bytes of `p` on the wire, header included. */
export function rtcpSize(p: RtcpPacket): number {
  switch (p.type) {
    case 'sr':
      return senderReportSize(p);
    case 'rr':
      return receiverReportSize(p);
    case 'sdes':
      return sourceDescriptionSize(p);
    case 'bye':
      return goodbyeSize(p);
    case 'nack':
      return genericNackSize(p);
    case 'pli':
      return pictureLossSize(p);
    case 'fir':
      return fullIntraSize(p);
    case 'raw':
      return rawSize(p);
  }
}

/**
 * Writes `p` at `offset` and returns the bytes written (`rtcpSize(p)`). Throws `BadRequestError`
 * for a buffer that is too small or a value the wire format cannot carry (over 31 items, a text
 * over 255 bytes).
 */
export function writeRtcp(p: RtcpPacket, buf: Buffer, offset: number): number {
  switch (p.type) {
    case 'sr':
      return writeSenderReport(p, buf, offset);
    case 'rr':
      return writeReceiverReport(p, buf, offset);
    case 'sdes':
      return writeSourceDescription(p, buf, offset);
    case 'bye':
      return writeGoodbye(p, buf, offset);
    case 'nack':
      return writeGenericNack(p, buf, offset);
    case 'pli':
      return writePictureLoss(p, buf, offset);
    case 'fir':
      return writeFullIntra(p, buf, offset);
    case 'raw':
      return writeRaw(p, buf, offset);
  }
}

/** Serializes one packet into a new buffer. */
export function serializeRtcp(p: RtcpPacket): Buffer {
  const buf = Buffer.allocUnsafe(rtcpSize(p));
  writeRtcp(p, buf, 0);
  return buf;
}

/** Size in bytes of the compound packet made of `packets`. */
export function rtcpCompoundSize(packets: readonly RtcpPacket[]): number {
  let n = 0;
  for (const p of packets) n += rtcpSize(p);
  return n;
}

/** Writes `packets` back to back at `offset` and returns the bytes written. */
export function writeRtcpCompound(packets: readonly RtcpPacket[], buf: Buffer, offset: number): number {
  const start = offset;
  for (const p of packets) offset += writeRtcp(p, buf, offset);
  return offset - start;
}

/** Serializes `packets` into one new buffer, a compound packet ready for one datagram. */
export function serializeRtcpCompound(packets: readonly RtcpPacket[]): Buffer {
  const buf = Buffer.allocUnsafe(rtcpCompoundSize(packets));
  writeRtcpCompound(packets, buf, 0);
  return buf;
}
