/**
 * STUN (RFC 8489, RFC 5389) for ICE: messages, attributes, MESSAGE-INTEGRITY, FINGERPRINT, RFC 7983
 * demultiplexing and the ICE-lite Binding exchange.
 */
export { bytesToIp, ipToBytes, type TransportAddress } from './address.ts';
export * from './attributes.ts';
export * from './constants.ts';
export { crc32 } from './crc32.ts';
export * from './ice.ts';
export {
  appendFingerprint,
  appendMessageIntegrity,
  findAttribute,
  type IntegrityKey,
  longTermKey,
  verifyFingerprint,
  verifyMessageIntegrity,
} from './integrity.ts';
export { isStun, type StunAttribute, StunMessage, type StunSerializeOptions } from './message.ts';
