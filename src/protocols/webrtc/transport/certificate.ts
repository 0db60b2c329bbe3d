/**
 * The server's DTLS certificate: a self-signed ECDSA P-256 X.509 v3 certificate built with
 * node:crypto (RFC 5280 §4.1), and certificate fingerprints as SDP writes them (RFC 8122 §5).
 *
 * WebRTC peers authenticate the certificate by the fingerprint in the SDP, never by a chain, so
 * the certificate only needs to be well formed: a subject, a validity period and the key.
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** A certificate and its key as werift's DTLS wants them, plus the SDP fingerprint. */
export interface DtlsCertificate {
  /** PEM `CERTIFICATE`. */
  certPem: string;
  /** PEM PKCS#8 `PRIVATE KEY`. */
  keyPem: string;
  /** The DER certificate. */
  der: Buffer;
  /** `a=fingerprint:sha-256 <value>`. */
  fingerprint: { algorithm: 'sha-256'; value: string };
}

const DAY_MS = 86_400_000;
/** Validity: from a day ago (clock skew) to a year ahead; peers do not check it anyway. */
const VALID_BEFORE_MS = DAY_MS;
const VALID_AFTER_MS = 365 * DAY_MS;
const SERIAL_SIZE = 8;
/** ecdsa-with-SHA256, 1.2.840.10045.4.3.2 (RFC 5758 §3.2). */
const OID_ECDSA_SHA256 = Buffer.from('06082a8648ce3d040302', 'hex');
/** id-at-commonName, 2.5.4.3. */
const OID_COMMON_NAME = Buffer.from('0603550403', 'hex');
const COMMON_NAME = 'mediagate';
/** UTCTime covers 1950..2049; later dates are GeneralizedTime (RFC 5280 §4.1.2.5). */
const UTC_TIME_LAST_YEAR = 2049;

const Tag = {
  Integer: 0x02,
  BitString: 0x03,
  Utf8String: 0x0c,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  Sequence: 0x30,
  Set: 0x31,
  ExplicitVersion: 0xa0,
} as const;

/** Creates a fresh key pair and self-signed certificate (synchronous, about a millisecond). */
export function createCertificate(now = Date.now()): DtlsCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(SERIAL_SIZE);
  serial[0] &= 0x7f; // positive
  serial[0] |= 0x01; // and without a leading zero byte
  const algorithm = der(Tag.Sequence, OID_ECDSA_SHA256);
  const name = der(
    Tag.Sequence,
    der(Tag.Set, der(Tag.Sequence, OID_COMMON_NAME, der(Tag.Utf8String, Buffer.from(COMMON_NAME)))),
  );
  const tbs = der(
    Tag.Sequence,
    der(Tag.ExplicitVersion, der(Tag.Integer, Buffer.from([2]))), // v3
    der(Tag.Integer, serial),
    algorithm,
    name,
    der(Tag.Sequence, time(now - VALID_BEFORE_MS), time(now + VALID_AFTER_MS)),
    name,
    spki,
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const cert = der(Tag.Sequence, tbs, algorithm, der(Tag.BitString, Buffer.from([0]), signature));
  return {
    certPem: pem('CERTIFICATE', cert),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    der: cert,
    fingerprint: { algorithm: 'sha-256', value: fingerprint(cert, 'sha-256') ?? '' },
  };
}

/** node:crypto hash names for the SDP fingerprint algorithms (RFC 8122 §5, "hash-func"). */
const HASHES: Record<string, string> = {
  'sha-1': 'sha1',
  'sha-224': 'sha224',
  'sha-256': 'sha256',
  'sha-384': 'sha384',
  'sha-512': 'sha512',
};

/**
 * The fingerprint of a DER certificate as SDP writes it (upper-case hex pairs joined by colons),
 * or undefined for an algorithm we do not know.
 */
export function fingerprint(certDer: Uint8Array, algorithm: string): string | undefined {
  const hash = HASHES[algorithm.toLowerCase()];
  if (!hash) return undefined;
  const hex = createHash(hash).update(certDer).digest('hex').toUpperCase();
  return hex.match(/../g)?.join(':');
}

/**
 * Whether the certificate matches one of the fingerprints from the SDP. Fingerprints with an
 * unknown algorithm are ignored; if none is usable the answer is false.
 */
export function matchesFingerprint(
  certDer: Uint8Array,
  expected: { algorithm: string; value: string }[],
): boolean {
  return expected.some((f) => {
    const actual = fingerprint(certDer, f.algorithm);
    return actual !== undefined && actual === f.value.trim().toUpperCase();
  });
}

/** A DER TLV (X.690 §8.1) with definite length. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let header: Buffer;
  if (n < 0x80) header = Buffer.from([tag, n]);
  else if (n <= 0xff) header = Buffer.from([tag, 0x81, n]);
  else if (n <= 0xffff) header = Buffer.from([tag, 0x82, n >> 8, n & 0xff]);
  else header = Buffer.from([tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([header, body]);
}

function time(ms: number): Buffer {
  const d = new Date(ms);
  const two = (v: number) => String(v).padStart(2, '0');
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  const year = d.getUTCFullYear();
  if (year <= UTC_TIME_LAST_YEAR) return der(Tag.UtcTime, Buffer.from(`${two(year % 100)}${rest}`));
  return der(Tag.GeneralizedTime, Buffer.from(`${year}${rest}`));
}

function pem(label: string, body: Buffer): string {
  const b64 =
    body
      .toString('base64')
      .match(/.{1,64}/g)
      ?.join('\n') ?? '';
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
