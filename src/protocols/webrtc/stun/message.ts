/**
 * STUN messages (RFC 8489 §5, §14): parse, typed attribute access, serialize with optional
 * MESSAGE-INTEGRITY and FINGERPRINT.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Magic Cookie                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Transaction ID (96 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Type                  |            Length             |   attributes, each padded
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   to 4 bytes; the padding
 * |                         Value (variable)                ....      is not counted in Length
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { randomBytes } from 'node:crypto';
import { BadRequestError, ParseError } from '../../../core/errors.ts';
import type { TransportAddress } from './address.ts';
import {
  decodeAddress,
  decodeErrorCode,
  decodeUint32,
  decodeUint64,
  type StunErrorValue,
} from './attributes.ts';
import {
  ATTRIBUTE_HEADER_SIZE,
  HEADER_SIZE,
  MAGIC_COOKIE,
  MAX_MESSAGE_LENGTH,
  MAX_USERNAME_SIZE,
  messageType,
  PADDING,
  StunAttr,
  type StunClass,
  splitMessageType,
  TRANSACTION_ID_SIZE,
} from './constants.ts';
import { appendFingerprint, appendMessageIntegrity, type IntegrityKey } from './integrity.ts';

const WHAT = 'stun';
const TYPE_OFFSET = 0;
const LENGTH_OFFSET = 2;
const COOKIE_OFFSET = 4;
const TID_OFFSET = 8;
const TOP_BITS_MASK = 0xc0; // the first two bits of a STUN message are zero
const MAX_STUN_FIRST_BYTE = 3; // RFC 7983 §7: 0..3 is STUN

/** One attribute: its type and value (without padding). */
export interface StunAttribute {
  type: number;
  /** From `parse()`: a view into the parsed buffer. */
  value: Buffer;
}

/** Options for `StunMessage.serialize()`. */
export interface StunSerializeOptions {
  /** Appends MESSAGE-INTEGRITY with this key (ICE: the password of the agent being answered). */
  integrityKey?: IntegrityKey;
  /** Appends FINGERPRINT (required by ICE). Default false. */
  fingerprint?: boolean;
}

/**
 * RFC 7983 demultiplexing: a packet whose first byte is 0..3 is STUN. Also checks the header size
 * and the magic cookie, so RFC 3489 messages and junk are rejected here.
 */
export function isStun(buf: Uint8Array): boolean {
  return (
    buf.length >= HEADER_SIZE &&
    buf[0] <= MAX_STUN_FIRST_BYTE &&
    ((buf[COOKIE_OFFSET] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0 === MAGIC_COOKIE
  );
}

export class StunMessage {
  /** 14-bit message type (method and class). */
  type: number;
  /** 12 bytes. */
  transactionId: Buffer;
  attributes: StunAttribute[];
  /** Set by `parse()`: the message's bytes, a view into the input (needed to verify integrity). */
  raw?: Buffer;

  constructor(
    type: number,
    transactionId: Uint8Array = randomBytes(TRANSACTION_ID_SIZE),
    attributes: StunAttribute[] = [],
  ) {
    if (transactionId.length !== TRANSACTION_ID_SIZE) {
      throw new BadRequestError(
        `stun: transaction id must be ${TRANSACTION_ID_SIZE} bytes, got ${transactionId.length}`,
      );
    }
    this.type = type & 0x3fff;
    this.transactionId = Buffer.from(transactionId);
    this.attributes = attributes;
  }

  /** A message of `method` and `cls`; a random transaction id unless one is given. */
  static create(method: number, cls: StunClass, transactionId?: Uint8Array): StunMessage {
    return new StunMessage(messageType(method, cls), transactionId);
  }

  /**
   * Parses one message from the start of `buf`; bytes after its length are ignored. Attribute
   * values and `raw` are views into `buf`. Attributes after MESSAGE-INTEGRITY other than
   * FINGERPRINT, and anything after FINGERPRINT, are dropped as RFC 8489 §14.5 and §14.7 require,
   * so they cannot pass as authenticated.
   */
  static parse(input: Uint8Array): StunMessage {
    const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
    ParseError.need(WHAT, buf, 0, HEADER_SIZE, 'header');
    if (buf[0] & TOP_BITS_MASK) throw new ParseError(WHAT, `first two bits must be zero, byte is ${buf[0]}`);
    const cookie = buf.readUInt32BE(COOKIE_OFFSET);
    if (cookie !== MAGIC_COOKIE) {
      throw new ParseError(WHAT, `bad magic cookie 0x${cookie.toString(16)}`, COOKIE_OFFSET);
    }
    const length = buf.readUInt16BE(LENGTH_OFFSET);
    if (length % PADDING !== 0)
      throw new ParseError(WHAT, `length ${length} is not a multiple of 4`, LENGTH_OFFSET);
    ParseError.need(WHAT, buf, HEADER_SIZE, length, 'body');
    const end = HEADER_SIZE + length;
    const msg = new StunMessage(buf.readUInt16BE(TYPE_OFFSET), buf.subarray(TID_OFFSET, HEADER_SIZE));
    msg.raw = buf.subarray(0, end);
    let offset = HEADER_SIZE;
    let sawIntegrity = false;
    let sawFingerprint = false;
    while (offset < end) {
      ParseError.need(WHAT, msg.raw, offset, ATTRIBUTE_HEADER_SIZE, 'attribute header');
      const type = buf.readUInt16BE(offset);
      const size = buf.readUInt16BE(offset + 2);
      const valueAt = offset + ATTRIBUTE_HEADER_SIZE;
      ParseError.need(WHAT, msg.raw, valueAt, padded(size), `attribute 0x${type.toString(16)}`);
      if (
        !sawFingerprint &&
        (!sawIntegrity || type === StunAttr.Fingerprint || type === StunAttr.MessageIntegritySha256)
      ) {
        msg.attributes.push({ type, value: buf.subarray(valueAt, valueAt + size) });
      }
      if (type === StunAttr.MessageIntegrity) sawIntegrity = true;
      if (type === StunAttr.Fingerprint) sawFingerprint = true;
      offset = valueAt + padded(size);
    }
    return msg;
  }

  get method(): number {
    return splitMessageType(this.type).method;
  }

  get cls(): StunClass {
    return splitMessageType(this.type).cls;
  }

  /** The first value of attribute `type`. */
  get(type: number): Buffer | undefined {
    return this.attributes.find((a) => a.type === type)?.value;
  }

  has(type: number): boolean {
    return this.attributes.some((a) => a.type === type);
  }

  /** Appends an attribute (the value is not copied). */
  add(type: number, value: Uint8Array = Buffer.alloc(0)): this {
    if (value.length > MAX_MESSAGE_LENGTH)
      throw new BadRequestError(`stun: attribute of ${value.length} bytes`);
    this.attributes.push({ type: type & 0xffff, value: Buffer.isBuffer(value) ? value : Buffer.from(value) });
    return this;
  }

  /** Appends a UTF-8 text attribute (USERNAME, SOFTWARE, REALM, NONCE). */
  addText(type: number, text: string): this {
    const value = Buffer.from(text, 'utf8');
    if (type === StunAttr.Username && value.length > MAX_USERNAME_SIZE) {
      throw new BadRequestError(`stun: USERNAME of ${value.length} bytes, limit ${MAX_USERNAME_SIZE}`);
    }
    return this.add(type, value);
  }

  /** UTF-8 text of attribute `type`, e.g. USERNAME. */
  text(type: number): string | undefined {
    return this.get(type)?.toString('utf8');
  }

  /** USERNAME as text (ICE: `<receiver ufrag>:<sender ufrag>`). */
  get username(): string | undefined {
    return this.text(StunAttr.Username);
  }

  /** XOR-MAPPED-ADDRESS, decoded. Throws ParseError if malformed. */
  get xorMappedAddress(): TransportAddress | undefined {
    const v = this.get(StunAttr.XorMappedAddress);
    return v && decodeAddress(v, this.transactionId);
  }

  /** MAPPED-ADDRESS, decoded. Throws ParseError if malformed. */
  get mappedAddress(): TransportAddress | undefined {
    const v = this.get(StunAttr.MappedAddress);
    return v && decodeAddress(v);
  }

  /** ERROR-CODE, decoded. Throws ParseError if malformed. */
  get errorCode(): StunErrorValue | undefined {
    const v = this.get(StunAttr.ErrorCode);
    return v && decodeErrorCode(v);
  }

  /** PRIORITY (RFC 8445 §7.1.1). Throws ParseError if malformed. */
  get priority(): number | undefined {
    const v = this.get(StunAttr.Priority);
    return v && decodeUint32(v);
  }

  /** USE-CANDIDATE is present (RFC 8445 §7.1.2). */
  get useCandidate(): boolean {
    return this.has(StunAttr.UseCandidate);
  }

  /** ICE-CONTROLLING tie-breaker, when the sender is controlling. */
  get iceControlling(): bigint | undefined {
    const v = this.get(StunAttr.IceControlling);
    return v && decodeUint64(v, 'stun ICE-CONTROLLING');
  }

  /** ICE-CONTROLLED tie-breaker, when the sender is controlled. */
  get iceControlled(): bigint | undefined {
    const v = this.get(StunAttr.IceControlled);
    return v && decodeUint64(v, 'stun ICE-CONTROLLED');
  }

  /** Serialized size in bytes, without MESSAGE-INTEGRITY or FINGERPRINT. */
  size(): number {
    let n = HEADER_SIZE;
    for (const a of this.attributes) n += ATTRIBUTE_HEADER_SIZE + padded(a.value.length);
    return n;
  }

  /** Writes the message (no integrity, no fingerprint) at `offset`; returns the bytes written. */
  writeTo(buf: Buffer, offset = 0): number {
    const size = this.size();
    if (size - HEADER_SIZE > MAX_MESSAGE_LENGTH)
      throw new BadRequestError(`stun: message of ${size} bytes is too long`);
    if (offset < 0 || offset + size > buf.length) {
      throw new BadRequestError(`stun: ${size} bytes do not fit at offset ${offset} of ${buf.length}`);
    }
    buf.writeUInt16BE(this.type, offset + TYPE_OFFSET);
    buf.writeUInt16BE(size - HEADER_SIZE, offset + LENGTH_OFFSET);
    buf.writeUInt32BE(MAGIC_COOKIE, offset + COOKIE_OFFSET);
    this.transactionId.copy(buf, offset + TID_OFFSET);
    let at = offset + HEADER_SIZE;
    for (const a of this.attributes) {
      buf.writeUInt16BE(a.type, at);
      buf.writeUInt16BE(a.value.length, at + 2);
      a.value.copy(buf, at + ATTRIBUTE_HEADER_SIZE);
      const pad = padded(a.value.length);
      buf.fill(0, at + ATTRIBUTE_HEADER_SIZE + a.value.length, at + ATTRIBUTE_HEADER_SIZE + pad);
      at += ATTRIBUTE_HEADER_SIZE + pad;
    }
    return size;
  }

  /** The message as bytes, with MESSAGE-INTEGRITY and FINGERPRINT appended when asked. */
  serialize(options: StunSerializeOptions = {}): Buffer {
    let out: Buffer = Buffer.alloc(this.size());
    this.writeTo(out, 0);
    if (options.integrityKey !== undefined) out = appendMessageIntegrity(out, options.integrityKey);
    if (options.fingerprint) out = appendFingerprint(out);
    return out;
  }
}

function padded(length: number): number {
  return Math.ceil(length / PADDING) * PADDING;
}
