/**
 * The few RTP and RTCP header fields SRTP needs, read with a length check before every read.
 *
 * RTP (RFC 3550 §5.1):
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers (CC)        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length (words)      |  if X
 * |                        header extension                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * RTCP (RFC 3550 §6.4): V=2, P, count, PT, length, then the sender SSRC at bytes 4..7.
 */
import { ParseError } from '../../../core/errors.ts';

export const RTP_FIXED_HEADER_SIZE = 12;
export const RTCP_HEADER_SIZE = 8;
const RTP_VERSION = 2;
const VERSION_SHIFT = 6;
const EXTENSION_BIT = 0x10;
const CSRC_COUNT_MASK = 0x0f;
const CSRC_SIZE = 4;
const EXTENSION_HEADER_SIZE = 4;
const SEQUENCE_OFFSET = 2;
const RTP_SSRC_OFFSET = 8;
const RTCP_SSRC_OFFSET = 4;

/** The parts of an RTP header SRTP uses. */
export interface RtpHeaderInfo {
  /** Header size including CSRCs and the extension, bytes: the payload starts here. */
  length: number;
  sequenceNumber: number;
  ssrc: number;
}

/** Reads the header size, sequence number and SSRC of an RTP packet. Throws ParseError. */
export function readRtpHeader(packet: Buffer, what = 'srtp'): RtpHeaderInfo {
  ParseError.need(what, packet, 0, RTP_FIXED_HEADER_SIZE, 'RTP header');
  const version = packet[0] >> VERSION_SHIFT;
  if (version !== RTP_VERSION) throw new ParseError(what, `RTP version ${version}, want ${RTP_VERSION}`);
  let length = RTP_FIXED_HEADER_SIZE + (packet[0] & CSRC_COUNT_MASK) * CSRC_SIZE;
  ParseError.need(what, packet, RTP_FIXED_HEADER_SIZE, length - RTP_FIXED_HEADER_SIZE, 'CSRC list');
  if (packet[0] & EXTENSION_BIT) {
    ParseError.need(what, packet, length, EXTENSION_HEADER_SIZE, 'extension header');
    const words = packet.readUInt16BE(length + 2);
    length += EXTENSION_HEADER_SIZE;
    ParseError.need(what, packet, length, words * 4, 'header extension');
    length += words * 4;
  }
  return {
    length,
    sequenceNumber: packet.readUInt16BE(SEQUENCE_OFFSET),
    ssrc: packet.readUInt32BE(RTP_SSRC_OFFSET),
  };
}

/** The sender SSRC of an RTCP compound packet. Throws ParseError. */
export function readRtcpSsrc(packet: Buffer, what = 'srtcp'): number {
  ParseError.need(what, packet, 0, RTCP_HEADER_SIZE, 'RTCP header');
  const version = packet[0] >> VERSION_SHIFT;
  if (version !== RTP_VERSION) throw new ParseError(what, `RTCP version ${version}, want ${RTP_VERSION}`);
  return packet.readUInt32BE(RTCP_SSRC_OFFSET);
}
