/**
 * DTLS-SRTP keying material -> SRTP contexts (RFC 5764 §4.2). The material is exported from the
 * DTLS session with the label `EXTRACTOR-dtls_srtp` and splits as
 *
 *   client_write_SRTP_master_key | server_write_SRTP_master_key |
 *   client_write_SRTP_master_salt | server_write_SRTP_master_salt
 */
import { BadRequestError } from '../../../core/errors.ts';
import { SrtpContext, type SrtpContextOptions } from './context.ts';
import { SRTP_PROFILES, type SrtpProfile } from './profiles.ts';

/** The RFC 5705 exporter label for DTLS-SRTP. */
export const DTLS_SRTP_EXPORTER_LABEL = 'EXTRACTOR-dtls_srtp';

/** Bytes of keying material to export for `profile`: 2 * (key + salt). */
export function keyingMaterialLength(profile: SrtpProfile): number {
  const p = SRTP_PROFILES[profile];
  return 2 * (p.keyLength + p.saltLength);
}

/**
 * The two contexts of a DTLS-SRTP association: `local` protects what we send, `remote` unprotects
 * what we receive. `isClient` is our DTLS role. Throws BadRequestError if the length is wrong.
 */
export function keyingMaterialToContexts(
  material: Uint8Array,
  profile: SrtpProfile,
  isClient: boolean,
  options: SrtpContextOptions = {},
): { local: SrtpContext; remote: SrtpContext } {
  const { keyLength: k, saltLength: s } = SRTP_PROFILES[profile];
  if (material.length !== keyingMaterialLength(profile)) {
    throw new BadRequestError(
      `srtp: ${profile} needs ${keyingMaterialLength(profile)} bytes of keying material, got ${material.length}`,
    );
  }
  const clientKey = material.subarray(0, k);
  const serverKey = material.subarray(k, 2 * k);
  const clientSalt = material.subarray(2 * k, 2 * k + s);
  const serverSalt = material.subarray(2 * k + s, 2 * k + 2 * s);
  const client = new SrtpContext(profile, clientKey, clientSalt, options);
  const server = new SrtpContext(profile, serverKey, serverSalt, options);
  return isClient ? { local: client, remote: server } : { local: server, remote: client };
}
