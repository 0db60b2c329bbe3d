/**
 * SRTP and SRTCP (RFC 3711) with the AES-CM/HMAC-SHA1 and AEAD AES-GCM (RFC 7714) profiles, keyed
 * from DTLS-SRTP (RFC 5764).
 */
export { SrtpContext, type SrtpContextOptions } from './context.ts';
export { SrtpError, type SrtpErrorReason } from './errors.ts';
export { deriveKey, deriveSessionKeys, KdfLabel, type SessionKeys } from './kdf.ts';
export { DTLS_SRTP_EXPORTER_LABEL, keyingMaterialLength, keyingMaterialToContexts } from './keying.ts';
export { profileById, SRTP_PROFILES, type SrtpProfile, type SrtpProfileParams } from './profiles.ts';
export { ReplayWindow } from './replay.ts';
