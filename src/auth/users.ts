/**
 * The users of the `auth:` config: their permissions as Principals, password checks (scrypt, or a
 * plain-text password kept in the config, which start-up warns about) and the RTSP Digest HA1.
 * A password check for an unknown user costs as much as one for a known user, so that timing does
 * not tell which names exist.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AuthUserConfig } from '../config/schema.ts';
import { digestHa1, hashPassword, isPasswordHash, parsePasswordHash, verifyPassword } from './password.ts';
import { type Principal, REALM, type StreamSet } from './types.ts';

export interface UserEntry {
  name: string;
  /** The stored password: a scrypt hash or plain text. */
  password: string;
  /** Digest HA1 for RTSP, when known (plain-text password or `rtsp_ha1`). */
  ha1: string | undefined;
  principal: Principal;
  /** The gateway's own user (for its children), not from the config. */
  internal?: boolean;
}

/** A user entry that cannot be used; the message names the key. */
export class UserConfigError extends Error {
  override name = 'UserConfigError';
}

/** Successful Basic checks are remembered this long, so that a polling UI does not cost a scrypt per request, ms. */
const CACHE_MS = 60_000;
const CACHE_MAX = 1000;
/** Names safe in a Basic credential, a Digest header and a log line. */
const USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export class UserStore {
  readonly #users = new Map<string, UserEntry>();
  /** sha256(user \0 password) -> user and expiry. Only successes are kept. */
  readonly #cache = new Map<string, { entry: UserEntry; until: number }>();
  #dummy: Promise<string> | undefined;

  /**
   * `internal`: the gateway's own admin for the child processes it starts (not in the config, so no
   * configured name can look like it, and never warned about).
   */
  constructor(users: Record<string, AuthUserConfig>, internal?: { username: string; password: string }) {
    if (internal) {
      const { username: name, password } = internal;
      const principal: Principal = { user: name, role: 'admin', read: '*', publish: '*', via: 'basic' };
      this.#users.set(name, {
        name,
        password,
        ha1: digestHa1(name, REALM, password),
        principal,
        internal: true,
      });
    }
    for (const [name, u] of Object.entries(users)) {
      if (!USER_NAME.test(name))
        throw new UserConfigError(`auth.users.${name}: a user name is 1-64 of A-Z a-z 0-9 . _ @ -`);
      const hashed = isPasswordHash(u.password);
      if (hashed) {
        try {
          parsePasswordHash(u.password);
        } catch (err) {
          throw new UserConfigError(`auth.users.${name}.password: ${(err as Error).message}`);
        }
      }
      const admin = u.role === 'admin';
      const set = (v: string[] | '*'): StreamSet => (admin || v === '*' ? '*' : new Set(v));
      this.#users.set(name, {
        name,
        password: u.password,
        ha1: u.rtspHa1 ?? (hashed ? undefined : digestHa1(name, REALM, u.password)),
        principal: {
          user: name,
          role: u.role,
          read: set(u.streams),
          publish: set(u.publish),
          via: 'basic',
        },
      });
    }
  }

  get(name: string): UserEntry | undefined {
    return this.#users.get(name);
  }

  /** Users whose password is stored in plain text (start-up warns about them). */
  plainText(): string[] {
    return [...this.#users.values()]
      .filter((u) => !u.internal && !isPasswordHash(u.password))
      .map((u) => u.name);
  }

  /** Users that cannot use RTSP Digest (hashed password and no `rtsp_ha1`). */
  withoutHa1(): string[] {
    return [...this.#users.values()].filter((u) => !u.ha1).map((u) => u.name);
  }

  /** The user when `password` is right, else undefined; an unknown user costs a scrypt too. */
  async verify(name: string, password: string): Promise<UserEntry | undefined> {
    const key = createHash('sha256').update(`${name}\0${password}`).digest('base64');
    const now = performance.now();
    const hit = this.#cache.get(key);
    if (hit && hit.until > now && this.#users.get(name) === hit.entry) return hit.entry;
    if (hit) this.#cache.delete(key);
    const entry = this.#users.get(name);
    if (!entry) {
      this.#dummy ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPassword(await this.#dummy, password);
      return undefined;
    }
    if (!(await verifyPassword(entry.password, password))) return undefined;
    this.#cache.set(key, { entry, until: now + CACHE_MS });
    if (this.#cache.size > CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value as string);
    return entry;
  }
}
