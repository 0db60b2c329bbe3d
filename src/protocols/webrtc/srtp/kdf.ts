/**
 * The SRTP key derivation function (RFC 3711 §4.3.1, §4.3.3) with a key derivation rate of 0, as
 * DTLS-SRTP uses it; also for AEAD-GCM with its 12-byte salt (RFC 7714 §11).
 *
 *   key_id = label || r          (r = index DIV kdr = 0, 48 bits)
 *   x      = key_id XOR master_salt
 *   out    = AES-CM(master_key, IV = x * 2^16), first n bytes
 */
import { createCipheriv } from 'node:crypto';
import { BadRequestError } from '../../../core/errors.ts';
import { SRTP_PROFILES, type SrtpProfile } from './profiles.ts';

const BLOCK_SIZE = 16;
const LABEL_OFFSET = 7; // the label is the 7th byte from the end of a 14-byte x
const MAX_SALT_LENGTH = 14;

/** RFC 3711 §4.3.1 labels. */
export const KdfLabel = {
  RtpEncryption: 0x00,
  RtpAuthentication: 0x01,
  RtpSalt: 0x02,
  RtcpEncryption: 0x03,
  RtcpAuthentication: 0x04,
  RtcpSalt: 0x05,
} as const;

/** One direction's session keys for RTP or RTCP. */
export interface SessionKeys {
  /** Encryption key (16 or 32 bytes). */
  key: Buffer;
  /** Salt (14 bytes AES-CM, 12 bytes GCM). */
  salt: Buffer;
  /** HMAC-SHA1 key (20 bytes); empty for AEAD profiles. */
  authKey: Buffer;
}

/** `length` bytes of the AES-CM PRF for `label` (RFC 3711 §4.3.3). Shorter salts are zero-padded. */
export function deriveKey(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  label: number,
  length: number,
): Buffer {
  if (masterKey.length !== 16 && masterKey.length !== 32) {
    throw new BadRequestError(`srtp: master key must be 16 or 32 bytes, got ${masterKey.length}`);
  }
  if (masterSalt.length > MAX_SALT_LENGTH) {
    throw new BadRequestError(
      `srtp: master salt must be at most ${MAX_SALT_LENGTH} bytes, got ${masterSalt.length}`,
    );
  }
  const blocks = Math.ceil(length / BLOCK_SIZE);
  const input = Buffer.alloc(blocks * BLOCK_SIZE);
  for (let i = 0; i < blocks; i++) {
    const at = i * BLOCK_SIZE;
    input.set(masterSalt, at);
    input[at + LABEL_OFFSET] ^= label;
    input.writeUInt16BE(i, at + BLOCK_SIZE - 2);
  }
  const ecb = createCipheriv(`aes-${masterKey.length * 8}-ecb`, masterKey, null).setAutoPadding(false);
  return Buffer.concat([ecb.update(input), ecb.final()]).subarray(0, length);
}

/** The RTP and RTCP session keys for `profile` from a master key and salt. */
export function deriveSessionKeys(
  profile: SrtpProfile,
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
): { rtp: SessionKeys; rtcp: SessionKeys } {
  const p = SRTP_PROFILES[profile];
  if (masterKey.length !== p.keyLength || masterSalt.length !== p.saltLength) {
    throw new BadRequestError(
      `srtp: ${profile} needs a ${p.keyLength}-byte key and ${p.saltLength}-byte salt, got ${masterKey.length} and ${masterSalt.length}`,
    );
  }
  const derive = (enc: number, auth: number, salt: number): SessionKeys => ({
    key: deriveKey(masterKey, masterSalt, enc, p.keyLength),
    salt: deriveKey(masterKey, masterSalt, salt, p.saltLength),
    authKey: p.authKeyLength > 0 ? deriveKey(masterKey, masterSalt, auth, p.authKeyLength) : Buffer.alloc(0),
  });
  return {
    rtp: derive(KdfLabel.RtpEncryption, KdfLabel.RtpAuthentication, KdfLabel.RtpSalt),
    rtcp: derive(KdfLabel.RtcpEncryption, KdfLabel.RtcpAuthentication, KdfLabel.RtcpSalt),
  };
}
