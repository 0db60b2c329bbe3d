/**
 * Who may read or publish which stream over RTSP. The server asks an `RtspAccessControl` before
 * every request but OPTIONS; the gateway's policy (src/auth/rtsp.ts) implements it for the users
 * of the `auth:` config, `singleUserAccess` for the older `rtsp.username/password`.
 */
import type { RtspAuthenticator } from '../auth.ts';

/** One request as the access check sees it. */
export interface RtspAccessRequest {
  method: string;
  uri: string;
  /** The request's `Authorization` header. */
  authorization: string | undefined;
  remoteAddress: string;
  /** The nonce of this connection's Digest challenges (a nonce per connection: no replay elsewhere). */
  nonce: string;
  /** `read`: DESCRIBE, SETUP of a player; `publish`: ANNOUNCE, SETUP of a publisher; `session`: the rest. */
  action: 'read' | 'publish' | 'session';
  /** The stream named by the URL, for `read` and `publish`. */
  stream: string | undefined;
  /** What an earlier check of this connection returned; requests without credentials act as it. */
  principal: unknown;
}

export type RtspAccessResult =
  | { ok: true; principal: unknown }
  | { ok: false; status: number; headers: [string, string][] };

export interface RtspAccessControl {
  check(req: RtspAccessRequest): Promise<RtspAccessResult> | RtspAccessResult;
}

/** `rtsp.username/password`: one user who may do everything. */
export function singleUserAccess(auth: RtspAuthenticator): RtspAccessControl {
  return {
    check(req) {
      if (req.authorization === undefined && req.principal) return { ok: true, principal: req.principal };
      if (auth.check(req.authorization, req.method, req.nonce)) return { ok: true, principal: auth.user };
      const headers = auth.challenges(req.nonce).map((c): [string, string] => ['WWW-Authenticate', c]);
      return { ok: false, status: 401, headers };
    },
  };
}
