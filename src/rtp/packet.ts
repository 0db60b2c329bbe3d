/**
 * RTP data packets (RFC 3550 §5.1, header extension §5.3.1). Parsing returns views into the input;
 * writing never allocates except in `serializeRtp()`.
 */
import { BadRequestError, ParseError } from '../core/errors.ts';
import { ensureRoom } from './bytes.ts';

/** Size of the fixed RTP header in bytes. */
export const RTP_HEADER_SIZE = 12;
/** The only RTP version in use (RFC 3550). */
export const RTP_VERSION = 2;
/** Largest CSRC count the 4-bit CC field can carry. */
export const RTP_MAX_CSRC = 15;

const WHAT = 'RTP packet';
const VERSION_SHIFT = 6;
const PADDING_BIT = 0x20;
const EXTENSION_BIT = 0x10;
const CSRC_COUNT_MASK = 0x0f;
const MARKER_BIT = 0x80;
const PAYLOAD_TYPE_MASK = 0x7f;
const SEQUENCE_OFFSET = 2;
const TIMESTAMP_OFFSET = 4;
const SSRC_OFFSET = 8;
const CSRC_SIZE = 4;
const EXTENSION_HEADER_SIZE = 4;
const WORD = 4;
const MAX_EXTENSION_WORDS = 0xffff;

/** The raw header extension block of RFC 3550 §5.3.1; see `extensions.ts` for RFC 8285 elements. */
export interface RtpExtensionBlock {
  /** The 16-bit "defined by profile" field: 0xBEDE (one-byte), 0x100X (two-byte) or anything else. */
  profile: number;
  /** The extension data after the 4-byte extension header; its length is a multiple of 4. */
  data: Buffer;
}

/** One RTP packet. Numbers are the unsigned wire values. */
export interface RtpPacket {
  /** Always 2 on packets from `parseRtp()`; written as given (low 2 bits). */
  version: number;
  /**
   * The P bit. The padding bytes are not part of `payload`; `writeRtp()` pads to the next multiple
   * of 4 bytes (1 to 4 bytes), so the original padding length is not preserved.
   */
  padding: boolean;
  /** The M bit: end of a video frame, start of a talkspurt (profile-defined). */
  marker: boolean;
  /** 7-bit payload type. */
  payloadType: number;
  /** 16-bit sequence number. */
  sequenceNumber: number;
  /** 32-bit RTP timestamp in clock-rate units. */
  timestamp: number;
  /** 32-bit synchronization source. */
  ssrc: number;
  /** Contributing sources, at most 15. */
  csrc: number[];
  /** Present when the X bit is set. */
  extension?: RtpExtensionBlock;
  /** The payload without padding; from `parseRtp()` a view (subarray) aliasing the input. */
  payload: Buffer;
}

/* RFC 3550 §5.1 fixed header, followed by the optional extension of §5.3.1:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        header extension                       |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 payload ...   | padding ...   | padding count |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The extension length counts 32-bit words after its 4-byte header; the padding count (last byte)
 * includes itself.
 */

/**
 * Parses one RTP packet that fills `buf` exactly. `payload` and `extension.data` are views into
 * `buf`; the input is never modified. Throws `ParseError` on a bad version or when the CSRC list,
 * extension or padding does not fit.
 */
export function parseRtp(buf: Buffer): RtpPacket {
  ParseError.need(WHAT, buf, 0, RTP_HEADER_SIZE, 'fixed header');
  const b0 = buf[0];
  const b1 = buf[1];
  const version = b0 >> VERSION_SHIFT;
  if (version !== RTP_VERSION) throw new ParseError(WHAT, `version ${version}, want ${RTP_VERSION}`);
  const csrcCount = b0 & CSRC_COUNT_MASK;

  let offset = RTP_HEADER_SIZE;
  ParseError.need(WHAT, buf, offset, csrcCount * CSRC_SIZE, `CSRC list of ${csrcCount}`);
  const csrc: number[] = new Array(csrcCount);
  for (let i = 0; i < csrcCount; i++, offset += CSRC_SIZE) csrc[i] = buf.readUInt32BE(offset);

  let extension: RtpExtensionBlock | undefined;
  if (b0 & EXTENSION_BIT) {
    ParseError.need(WHAT, buf, offset, EXTENSION_HEADER_SIZE, 'extension header');
    const profile = buf.readUInt16BE(offset);
    const length = buf.readUInt16BE(offset + 2) * WORD;
    offset += EXTENSION_HEADER_SIZE;
    ParseError.need(WHAT, buf, offset, length, 'extension data');
    extension = { profile, data: buf.subarray(offset, offset + length) };
    offset += length;
  }

  let end = buf.length;
  const padding = (b0 & PADDING_BIT) !== 0;
  if (padding) {
    ParseError.need(WHAT, buf, offset, 1, 'padding count');
    const count = buf[end - 1];
    if (count === 0 || count > end - offset) {
      throw new ParseError(
        WHAT,
        `padding count ${count} with ${end - offset} bytes after the header`,
        end - 1,
      );
    }
    end -= count;
  }

  const packet: RtpPacket = {
    version,
    padding,
    marker: (b1 & MARKER_BIT) !== 0,
    payloadType: b1 & PAYLOAD_TYPE_MASK,
    sequenceNumber: buf.readUInt16BE(SEQUENCE_OFFSET),
    timestamp: buf.readUInt32BE(TIMESTAMP_OFFSET),
    ssrc: buf.readUInt32BE(SSRC_OFFSET),
    csrc,
    payload: buf.subarray(offset, end),
  };
  if (extension) packet.extension = extension;
  return packet;
}

/** Bytes before the payload: fixed header, CSRC list and extension block. */
function headerSize(p: RtpPacket): number {
  return (
    RTP_HEADER_SIZE +
    p.csrc.length * CSRC_SIZE +
    (p.extension ? EXTENSION_HEADER_SIZE + p.extension.data.length : 0)
  );
}

/** Padding `writeRtp()` appends when `p.padding` is set: up to the next multiple of 4, 1 to 4 bytes. */
function paddingSize(p: RtpPacket, unpadded: number): number {
  return p.padding ? WORD - (unpadded % WORD) : 0;
}

/** Size in bytes of `p` as `writeRtp()` writes it, padding included. */
export function rtpSize(p: RtpPacket): number {
  const unpadded = headerSize(p) + p.payload.length;
  return unpadded + paddingSize(p, unpadded);
}

/**
 * Writes `p` into `buf` at `offset` and returns the bytes written (`rtpSize(p)`). Throws
 * `BadRequestError` when `buf` is too small, there are more than 15 CSRCs, or the extension data
 * is not a multiple of 4 bytes.
 */
export function writeRtp(p: RtpPacket, buf: Buffer, offset: number): number {
  if (p.csrc.length > RTP_MAX_CSRC) throw new BadRequestError(`${WHAT}: ${p.csrc.length} CSRCs, at most 15`);
  const ext = p.extension;
  if (ext && (ext.data.length % WORD !== 0 || ext.data.length > MAX_EXTENSION_WORDS * WORD)) {
    throw new BadRequestError(`${WHAT}: extension data of ${ext.data.length} bytes is not a word count`);
  }
  const size = rtpSize(p);
  ensureRoom(WHAT, buf, offset, size);
  const start = offset;
  buf[offset] =
    ((p.version & 0x03) << VERSION_SHIFT) |
    (p.padding ? PADDING_BIT : 0) |
    (ext ? EXTENSION_BIT : 0) |
    p.csrc.length;
  buf[offset + 1] = (p.marker ? MARKER_BIT : 0) | (p.payloadType & PAYLOAD_TYPE_MASK);
  buf.writeUInt16BE(p.sequenceNumber & 0xffff, offset + SEQUENCE_OFFSET);
  buf.writeUInt32BE(p.timestamp >>> 0, offset + TIMESTAMP_OFFSET);
  buf.writeUInt32BE(p.ssrc >>> 0, offset + SSRC_OFFSET);
  offset += RTP_HEADER_SIZE;
  for (const c of p.csrc) {
    buf.writeUInt32BE(c >>> 0, offset);
    offset += CSRC_SIZE;
  }
  if (ext) {
    buf.writeUInt16BE(ext.profile & 0xffff, offset);
    buf.writeUInt16BE(ext.data.length / WORD, offset + 2);
    offset += EXTENSION_HEADER_SIZE;
    offset += ext.data.copy(buf, offset);
  }
  offset += p.payload.copy(buf, offset);
  const pad = start + size - offset;
  if (pad > 0) {
    buf.fill(0, offset, offset + pad - 1);
    buf[offset + pad - 1] = pad;
  }
  return size;
}

/** Serializes `p` into a new buffer of `rtpSize(p)` bytes. */
export function serializeRtp(p: RtpPacket): Buffer {
  const buf = Buffer.allocUnsafe(rtpSize(p));
  writeRtp(p, buf, 0);
  return buf;
}

/** The fields of a plain 12-byte header (no CSRC, extension or padding) for `writeRtpHeader()`. */
export interface RtpHeaderFields {
  marker: boolean;
  /** 7-bit payload type. */
  payloadType: number;
  /** Sequence number; only the low 16 bits are written. */
  sequenceNumber: number;
  /** RTP timestamp in clock units; only the low 32 bits are written, so unwrapped values are fine. */
  timestamp: number;
  ssrc: number;
}

/**
 * The hot path: writes a 12-byte version-2 header without CSRC, extension or padding at `offset`
 * and returns 12. No allocation; throws `BadRequestError` when `buf` is too small.
 */
export function writeRtpHeader(buf: Buffer, offset: number, fields: RtpHeaderFields): number {
  ensureRoom(WHAT, buf, offset, RTP_HEADER_SIZE);
  buf[offset] = RTP_VERSION << VERSION_SHIFT;
  buf[offset + 1] = (fields.marker ? MARKER_BIT : 0) | (fields.payloadType & PAYLOAD_TYPE_MASK);
  buf.writeUInt16BE(fields.sequenceNumber & 0xffff, offset + SEQUENCE_OFFSET);
  buf.writeUInt32BE(fields.timestamp >>> 0, offset + TIMESTAMP_OFFSET);
  buf.writeUInt32BE(fields.ssrc >>> 0, offset + SSRC_OFFSET);
  return RTP_HEADER_SIZE;
}
