/**
 * MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) and FINGERPRINT (CRC-32, §14.7) on serialized
 * messages. Both cover the message up to the attribute, with the header length field set as if
 * the message ended right after the attribute; the input is never modified.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BadRequestError, ParseError } from '../../../core/errors.ts';
import {
  ATTRIBUTE_HEADER_SIZE,
  FINGERPRINT_SIZE,
  FINGERPRINT_XOR,
  HEADER_SIZE,
  MAX_MESSAGE_LENGTH,
  MESSAGE_INTEGRITY_SIZE,
  PADDING,
  StunAttr,
} from './constants.ts';
import { crc32 } from './crc32.ts';

const WHAT = 'stun';
const LENGTH_OFFSET = 2;
const MI_ATTRIBUTE_SIZE = ATTRIBUTE_HEADER_SIZE + MESSAGE_INTEGRITY_SIZE;
const FP_ATTRIBUTE_SIZE = ATTRIBUTE_HEADER_SIZE + FINGERPRINT_SIZE;

/** A MESSAGE-INTEGRITY key: a short-term password as UTF-8 (ICE), or `longTermKey()`. */
export type IntegrityKey = Uint8Array | string;

/**
 * The long-term credential key, MD5(username ":" realm ":" password) (RFC 8489 §9.2.2). The caller
 * applies OpaqueString/SASLprep to the password first if it is not ASCII.
 */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

/** Offset of the first attribute of `type` in a serialized message, or -1. */
export function findAttribute(msg: Uint8Array, type: number): number {
  ParseError.need(WHAT, msg, 0, HEADER_SIZE, 'header');
  const end = HEADER_SIZE + ((msg[LENGTH_OFFSET] << 8) | msg[LENGTH_OFFSET + 1]);
  ParseError.need(WHAT, msg, 0, end, 'message');
  let offset = HEADER_SIZE;
  while (offset < end) {
    ParseError.need(WHAT, msg, offset, ATTRIBUTE_HEADER_SIZE, 'attribute header');
    if (((msg[offset] << 8) | msg[offset + 1]) === type) return offset;
    const length = (msg[offset + 2] << 8) | msg[offset + 3];
    offset += ATTRIBUTE_HEADER_SIZE + padded(length);
  }
  return -1;
}

/** HMAC-SHA1 over `msg[0..end)` with the length field claiming a MESSAGE-INTEGRITY at `end`. */
function integrity(msg: Uint8Array, end: number, key: IntegrityKey): Buffer {
  const header = Buffer.from(msg.subarray(0, 4));
  header.writeUInt16BE(end - HEADER_SIZE + MI_ATTRIBUTE_SIZE, LENGTH_OFFSET);
  return createHmac('sha1', key).update(header).update(msg.subarray(4, end)).digest();
}

/** CRC-32 XOR "STUN" over `msg[0..end)` with the length field claiming a FINGERPRINT at `end`. */
function fingerprint(msg: Uint8Array, end: number): number {
  const copy = Buffer.from(msg.subarray(0, end));
  copy.writeUInt16BE(end - HEADER_SIZE + FP_ATTRIBUTE_SIZE, LENGTH_OFFSET);
  return (crc32(copy) ^ FINGERPRINT_XOR) >>> 0;
}

/** `msg` with a MESSAGE-INTEGRITY appended and its length field updated (a new buffer). */
export function appendMessageIntegrity(msg: Uint8Array, key: IntegrityKey): Buffer {
  const end = checkedEnd(msg);
  checkRoom(end, MI_ATTRIBUTE_SIZE);
  const out = Buffer.alloc(end + MI_ATTRIBUTE_SIZE);
  out.set(msg.subarray(0, end));
  out.writeUInt16BE(StunAttr.MessageIntegrity, end);
  out.writeUInt16BE(MESSAGE_INTEGRITY_SIZE, end + 2);
  integrity(msg, end, key).copy(out, end + ATTRIBUTE_HEADER_SIZE);
  out.writeUInt16BE(out.length - HEADER_SIZE, LENGTH_OFFSET);
  return out;
}

/** `msg` with a FINGERPRINT appended and its length field updated (a new buffer). */
export function appendFingerprint(msg: Uint8Array): Buffer {
  const end = checkedEnd(msg);
  checkRoom(end, FP_ATTRIBUTE_SIZE);
  const out = Buffer.alloc(end + FP_ATTRIBUTE_SIZE);
  out.set(msg.subarray(0, end));
  out.writeUInt16BE(StunAttr.Fingerprint, end);
  out.writeUInt16BE(FINGERPRINT_SIZE, end + 2);
  out.writeUInt32BE(fingerprint(msg, end), end + ATTRIBUTE_HEADER_SIZE);
  out.writeUInt16BE(out.length - HEADER_SIZE, LENGTH_OFFSET);
  return out;
}

/** True when `msg` has a MESSAGE-INTEGRITY and it matches `key`. Throws ParseError if malformed. */
export function verifyMessageIntegrity(msg: Uint8Array, key: IntegrityKey): boolean {
  const at = findAttribute(msg, StunAttr.MessageIntegrity);
  if (at < 0) return false;
  const length = (msg[at + 2] << 8) | msg[at + 3];
  if (length !== MESSAGE_INTEGRITY_SIZE) return false;
  ParseError.need(WHAT, msg, at + ATTRIBUTE_HEADER_SIZE, MESSAGE_INTEGRITY_SIZE, 'MESSAGE-INTEGRITY');
  const got = msg.subarray(at + ATTRIBUTE_HEADER_SIZE, at + MI_ATTRIBUTE_SIZE);
  return timingSafeEqual(got, integrity(msg, at, key));
}

/**
 * True when `msg` ends with a FINGERPRINT that matches. False when it has none or one that is
 * not last. Throws ParseError if malformed.
 */
export function verifyFingerprint(msg: Uint8Array): boolean {
  const at = findAttribute(msg, StunAttr.Fingerprint);
  if (at < 0) return false;
  const end = checkedEnd(msg);
  if (at + FP_ATTRIBUTE_SIZE !== end || ((msg[at + 2] << 8) | msg[at + 3]) !== FINGERPRINT_SIZE) return false;
  const got = ((msg[at + 4] << 24) | (msg[at + 5] << 16) | (msg[at + 6] << 8) | msg[at + 7]) >>> 0;
  return got === fingerprint(msg, at);
}

function checkedEnd(msg: Uint8Array): number {
  ParseError.need(WHAT, msg, 0, HEADER_SIZE, 'header');
  const end = HEADER_SIZE + ((msg[LENGTH_OFFSET] << 8) | msg[LENGTH_OFFSET + 1]);
  ParseError.need(WHAT, msg, 0, end, 'message');
  return end;
}

function checkRoom(end: number, add: number): void {
  if (end - HEADER_SIZE + add > MAX_MESSAGE_LENGTH) {
    throw new BadRequestError(`stun: message of ${end} bytes has no room for ${add} more`);
  }
}

function padded(length: number): number {
  return Math.ceil(length / PADDING) * PADDING;
}
