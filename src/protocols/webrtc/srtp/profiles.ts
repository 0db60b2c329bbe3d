/**
 * SRTP protection profiles negotiated by DTLS-SRTP (RFC 5764 §4.1.2, RFC 7714 §14.2) and their
 * key, salt and tag sizes.
 */

export type SrtpProfile =
  | 'SRTP_AES128_CM_HMAC_SHA1_80'
  | 'SRTP_AES128_CM_HMAC_SHA1_32'
  | 'SRTP_AEAD_AES_128_GCM'
  | 'SRTP_AEAD_AES_256_GCM';

export interface SrtpProfileParams {
  /** The DTLS `use_srtp` protection profile id. */
  id: number;
  /** Master and session encryption key length, bytes. */
  keyLength: number;
  /** Master and session salt length, bytes (14 for AES-CM, 12 for GCM). */
  saltLength: number;
  /** AEAD profiles authenticate with the GCM tag and have no HMAC key. */
  aead: boolean;
  /** HMAC-SHA1 session key length, bytes; 0 for AEAD. */
  authKeyLength: number;
  /** Authentication tag appended to SRTP packets, bytes. */
  rtpTagLength: number;
  /** Authentication tag appended to SRTCP packets, bytes (80 bits even for the _32 profile). */
  rtcpTagLength: number;
}

export const SRTP_PROFILES: Readonly<Record<SrtpProfile, Readonly<SrtpProfileParams>>> = {
  SRTP_AES128_CM_HMAC_SHA1_80: {
    id: 0x0001,
    keyLength: 16,
    saltLength: 14,
    aead: false,
    authKeyLength: 20,
    rtpTagLength: 10,
    rtcpTagLength: 10,
  },
  SRTP_AES128_CM_HMAC_SHA1_32: {
    id: 0x0002,
    keyLength: 16,
    saltLength: 14,
    aead: false,
    authKeyLength: 20,
    rtpTagLength: 4,
    rtcpTagLength: 10,
  },
  SRTP_AEAD_AES_128_GCM: {
    id: 0x0007,
    keyLength: 16,
    saltLength: 12,
    aead: true,
    authKeyLength: 0,
    rtpTagLength: 16,
    rtcpTagLength: 16,
  },
  SRTP_AEAD_AES_256_GCM: {
    id: 0x0008,
    keyLength: 32,
    saltLength: 12,
    aead: true,
    authKeyLength: 0,
    rtpTagLength: 16,
    rtcpTagLength: 16,
  },
};

/** The profile for a DTLS `use_srtp` id, or undefined if unsupported. */
export function profileById(id: number): SrtpProfile | undefined {
  for (const [name, p] of Object.entries(SRTP_PROFILES)) if (p.id === id) return name as SrtpProfile;
  return undefined;
}
