/**
 * The Data Channel Establishment Protocol (RFC 8832) and the WebRTC SCTP payload protocol
 * identifiers (RFC 8831 §8). Pure: buffers in, values out.
 *
 * DATA_CHANNEL_OPEN (RFC 8832 §5.1):
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Message Type |  Channel Type |            Priority           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Reliability Parameter                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Label Length          |       Protocol Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                             Label                             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            Protocol                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { ParseError } from '../../../core/errors.ts';

/** SCTP payload protocol identifiers of WebRTC (RFC 8831 §8). */
export const Ppid = {
  Dcep: 50,
  String: 51,
  Binary: 53,
  StringEmpty: 56,
  BinaryEmpty: 57,
} as const;

/** DCEP message types (RFC 8832 §8.2.1). */
export const DcepType = { Ack: 0x02, Open: 0x03 } as const;

/** Channel type bit: unordered delivery (RFC 8832 §5.1). */
export const CHANNEL_UNORDERED = 0x80;
const OPEN_HEADER_SIZE = 12;
const WHAT = 'dcep';

export interface DcepOpen {
  /** Channel type byte: reliability kind in the low bits, 0x80 = unordered. */
  channelType: number;
  priority: number;
  reliability: number;
  label: string;
  protocol: string;
}

/** Parses a DATA_CHANNEL_OPEN message. Throws ParseError if it is short or not an OPEN. */
export function parseOpen(buf: Buffer): DcepOpen {
  ParseError.need(WHAT, buf, 0, OPEN_HEADER_SIZE, 'DATA_CHANNEL_OPEN header');
  if (buf[0] !== DcepType.Open) throw new ParseError(WHAT, `message type ${buf[0]} is not DATA_CHANNEL_OPEN`);
  const labelLength = buf.readUInt16BE(8);
  const protocolLength = buf.readUInt16BE(10);
  ParseError.need(WHAT, buf, OPEN_HEADER_SIZE, labelLength + protocolLength, 'label and protocol');
  const labelEnd = OPEN_HEADER_SIZE + labelLength;
  return {
    channelType: buf[1],
    priority: buf.readUInt16BE(2),
    reliability: buf.readUInt32BE(4),
    label: buf.toString('utf8', OPEN_HEADER_SIZE, labelEnd),
    protocol: buf.toString('utf8', labelEnd, labelEnd + protocolLength),
  };
}

/** Serializes a DATA_CHANNEL_OPEN message. */
export function serializeOpen(open: DcepOpen): Buffer {
  const label = Buffer.from(open.label, 'utf8');
  const protocol = Buffer.from(open.protocol, 'utf8');
  const out = Buffer.alloc(OPEN_HEADER_SIZE + label.length + protocol.length);
  out[0] = DcepType.Open;
  out[1] = open.channelType;
  out.writeUInt16BE(open.priority, 2);
  out.writeUInt32BE(open.reliability, 4);
  out.writeUInt16BE(label.length, 8);
  out.writeUInt16BE(protocol.length, 10);
  label.copy(out, OPEN_HEADER_SIZE);
  protocol.copy(out, OPEN_HEADER_SIZE + label.length);
  return out;
}

/** The DATA_CHANNEL_ACK message. */
export function serializeAck(): Buffer {
  return Buffer.from([DcepType.Ack]);
}

/**
 * A user message as SCTP payload and PPID. Empty messages are sent as one zero byte with the
 * "empty" PPID (RFC 8831 §6.6), since SCTP cannot carry empty user data.
 */
export function encodeMessage(data: string | Uint8Array): { ppid: number; payload: Buffer } {
  if (typeof data === 'string') {
    return data.length === 0
      ? { ppid: Ppid.StringEmpty, payload: Buffer.alloc(1) }
      : { ppid: Ppid.String, payload: Buffer.from(data, 'utf8') };
  }
  if (data.length === 0) return { ppid: Ppid.BinaryEmpty, payload: Buffer.alloc(1) };
  return { ppid: Ppid.Binary, payload: Buffer.isBuffer(data) ? data : Buffer.from(data) };
}

/** A received user message, or undefined for a PPID that is not a WebRTC message. */
export function decodeMessage(ppid: number, payload: Buffer): string | Buffer | undefined {
  switch (ppid) {
    case Ppid.String:
      return payload.toString('utf8');
    case Ppid.StringEmpty:
      return '';
    case Ppid.Binary:
      return payload;
    case Ppid.BinaryEmpty:
      return Buffer.alloc(0);
    default:
      return undefined;
  }
}
