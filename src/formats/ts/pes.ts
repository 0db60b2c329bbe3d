/**
 * The PES packet header (ISO/IEC 13818-1 2.4.3.6-7) with its 33-bit PTS and DTS, parsing and
 * building. Only stream ids with the optional header (audio, video, private_stream_1) are handled.
 *
 *   packet_start_code_prefix (24) = 0x000001 | stream_id (8) | PES_packet_length (16)
 *   '10' (2) | PES_scrambling_control (2) | PES_priority (1) | data_alignment_indicator (1)
 *   copyright (1) | original_or_copy (1)
 *   PTS_DTS_flags (2) | ESCR_flag (1) | ES_rate_flag (1) | DSM_trick_mode_flag (1)
 *   additional_copy_info_flag (1) | PES_CRC_flag (1) | PES_extension_flag (1)
 *   PES_header_data_length (8)
 *   [PTS: '0010' or '0011' (4) | PTS[32..30] (3) | '1' | PTS[29..15] (15) | '1' | PTS[14..0] (15) | '1']
 *   [DTS: '0001' (4) | DTS[32..30] (3) | '1' | DTS[29..15] (15) | '1' | DTS[14..0] (15) | '1']
 *   ... stuffing | PES_packet_data_byte ...
 */
import { ParseError } from '../../core/errors.ts';

const WHAT = 'PES';
/** Bytes up to and including PES_header_data_length. */
export const PES_HEADER_MIN_SIZE = 9;
/** Bytes before the PES_packet_length count starts. */
export const PES_LENGTH_BASE = 6;
const TIMESTAMP_SIZE = 5;
const MARKER_BITS = 0x80;
const MARKER_MASK = 0xc0;
const SCRAMBLING_MASK = 0x30;
const DATA_ALIGNMENT = 0x04;
const PTS_DTS_SHIFT = 6;
const PTS_ONLY = 0b10;
const PTS_AND_DTS = 0b11;
const PTS_PREFIX = 0x20;
const PTS_WITH_DTS_PREFIX = 0x30;
const DTS_PREFIX = 0x10;
const MARKER = 0x01;
/** PES_packet_length is 16 bits; 0 means "unbounded", allowed for video only. */
export const MAX_PES_PACKET_LENGTH = 0xffff;

/** stream_id values (Table 2-22). */
export const StreamId = {
  PRIVATE_1: 0xbd,
  /** First MPEG audio stream id (0xC0..0xDF). */
  AUDIO: 0xc0,
  /** First MPEG video stream id (0xE0..0xEF). */
  VIDEO: 0xe0,
} as const;
const AUDIO_LAST = 0xdf;
const VIDEO_LAST = 0xef;

/** A parsed PES header. Times are raw 33-bit values in 90 kHz units. */
export interface PesHeader {
  streamId: number;
  /** PES_packet_length: bytes after this field; 0 = until the next PES on the PID. */
  packetLength: number;
  pts?: number;
  dts?: number;
  /** Bytes from the start code to the first payload byte. */
  headerSize: number;
}

/** True for stream ids that carry the optional PES header. */
function hasOptionalHeader(streamId: number): boolean {
  return (
    streamId === StreamId.PRIVATE_1 ||
    (streamId >= StreamId.AUDIO && streamId <= AUDIO_LAST) ||
    (streamId >= StreamId.VIDEO && streamId <= VIDEO_LAST)
  );
}

/** Reads a 33-bit time from the 5 bytes at `o` (checked by the caller). */
function readTimestamp(buf: Buffer, o: number): number {
  const high = (buf[o] >> 1) & 0x07;
  const mid = (buf.readUInt16BE(o + 1) >> 1) & 0x7fff;
  const low = (buf.readUInt16BE(o + 3) >> 1) & 0x7fff;
  return high * 2 ** 30 + mid * 2 ** 15 + low;
}

/**
 * Parses the PES header at the start of `buf`. Throws `ParseError` when it is short, has no start
 * code, a stream id without the optional header, scrambling, or a header length that overruns.
 */
export function parsePesHeader(buf: Buffer): PesHeader {
  ParseError.need(WHAT, buf, 0, PES_HEADER_MIN_SIZE, 'header');
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 1) throw new ParseError(WHAT, 'no packet_start_code_prefix');
  const streamId = buf[3];
  if (!hasOptionalHeader(streamId))
    throw new ParseError(WHAT, `stream_id 0x${streamId.toString(16)} not supported`, 3);
  if ((buf[6] & MARKER_MASK) !== MARKER_BITS)
    throw new ParseError(WHAT, "optional header does not start with '10'", 6);
  if (buf[6] & SCRAMBLING_MASK) throw new ParseError(WHAT, 'scrambled', 6);
  const headerSize = PES_HEADER_MIN_SIZE + buf[8];
  ParseError.need(WHAT, buf, PES_HEADER_MIN_SIZE, buf[8], 'header data');
  const header: PesHeader = { streamId, packetLength: buf.readUInt16BE(4), headerSize };
  if (header.packetLength !== 0 && header.packetLength < headerSize - PES_LENGTH_BASE) {
    throw new ParseError(WHAT, `PES_packet_length ${header.packetLength} shorter than its header`, 4);
  }
  const flags = buf[7] >> PTS_DTS_SHIFT;
  let o = PES_HEADER_MIN_SIZE;
  if (flags === PTS_ONLY || flags === PTS_AND_DTS) {
    if (buf[8] < TIMESTAMP_SIZE) throw new ParseError(WHAT, 'PTS does not fit the header', 8);
    header.pts = readTimestamp(buf, o);
    o += TIMESTAMP_SIZE;
    if (flags === PTS_AND_DTS) {
      if (buf[8] < 2 * TIMESTAMP_SIZE) throw new ParseError(WHAT, 'DTS does not fit the header', 8);
      header.dts = readTimestamp(buf, o);
    }
  }
  return header;
}

/** Writes a 33-bit time (taken modulo 2^33) with its 4-bit prefix into 5 bytes at `o`. */
function writeTimestamp(out: Buffer, o: number, prefix: number, t: number): void {
  const v = ((Math.round(t) % 2 ** 33) + 2 ** 33) % 2 ** 33;
  const high = Math.floor(v / 2 ** 30);
  const mid = Math.floor(v / 2 ** 15) & 0x7fff;
  const low = v & 0x7fff;
  out[o] = prefix | (high << 1) | MARKER;
  out.writeUInt16BE((mid << 1) | MARKER, o + 1);
  out.writeUInt16BE((low << 1) | MARKER, o + 3);
}

/**
 * A PES header for `payloadLength` bytes with a PTS (and a DTS when it differs), in 90 kHz units.
 * PES_packet_length is 0 when the packet would exceed 65535 bytes (allowed for video only).
 */
export function buildPesHeader(streamId: number, payloadLength: number, pts: number, dts?: number): Buffer {
  const withDts = dts !== undefined && dts !== pts;
  const dataLength = withDts ? 2 * TIMESTAMP_SIZE : TIMESTAMP_SIZE;
  const out = Buffer.alloc(PES_HEADER_MIN_SIZE + dataLength);
  out[2] = 1;
  out[3] = streamId;
  const packetLength = PES_HEADER_MIN_SIZE - PES_LENGTH_BASE + dataLength + payloadLength;
  out.writeUInt16BE(packetLength > MAX_PES_PACKET_LENGTH ? 0 : packetLength, 4);
  out[6] = MARKER_BITS | DATA_ALIGNMENT;
  out[7] = (withDts ? PTS_AND_DTS : PTS_ONLY) << PTS_DTS_SHIFT;
  out[8] = dataLength;
  writeTimestamp(out, PES_HEADER_MIN_SIZE, withDts ? PTS_WITH_DTS_PREFIX : PTS_PREFIX, pts);
  if (withDts) writeTimestamp(out, PES_HEADER_MIN_SIZE + TIMESTAMP_SIZE, DTS_PREFIX, dts);
  return out;
}
