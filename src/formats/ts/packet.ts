/**
 * The 188-byte MPEG-TS packet (ISO/IEC 13818-1 2.4.3.2) and its adaptation field (2.4.3.4):
 * parsing one packet and writing a payload as a run of packets.
 *
 *   sync_byte (8) = 0x47
 *   transport_error_indicator (1) | payload_unit_start_indicator (1) | transport_priority (1) | PID (13)
 *   transport_scrambling_control (2) | adaptation_field_control (2) | continuity_counter (4)
 *   [adaptation_field] [payload]
 *
 *   adaptation_field_length (8)
 *   discontinuity_indicator (1) | random_access_indicator (1) | ES_priority_indicator (1)
 *   PCR_flag (1) | OPCR_flag (1) | splicing_point_flag (1) | private_data_flag (1) | extension_flag (1)
 *   [program_clock_reference_base (33) | reserved (6) | program_clock_reference_extension (9)]
 *   ... stuffing_byte (0xFF) ...
 */
import { ParseError } from '../../core/errors.ts';

const WHAT = 'TS packet';
/** Bytes of a transport stream packet. */
export const TS_PACKET_SIZE = 188;
/** The first byte of every packet. */
export const TS_SYNC_BYTE = 0x47;
const HEADER_SIZE = 4;
/** Payload bytes of a packet without adaptation field. */
export const TS_MAX_PAYLOAD = TS_PACKET_SIZE - HEADER_SIZE;
/** The PID of null packets (padding). */
export const NULL_PID = 0x1fff;

const TEI = 0x80;
const PUSI = 0x40;
const PID_HIGH_MASK = 0x1f;
const SCRAMBLING_MASK = 0xc0;
const AFC_SHIFT = 4;
const AFC_MASK = 0x03;
const AFC_PAYLOAD = 0x01;
const AFC_ADAPTATION = 0x02;
const CC_MASK = 0x0f;
const AF_DISCONTINUITY = 0x80;
const AF_RANDOM_ACCESS = 0x40;
const AF_PCR = 0x10;
const AF_FLAGS_SIZE = 1;
const PCR_SIZE = 6;
/** The most adaptation_field_length can say: the whole packet after the header. */
const MAX_AF_LENGTH = TS_MAX_PAYLOAD - 1;
const STUFFING = 0xff;
/** PCR reserved bits between base and extension. */
const PCR_RESERVED = 0x7e;

/** The header fields of one packet; payload offsets are absolute in the parsed buffer. */
export interface TsPacket {
  pid: number;
  /** payload_unit_start_indicator: a PES or PSI section starts in this packet. */
  unitStart: boolean;
  /** transport_error_indicator: the packet is known to be damaged. */
  transportError: boolean;
  /** transport_scrambling_control is not 0. */
  scrambled: boolean;
  /** The packet carries a payload (and so counts for the continuity counter). */
  hasPayload: boolean;
  continuityCounter: number;
  /** discontinuity_indicator of the adaptation field. */
  discontinuity: boolean;
  /** random_access_indicator of the adaptation field. */
  randomAccess: boolean;
  /** PCR base in 90 kHz units, when present. */
  pcr?: number;
  /** Offset of the first payload byte. */
  payloadStart: number;
  /** Offset just past the packet. */
  payloadEnd: number;
}

/**
 * Parses the packet at `offset`. Throws `ParseError` when fewer than 188 bytes are left, on a bad
 * sync byte and on an adaptation field that does not fit.
 */
export function parseTsPacket(buf: Buffer, offset: number): TsPacket {
  ParseError.need(WHAT, buf, offset, TS_PACKET_SIZE, 'packet');
  if (buf[offset] !== TS_SYNC_BYTE)
    throw new ParseError(WHAT, `sync byte is 0x${buf[offset].toString(16)}`, offset);
  const b1 = buf[offset + 1];
  const b3 = buf[offset + 3];
  const afc = (b3 >> AFC_SHIFT) & AFC_MASK;
  const packet: TsPacket = {
    pid: ((b1 & PID_HIGH_MASK) << 8) | buf[offset + 2],
    unitStart: (b1 & PUSI) !== 0,
    transportError: (b1 & TEI) !== 0,
    scrambled: (b3 & SCRAMBLING_MASK) !== 0,
    hasPayload: (afc & AFC_PAYLOAD) !== 0,
    continuityCounter: b3 & CC_MASK,
    discontinuity: false,
    randomAccess: false,
    payloadStart: offset + HEADER_SIZE,
    payloadEnd: offset + TS_PACKET_SIZE,
  };
  if (afc & AFC_ADAPTATION) {
    const at = offset + HEADER_SIZE;
    const length = buf[at];
    // 2.4.3.5 allows 182 with a payload; 183 there just leaves the payload empty.
    if (length > MAX_AF_LENGTH) {
      throw new ParseError(WHAT, `adaptation_field_length ${length} exceeds ${MAX_AF_LENGTH}`, at);
    }
    if (length >= AF_FLAGS_SIZE) {
      const flags = buf[at + 1];
      packet.discontinuity = (flags & AF_DISCONTINUITY) !== 0;
      packet.randomAccess = (flags & AF_RANDOM_ACCESS) !== 0;
      if (flags & AF_PCR && length >= AF_FLAGS_SIZE + PCR_SIZE) packet.pcr = readPcrBase(buf, at + 2);
    }
    packet.payloadStart = at + 1 + length;
  }
  if (!packet.hasPayload) packet.payloadStart = packet.payloadEnd;
  return packet;
}

/** The 33-bit PCR base at `at` (6 bytes are there, checked by the caller). */
function readPcrBase(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 2 + (buf[at + 4] >> 7);
}

/** Options of `packetize`. */
export interface PacketizeOptions {
  /** PCR base to put in the first packet's adaptation field, in 90 kHz units. */
  pcr?: number;
  /** Set random_access_indicator in the first packet (a keyframe or an audio frame starts). */
  randomAccess?: boolean;
}

/**
 * Writes `payload` as packets of `pid`, the first with payload_unit_start_indicator, the last
 * filled up with adaptation-field stuffing. `cc` is the continuity counter of the first packet;
 * returns the packets and the counter for the next packet.
 */
export function packetize(
  pid: number,
  payload: Buffer,
  cc: number,
  options: PacketizeOptions = {},
): { data: Buffer; cc: number } {
  const headerExtra = options.pcr !== undefined ? 2 + PCR_SIZE : options.randomAccess ? 2 : 0;
  const count = Math.max(1, Math.ceil((payload.length + headerExtra) / TS_MAX_PAYLOAD));
  const out = Buffer.alloc(count * TS_PACKET_SIZE, STUFFING);
  let from = 0;
  for (let i = 0; i < count; i++) {
    const o = i * TS_PACKET_SIZE;
    out[o] = TS_SYNC_BYTE;
    out[o + 1] = (i === 0 ? PUSI : 0) | ((pid >> 8) & PID_HIGH_MASK);
    out[o + 2] = pid & 0xff;
    // Adaptation field: PCR and random access in the first packet, stuffing in the last.
    let flags = 0;
    let fields = 0;
    if (i === 0 && options.randomAccess) flags |= AF_RANDOM_ACCESS;
    if (i === 0 && options.pcr !== undefined) {
      flags |= AF_PCR;
      fields = PCR_SIZE;
    }
    const left = payload.length - from;
    let afLength = flags !== 0 ? AF_FLAGS_SIZE + fields : -1; // -1: no adaptation field
    const room = TS_MAX_PAYLOAD - (afLength < 0 ? 0 : 1 + afLength);
    if (left < room) afLength = Math.max(afLength, 0) + (room - left) - (afLength < 0 ? 1 : 0);
    const hasAf = afLength >= 0;
    out[o + 3] = (((hasAf ? AFC_ADAPTATION : 0) | AFC_PAYLOAD) << AFC_SHIFT) | (cc & CC_MASK);
    let at = o + HEADER_SIZE;
    if (hasAf) {
      out[at] = afLength;
      if (afLength > 0) {
        out[at + 1] = flags;
        if (flags & AF_PCR) writePcr(out, at + 2, options.pcr ?? 0);
      }
      at += 1 + afLength;
    }
    const n = o + TS_PACKET_SIZE - at;
    payload.copy(out, at, from, from + n);
    from += n;
    cc = (cc + 1) & CC_MASK;
  }
  return { data: out, cc };
}

/** Writes a PCR with `base` (90 kHz, taken modulo 2^33) and extension 0. */
function writePcr(out: Buffer, at: number, base: number): void {
  const b = ((base % 2 ** 33) + 2 ** 33) % 2 ** 33;
  out.writeUInt32BE(Math.floor(b / 2), at);
  out[at + 4] = ((b % 2) << 7) | PCR_RESERVED;
  out[at + 5] = 0;
}
