/**
 * Password hashes for the `auth.users` config: `scrypt$N$r$p$SALT$HASH` (salt and hash base64url,
 * no padding), made with node:crypto's scrypt, and the RTSP Digest HA1 (RFC 2617 §3.2.2.2:
 * `md5(user:realm:password)`) that a Digest check needs because it never sees the password.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters; the defaults cost about 50 ms and 16 MiB per check. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. Default 16384 (2^14). */
  N: number;
  /** Block size. Default 8. */
  r: number;
  /** Parallelism. Default 1. */
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 16384, r: 8, p: 1 };
/** Bounds on the parameters a stored hash may ask for, so a config cannot make a check take minutes. */
const MAX = { N: 1 << 20, r: 32, p: 16 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = 'scrypt$';

/** A stored hash that does not parse; the message says which part is wrong. */
export class PasswordHashError extends Error {
  override name = 'PasswordHashError';
}

interface ParsedHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

/** True when `stored` looks like a hash made by `hashPassword` (else it is a plain-text password). */
export function isPasswordHash(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

/** Parses `scrypt$N$r$p$SALT$HASH`; throws PasswordHashError naming the bad part. */
export function parsePasswordHash(stored: string): ParsedHash {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt')
    throw new PasswordHashError('expected scrypt$N$r$p$SALT$HASH (from mediagate --hash-password)');
  const [N, r, p] = parts.slice(1, 4).map((s) => (/^\d{1,8}$/.test(s) ? Number(s) : Number.NaN));
  if (!(N >= 2 && N <= MAX.N && (N & (N - 1)) === 0))
    throw new PasswordHashError(`N must be a power of two from 2 to ${MAX.N}`);
  if (!(r >= 1 && r <= MAX.r)) throw new PasswordHashError(`r must be 1..${MAX.r}`);
  if (!(p >= 1 && p <= MAX.p)) throw new PasswordHashError(`p must be 1..${MAX.p}`);
  const salt = Buffer.from(parts[4], 'base64url');
  const hash = Buffer.from(parts[5], 'base64url');
  if (salt.length < 8) throw new PasswordHashError('salt shorter than 8 bytes');
  if (hash.length < 16 || hash.length > 64) throw new PasswordHashError('hash must be 16..64 bytes');
  return { N, r, p, salt, hash };
}

function derive(password: string, salt: Buffer, keyLength: number, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes, which the default (32 MiB) does not for large N.
    const maxmem = 256 * params.N * params.r + 1024 * 1024;
    scrypt(password, salt, keyLength, { ...params, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** A new hash of `password` with a random salt: `scrypt$16384$8$1$SALT$HASH`. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, params);
  return `${PREFIX}${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * True when `password` matches `stored`, a hash or (for a plain-text config entry) the password
 * itself; both compared in constant time. Never throws for a wrong password; throws
 * PasswordHashError for a malformed hash.
 */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  if (!isPasswordHash(stored)) {
    // Hash both sides so that the comparison does not leak the length of the stored password.
    const a = createHash('sha256').update(stored).digest();
    const b = createHash('sha256').update(password).digest();
    return timingSafeEqual(a, b);
  }
  const h = parsePasswordHash(stored);
  const key = await derive(password, h.salt, h.hash.length, h);
  return timingSafeEqual(key, h.hash);
}

/** RTSP/HTTP Digest HA1 with MD5 (RFC 2617 §3.2.2.2), lower-case hex. */
export function digestHa1(user: string, realm: string, password: string): string {
  return createHash('md5').update(`${user}:${realm}:${password}`).digest('hex');
}
