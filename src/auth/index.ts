/**
 * AuthService: access control of the gateway, built from the `auth:` config. It owns the users,
 * the token signer, the failure throttle and the failure counters, and gives the HTTP layer its
 * `authorize` hook (`http.ts`) and the RTSP server its access check (`rtsp.ts`). One instance per
 * gateway; without an `auth:` section there is none and everything is open.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Authorizer } from '../api/http.ts';
import type { AuthConfig } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import type { RtspAccessControl } from '../protocols/rtsp/server/access.ts';
import { createHttpAuthorizer } from './http.ts';
import { createRtspAccess } from './rtsp.ts';
import { FailureThrottle, type ThrottleOptions } from './throttle.ts';
import { TokenSigner } from './token.ts';
import { type FailureReason, hasStream, type Principal, type StreamSet } from './types.ts';
import { UserStore } from './users.ts';

export type { Principal, Requirement } from './types.ts';

/** The user name of requests let in by `localhost_bypass` (no configured name can look like it). */
export const LOCALHOST_USER = '(localhost)';

/** The gateway's own user, for the children it starts (`(` cannot start a configured name). */
export const INTERNAL_USER = '(mediagate)';

const LOCALHOST: Principal = {
  user: LOCALHOST_USER,
  role: 'admin',
  read: '*',
  publish: '*',
  via: 'localhost',
};

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

export class AuthService {
  /**
   * Credentials of the gateway's own admin, for the child processes it starts (ffmpeg reading a
   * stream from or publishing to its RTSP server): a random password only this process knows.
   */
  readonly internal = { username: INTERNAL_USER, password: randomBytes(18).toString('base64url') };
  readonly users: UserStore;
  readonly tokens: TokenSigner;
  readonly throttle: FailureThrottle;
  /** The hook for `HttpServer.authorize`. */
  readonly authorizeHttp: Authorizer;
  /** The access check for the RTSP server. */
  readonly rtsp: RtspAccessControl;
  readonly #failures = new Map<string, number>();
  readonly #principals = new WeakMap<IncomingMessage, Principal>();

  /** Throws UserConfigError for a user entry that cannot be used, RangeError for a short token secret. */
  constructor(
    readonly config: AuthConfig,
    readonly log: Logger,
    throttle: ThrottleOptions = {},
  ) {
    this.users = new UserStore(config.users, this.internal);
    this.tokens = new TokenSigner(config.tokenSecret);
    this.throttle = new FailureThrottle(throttle);
    this.authorizeHttp = createHttpAuthorizer(this);
    this.rtsp = createRtspAccess(this);
  }

  /** Who an HTTP request acts for, once `authorizeHttp` let it through (undefined on public routes). */
  principalOf(req: IncomingMessage): Principal | undefined {
    return this.#principals.get(req);
  }

  /** Remembers who `req` acts for (the HTTP hook). */
  bind(req: IncomingMessage, principal: Principal): void {
    this.#principals.set(req, principal);
  }

  /** The admin principal of a loopback address when `localhost_bypass` is on. */
  localPrincipal(address: string | undefined): Principal | undefined {
    return this.config.localhostBypass && isLoopback(address) ? LOCALHOST : undefined;
  }

  /** The user's principal when the password is right. */
  async basic(user: string, password: string): Promise<Principal | undefined> {
    return (await this.users.verify(user, password))?.principal;
  }

  /** The principal a stream token grants: viewing its streams that its user may still view. */
  token(token: string): { principal: Principal } | { reason: 'invalid' | 'expired' } {
    const check = this.tokens.verify(token);
    if (!check.ok) return { reason: check.reason === 'expired' ? 'expired' : 'invalid' };
    const { sub, streams } = check.claims;
    let base: StreamSet;
    if (sub === LOCALHOST_USER && this.config.localhostBypass) base = '*';
    else {
      const user = this.users.get(sub);
      if (!user) return { reason: 'invalid' };
      base = user.principal.read;
    }
    const read: StreamSet = streams === '*' ? base : new Set(streams.filter((s) => hasStream(base, s)));
    return { principal: { user: sub, role: 'viewer', read, publish: new Set(), via: 'token' } };
  }

  /** Counts a refusal for /metrics. */
  count(proto: 'http' | 'rtsp' | 'rtmp', reason: FailureReason): void {
    const key = `${proto} ${reason}`;
    this.#failures.set(key, (this.#failures.get(key) ?? 0) + 1);
  }

  /** Refusals so far by protocol and reason (read by /metrics at scrape time). */
  authFailures(): { proto: string; reason: string; count: number }[] {
    return [...this.#failures].map(([key, count]) => {
      const [proto, reason] = key.split(' ');
      return { proto, reason, count };
    });
  }

  /** Idempotent: refuses the requests waiting in the throttle and stops its timer. */
  close(): void {
    this.throttle.close();
  }
}
