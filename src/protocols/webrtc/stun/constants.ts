/**
 * STUN numbers: header layout, message classes and methods, attribute types (RFC 8489 §5, §14, §18;
 * ICE attributes from RFC 8445 §16).
 */

/** Fixed value at bytes 4..7 of every RFC 5389/8489 message. */
export const MAGIC_COOKIE = 0x2112a442;
/** Message header size in bytes. */
export const HEADER_SIZE = 20;
/** Transaction id size in bytes. */
export const TRANSACTION_ID_SIZE = 12;
/** Attribute type + length, in bytes. */
export const ATTRIBUTE_HEADER_SIZE = 4;
/** Attributes are padded to a multiple of this many bytes. */
export const PADDING = 4;
/** Largest message length field value (the 16-bit length). */
export const MAX_MESSAGE_LENGTH = 0xffff;

/** Message classes as they appear in the type field (C1 = bit 8, C0 = bit 4). */
export const StunClass = {
  Request: 0x0000,
  Indication: 0x0010,
  SuccessResponse: 0x0100,
  ErrorResponse: 0x0110,
} as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** Methods (12 bits, interleaved with the class bits in the type field). */
export const StunMethod = {
  Binding: 0x001,
} as const;

/** Attribute types; 0x0000-0x7fff comprehension-required, 0x8000-0xffff optional. */
export const StunAttr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  Realm: 0x0014,
  Nonce: 0x0015,
  MessageIntegritySha256: 0x001c,
  PasswordAlgorithm: 0x001d,
  Userhash: 0x001e,
  XorMappedAddress: 0x0020,
  Priority: 0x0024,
  UseCandidate: 0x0025,
  PasswordAlgorithms: 0x8002,
  AlternateDomain: 0x8003,
  Software: 0x8022,
  AlternateServer: 0x8023,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
} as const;

/** MESSAGE-INTEGRITY value size (HMAC-SHA1), bytes. */
export const MESSAGE_INTEGRITY_SIZE = 20;
/** FINGERPRINT value size (CRC-32), bytes. */
export const FINGERPRINT_SIZE = 4;
/** XORed into the CRC-32 of a FINGERPRINT (RFC 8489 §14.7): "STUN". */
export const FINGERPRINT_XOR = 0x5354554e;
/** USERNAME may be at most this many bytes (RFC 8489 §14.3). */
export const MAX_USERNAME_SIZE = 513;

/** Error codes the ICE code sends (RFC 8489 §14.8, RFC 8445 §7.3.1.1). */
export const StunErrorCode = {
  BadRequest: 400,
  Unauthorized: 401,
  UnknownAttribute: 420,
  RoleConflict: 487,
  ServerError: 500,
} as const;

const METHOD_LOW_MASK = 0x000f; // M0-M3 stay at bits 0-3
const METHOD_MID_MASK = 0x0070; // M4-M6 move to bits 5-7
const METHOD_HIGH_MASK = 0x0f80; // M7-M11 move to bits 9-13
const TYPE_MID_MASK = METHOD_MID_MASK << 1;
const TYPE_HIGH_MASK = METHOD_HIGH_MASK << 2;
const CLASS_MASK = 0x0110;

/**
 *  0                 1
 *  2  3  4 5 6 7 8 9 0 1 2 3 4 5
 * +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 * |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
 * |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
 * +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 * The 14-bit message type for `method` and `cls` (RFC 8489 §5).
 */
export function messageType(method: number, cls: StunClass): number {
  const m = method & 0xfff;
  return (m & METHOD_LOW_MASK) | ((m & METHOD_MID_MASK) << 1) | ((m & METHOD_HIGH_MASK) << 2) | cls;
}

/** Splits a message type into method and class. */
export function splitMessageType(type: number): { method: number; cls: StunClass } {
  const method = (type & METHOD_LOW_MASK) | ((type & TYPE_MID_MASK) >> 1) | ((type & TYPE_HIGH_MASK) >> 2);
  return { method, cls: (type & CLASS_MASK) as StunClass };
}
