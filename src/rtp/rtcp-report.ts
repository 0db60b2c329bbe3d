/**
 * Sender and receiver reports with their reception report blocks (RFC 3550 §6.4).
 */
import { BadRequestError } from '../core/errors.ts';
import {
  needBody,
  RTCP_HEADER_SIZE,
  RTCP_MAX_COUNT,
  RTCP_WHAT,
  type RtcpHeader,
  writeRtcpHeader,
} from './rtcp-header.ts';
import {
  type ReceiverReport,
  type ReceptionReport,
  RtcpPacketType,
  type SenderReport,
} from './rtcp-types.ts';

/** Size of one reception report block in bytes. */
export const REPORT_BLOCK_SIZE = 24;
const SSRC_SIZE = 4;
const SENDER_INFO_SIZE = 20;
const TOTAL_LOST_MAX = 0x7fffff;
const TOTAL_LOST_MIN = -0x800000;
const INT24_RANGE = 0x1000000;

/* RFC 3550 §6.4.1 sender report; a receiver report (§6.4.2, PT=201) has no sender info:
 *
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=SR=200   |             length            |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         SSRC of sender                        |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * sender |              NTP timestamp, most significant word             |
 * info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |             NTP timestamp, least significant word             |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         RTP timestamp                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     sender's packet count                     |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      sender's octet count                     |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * report |                 SSRC_1 (SSRC of first source)                 |
 * block  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   1    | fraction lost |       cumulative number of packets lost       |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |           extended highest sequence number received           |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      interarrival jitter                      |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         last SR (LSR)                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                   delay since last SR (DLSR)                  |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        |                  profile-specific extensions                  |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

function readBlocks(buf: Buffer, h: RtcpHeader, offset: number): ReceptionReport[] {
  needBody(h, offset, h.count * REPORT_BLOCK_SIZE, `${h.count} report blocks`);
  const reports: ReceptionReport[] = new Array(h.count);
  for (let i = 0; i < h.count; i++, offset += REPORT_BLOCK_SIZE) {
    const lost = buf.readUIntBE(offset + 5, 3);
    reports[i] = {
      ssrc: buf.readUInt32BE(offset),
      fractionLost: buf[offset + 4],
      totalLost: lost > TOTAL_LOST_MAX ? lost - INT24_RANGE : lost,
      highestSequence: buf.readUInt32BE(offset + 8),
      jitter: buf.readUInt32BE(offset + 12),
      lastSenderReport: buf.readUInt32BE(offset + 16),
      delaySinceLastSenderReport: buf.readUInt32BE(offset + 20),
    };
  }
  return reports;
}

function writeBlocks(reports: readonly ReceptionReport[], buf: Buffer, offset: number): void {
  for (const r of reports) {
    const lost = Math.min(TOTAL_LOST_MAX, Math.max(TOTAL_LOST_MIN, Math.trunc(r.totalLost)));
    buf.writeUInt32BE(r.ssrc >>> 0, offset);
    buf[offset + 4] = r.fractionLost & 0xff;
    buf.writeUIntBE(lost < 0 ? lost + INT24_RANGE : lost, offset + 5, 3);
    buf.writeUInt32BE(r.highestSequence >>> 0, offset + 8);
    buf.writeUInt32BE(r.jitter >>> 0, offset + 12);
    buf.writeUInt32BE(r.lastSenderReport >>> 0, offset + 16);
    buf.writeUInt32BE(r.delaySinceLastSenderReport >>> 0, offset + 20);
    offset += REPORT_BLOCK_SIZE;
  }
}

function checkBlockCount(reports: readonly ReceptionReport[]): void {
  if (reports.length > RTCP_MAX_COUNT) {
    throw new BadRequestError(`${RTCP_WHAT}: ${reports.length} report blocks, at most 31`);
  }
}

/** Parses the body of an SR whose header is `h`; throws `ParseError` when it is too short. */
export function readSenderReport(buf: Buffer, h: RtcpHeader): SenderReport {
  const o = h.bodyStart;
  needBody(h, o, SSRC_SIZE + SENDER_INFO_SIZE, 'sender info');
  return {
    type: 'sr',
    ssrc: buf.readUInt32BE(o),
    ntpSeconds: buf.readUInt32BE(o + 4),
    ntpFraction: buf.readUInt32BE(o + 8),
    rtpTimestamp: buf.readUInt32BE(o + 12),
    packetCount: buf.readUInt32BE(o + 16),
    octetCount: buf.readUInt32BE(o + 20),
    reports: readBlocks(buf, h, o + SSRC_SIZE + SENDER_INFO_SIZE),
  };
}

/** Size in bytes of `p` on the wire, header included. */
export function senderReportSize(p: SenderReport): number {
  return RTCP_HEADER_SIZE + SSRC_SIZE + SENDER_INFO_SIZE + p.reports.length * REPORT_BLOCK_SIZE;
}

/** Writes `p` at `offset` and returns the bytes written; `BadRequestError` for over 31 blocks. */
export function writeSenderReport(p: SenderReport, buf: Buffer, offset: number): number {
  checkBlockCount(p.reports);
  const size = senderReportSize(p);
  const o = offset + writeRtcpHeader(buf, offset, p.reports.length, RtcpPacketType.SR, size);
  buf.writeUInt32BE(p.ssrc >>> 0, o);
  buf.writeUInt32BE(p.ntpSeconds >>> 0, o + 4);
  buf.writeUInt32BE(p.ntpFraction >>> 0, o + 8);
  buf.writeUInt32BE(p.rtpTimestamp >>> 0, o + 12);
  buf.writeUInt32BE(p.packetCount >>> 0, o + 16);
  buf.writeUInt32BE(p.octetCount >>> 0, o + 20);
  writeBlocks(p.reports, buf, o + SSRC_SIZE + SENDER_INFO_SIZE);
  return size;
}

/** Parses the body of an RR whose header is `h`; throws `ParseError` when it is too short. */
export function readReceiverReport(buf: Buffer, h: RtcpHeader): ReceiverReport {
  const o = h.bodyStart;
  needBody(h, o, SSRC_SIZE, 'reporter SSRC');
  return { type: 'rr', ssrc: buf.readUInt32BE(o), reports: readBlocks(buf, h, o + SSRC_SIZE) };
}

/** Size in bytes of `p` on the wire, header included. */
export function receiverReportSize(p: ReceiverReport): number {
  return RTCP_HEADER_SIZE + SSRC_SIZE + p.reports.length * REPORT_BLOCK_SIZE;
}

/** Writes `p` at `offset` and returns the bytes written; `BadRequestError` for over 31 blocks. */
export function writeReceiverReport(p: ReceiverReport, buf: Buffer, offset: number): number {
  checkBlockCount(p.reports);
  const size = receiverReportSize(p);
  const o = offset + writeRtcpHeader(buf, offset, p.reports.length, RtcpPacketType.RR, size);
  buf.writeUInt32BE(p.ssrc >>> 0, o);
  writeBlocks(p.reports, buf, o + SSRC_SIZE);
  return size;
}
