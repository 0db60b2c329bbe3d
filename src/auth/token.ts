/**
 * Short-lived signed tokens that let a page or a player open given streams without a password:
 * `base64url(JSON {sub, streams, exp}) "." base64url(HMAC-SHA256(secret, first part))`.
 * A token grants viewing only (never admin, never publishing), and at most what its user may
 * still view when it is used.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  /** The user the token was issued to (or by, for an admin's token). */
  sub: string;
  /** Stream names the token may view, or `"*"` for every stream. */
  streams: string[] | '*';
  /** Expiry, Unix time in seconds. */
  exp: number;
}

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

/** Longer strings are not tokens we issued; refused before any work. */
const MAX_TOKEN_CHARS = 4096;
const MIN_SECRET_BYTES = 16;

export class TokenSigner {
  readonly #secret: Buffer;

  /** `secret`: the key of the HMAC; default 32 random bytes, so tokens die with the process. */
  constructor(secret?: string | Buffer) {
    const key = secret === undefined ? randomBytes(32) : Buffer.from(secret);
    if (key.length < MIN_SECRET_BYTES)
      throw new RangeError(`token secret of ${key.length} bytes, at least ${MIN_SECRET_BYTES} needed`);
    this.#secret = key;
  }

  sign(claims: TokenClaims): string {
    const body = Buffer.from(JSON.stringify({ sub: claims.sub, streams: claims.streams, exp: claims.exp }));
    const head = body.toString('base64url');
    return `${head}.${this.#mac(head).toString('base64url')}`;
  }

  /** Checks the signature first (nothing of a forged token is parsed), then the shape and expiry. */
  verify(token: string, nowSeconds = Date.now() / 1000): TokenCheck {
    if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'malformed' };
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
    const head = token.slice(0, dot);
    // Compared as text in the one encoding we issue: base64 decoding ignores the unused low bits of
    // the last character, so comparing decoded bytes would accept altered tokens.
    const mac = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.#mac(head).toString('base64url'));
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected))
      return { ok: false, reason: 'signature' };
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (!isClaims(claims)) return { ok: false, reason: 'malformed' };
    if (claims.exp <= nowSeconds) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }

  #mac(head: string): Buffer {
    return createHmac('sha256', this.#secret).update(head).digest();
  }
}

function isClaims(v: unknown): v is TokenClaims {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.sub === 'string' &&
    typeof c.exp === 'number' &&
    Number.isFinite(c.exp) &&
    (c.streams === '*' || (Array.isArray(c.streams) && c.streams.every((s) => typeof s === 'string')))
  );
}
