/**
 * Encoders and decoders for STUN attribute values (RFC 8489 §14, RFC 8445 §16.1). Decoders take the
 * value bytes (without the 4-byte attribute header and without padding) and throw `ParseError`.
 */
import { BadRequestError, ParseError } from '../../../core/errors.ts';
import { bytesToIp, ipToBytes, type TransportAddress } from './address.ts';
import { MAGIC_COOKIE, TRANSACTION_ID_SIZE } from './constants.ts';

const FAMILY_IPV4 = 0x01;
const FAMILY_IPV6 = 0x02;
const ADDRESS_HEADER_SIZE = 4; // reserved, family, port
const IPV4_SIZE = 4;
const IPV6_SIZE = 16;
const COOKIE_HIGH = MAGIC_COOKIE >>> 16;
const ERROR_HEADER_SIZE = 4; // reserved (21 bits), class (3 bits), number (8 bits)
const ERROR_CLASS_MASK = 0x07;
const MAX_REASON_SIZE = 763; // RFC 8489 §14.8: fewer than 128 characters, up to 763 bytes

/**
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0 0 0 0 0 0 0|    Family     |         X-Port                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                X-Address (32 bits or 128 bits)                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * MAPPED-ADDRESS (RFC 8489 §14.1) and, with `transactionId`, XOR-MAPPED-ADDRESS (§14.2): the port
 * is XORed with the cookie's high 16 bits, the address with the cookie (IPv4) or cookie || tid.
 */
export function decodeAddress(value: Uint8Array, transactionId?: Uint8Array): TransportAddress {
  const what = transactionId ? 'stun XOR-MAPPED-ADDRESS' : 'stun MAPPED-ADDRESS';
  ParseError.need(what, value, 0, ADDRESS_HEADER_SIZE, 'header');
  const family = value[1];
  const size = family === FAMILY_IPV4 ? IPV4_SIZE : family === FAMILY_IPV6 ? IPV6_SIZE : 0;
  if (size === 0) throw new ParseError(what, `unknown address family ${family}`, 1);
  ParseError.need(what, value, ADDRESS_HEADER_SIZE, size, 'address');
  let port = (value[2] << 8) | value[3];
  const ip = Buffer.from(value.subarray(ADDRESS_HEADER_SIZE, ADDRESS_HEADER_SIZE + size));
  if (transactionId) {
    port ^= COOKIE_HIGH;
    xorInPlace(ip, xorMask(transactionId));
  }
  return { family: family === FAMILY_IPV4 ? 4 : 6, address: bytesToIp(ip), port };
}

/** MAPPED-ADDRESS value, or XOR-MAPPED-ADDRESS with `transactionId`. */
export function encodeAddress(
  addr: Pick<TransportAddress, 'address' | 'port'>,
  transactionId?: Uint8Array,
): Buffer {
  const ip = ipToBytes(addr.address);
  if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > 0xffff) {
    throw new BadRequestError(`port out of range: ${addr.port}`);
  }
  const out = Buffer.alloc(ADDRESS_HEADER_SIZE + ip.length);
  out[1] = ip.length === IPV4_SIZE ? FAMILY_IPV4 : FAMILY_IPV6;
  out.writeUInt16BE(transactionId ? addr.port ^ COOKIE_HIGH : addr.port, 2);
  if (transactionId) xorInPlace(ip, xorMask(transactionId));
  ip.copy(out, ADDRESS_HEADER_SIZE);
  return out;
}

function xorMask(transactionId: Uint8Array): Buffer {
  if (transactionId.length !== TRANSACTION_ID_SIZE) {
    throw new BadRequestError(
      `transaction id must be ${TRANSACTION_ID_SIZE} bytes, got ${transactionId.length}`,
    );
  }
  const mask = Buffer.alloc(4 + TRANSACTION_ID_SIZE);
  mask.writeUInt32BE(MAGIC_COOKIE, 0);
  mask.set(transactionId, 4);
  return mask;
}

function xorInPlace(target: Buffer, mask: Buffer): void {
  for (let i = 0; i < target.length; i++) target[i] ^= mask[i];
}

/** An ERROR-CODE: `code` 300..699, `reason` UTF-8 text. */
export interface StunErrorValue {
  code: number;
  reason: string;
}

/**
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Reserved, should be 0         |Class|     Number    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Reason Phrase (variable)                                ..
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ERROR-CODE (RFC 8489 §14.8).
 */
export function decodeErrorCode(value: Uint8Array): StunErrorValue {
  ParseError.need('stun ERROR-CODE', value, 0, ERROR_HEADER_SIZE, 'header');
  const cls = value[2] & ERROR_CLASS_MASK;
  const number = value[3];
  if (cls < 3 || cls > 6 || number > 99) {
    throw new ParseError('stun ERROR-CODE', `invalid code class ${cls} number ${number}`, 2);
  }
  return {
    code: cls * 100 + number,
    reason: Buffer.from(value.subarray(ERROR_HEADER_SIZE)).toString('utf8'),
  };
}

export function encodeErrorCode(code: number, reason: string): Buffer {
  if (!Number.isInteger(code) || code < 300 || code > 699)
    throw new BadRequestError(`STUN error code out of range: ${code}`);
  const text = Buffer.from(reason, 'utf8').subarray(0, MAX_REASON_SIZE);
  const out = Buffer.alloc(ERROR_HEADER_SIZE + text.length);
  out[2] = Math.floor(code / 100);
  out[3] = code % 100;
  text.copy(out, ERROR_HEADER_SIZE);
  return out;
}

/** A 32-bit unsigned value (PRIORITY, RFC 8445 §16.1). */
export function decodeUint32(value: Uint8Array, what = 'stun PRIORITY'): number {
  if (value.length !== 4) throw new ParseError(what, `value must be 4 bytes, got ${value.length}`);
  return Buffer.from(value.buffer, value.byteOffset, 4).readUInt32BE(0);
}

export function encodeUint32(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new BadRequestError(`not a 32-bit unsigned value: ${n}`);
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n, 0);
  return out;
}

/** A 64-bit tie-breaker (ICE-CONTROLLED / ICE-CONTROLLING, RFC 8445 §16.1). */
export function decodeUint64(value: Uint8Array, what = 'stun ICE-CONTROL'): bigint {
  if (value.length !== 8) throw new ParseError(what, `value must be 8 bytes, got ${value.length}`);
  return Buffer.from(value.buffer, value.byteOffset, 8).readBigUInt64BE(0);
}

export function encodeUint64(n: bigint): Buffer {
  if (n < 0n || n > 0xffffffffffffffffn) throw new BadRequestError(`not a 64-bit unsigned value: ${n}`);
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(n, 0);
  return out;
}

/** UNKNOWN-ATTRIBUTES (RFC 8489 §14.9): a list of 16-bit types. */
export function decodeUnknownAttributes(value: Uint8Array): number[] {
  if (value.length % 2 !== 0) throw new ParseError('stun UNKNOWN-ATTRIBUTES', `odd length ${value.length}`);
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 2) out.push((value[i] << 8) | value[i + 1]);
  return out;
}

export function encodeUnknownAttributes(types: readonly number[]): Buffer {
  const out = Buffer.alloc(types.length * 2);
  for (let i = 0; i < types.length; i++) out.writeUInt16BE(types[i] & 0xffff, i * 2);
  return out;
}
