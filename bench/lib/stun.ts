/**
 * The few STUN messages an ICE agent needs (RFC 8489, RFC 8445 §7): a Binding request with
 * USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY and FINGERPRINT, and a
 * Binding success response to a peer's check. Self-contained on purpose: the bench's viewers must
 * not depend on the gateway's WebRTC code they measure.
 *
 *    0                   1                   2                   3
 *   |0 0|     STUN Message Type     |         Message Length        |
 *   |                         Magic Cookie                          |
 *   |                     Transaction ID (96 bits)                  |
 */
import { createHmac, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

const MAGIC = 0x2112a442;
const HEADER = 20;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const ATTR = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  xorMappedAddress: 0x0020,
  priority: 0x0024,
  useCandidate: 0x0025,
  fingerprint: 0x8028,
  iceControlling: 0x802a,
} as const;
const FINGERPRINT_XOR = 0x5354554e;
const INTEGRITY_SIZE = 4 + 20;
const FINGERPRINT_SIZE = 4 + 4;

/** True for a STUN message (first two bits zero and the magic cookie, RFC 7983 §7). */
export function isStun(b: Buffer): boolean {
  return b.length >= HEADER && b[0] < 4 && b.readUInt32BE(4) === MAGIC;
}

function attr(type: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

/** Header + attributes, then MESSAGE-INTEGRITY (HMAC-SHA1 keyed by `pwd`) and FINGERPRINT. */
function seal(type: number, transactionId: Buffer, attrs: Buffer[], pwd: string): Buffer {
  const body = Buffer.concat(attrs);
  const head = Buffer.alloc(HEADER);
  head.writeUInt16BE(type, 0);
  head.writeUInt32BE(MAGIC, 4);
  transactionId.copy(head, 8);
  // The length covers MESSAGE-INTEGRITY when the HMAC is computed (RFC 8489 §14.5).
  head.writeUInt16BE(body.length + INTEGRITY_SIZE, 2);
  const hmac = createHmac('sha1', pwd).update(head).update(body).digest();
  const mi = attr(ATTR.messageIntegrity, hmac);
  head.writeUInt16BE(body.length + INTEGRITY_SIZE + FINGERPRINT_SIZE, 2);
  const withMi = Buffer.concat([head, body, mi]);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(withMi) ^ FINGERPRINT_XOR) >>> 0);
  return Buffer.concat([withMi, attr(ATTR.fingerprint, fp)]);
}

/** A controlling agent's check, nominating the pair (RFC 8445 §7.1.1). */
export function bindingRequest(opts: { username: string; pwd: string; tieBreaker: bigint }): {
  packet: Buffer;
  transactionId: Buffer;
} {
  const transactionId = randomBytes(12);
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(0x6e0001ff); // peer-reflexive type preference, RFC 8445 §5.1.2
  const tie = Buffer.alloc(8);
  tie.writeBigUInt64BE(opts.tieBreaker);
  const packet = seal(
    BINDING_REQUEST,
    transactionId,
    [
      attr(ATTR.username, Buffer.from(opts.username)),
      attr(ATTR.priority, priority),
      attr(ATTR.iceControlling, tie),
      attr(ATTR.useCandidate, Buffer.alloc(0)),
    ],
    opts.pwd,
  );
  return { packet, transactionId };
}

/** The type of a STUN message and its transaction id. */
export function stunHeader(b: Buffer): { type: number; transactionId: Buffer } {
  return { type: b.readUInt16BE(0), transactionId: b.subarray(8, HEADER) };
}

export const STUN_BINDING_REQUEST = BINDING_REQUEST;
export const STUN_BINDING_SUCCESS = BINDING_SUCCESS;

/** A success response to a peer's check, with its source address (IPv4) as XOR-MAPPED-ADDRESS. */
export function bindingSuccess(request: Buffer, address: string, port: number, pwd: string): Buffer {
  const value = Buffer.alloc(8);
  value[1] = 0x01; // IPv4
  value.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const ip = address.split('.').reduce((n, o) => (n << 8) | Number(o), 0) >>> 0;
  value.writeUInt32BE((ip ^ MAGIC) >>> 0, 4);
  return seal(BINDING_SUCCESS, stunHeader(request).transactionId, [attr(ATTR.xorMappedAddress, value)], pwd);
}
