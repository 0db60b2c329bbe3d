/**
 * The RTSP server's access check for the `auth:` users: Basic (RFC 7617) or Digest with MD5
 * (RFC 2617 §3.2.2, as RTSP 1.0 uses it) against the user's HA1, with a nonce per connection.
 * Readers need permission to view the stream of the URL, publishers permission to publish to it;
 * the other methods act for whoever the connection authenticated as. Failures go through the
 * same throttle and counters as HTTP.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { parseParams } from '../protocols/rtsp/auth.ts';
import type {
  RtspAccessControl,
  RtspAccessRequest,
  RtspAccessResult,
} from '../protocols/rtsp/server/access.ts';
import { parseAuthorization } from './credentials.ts';
import type { AuthService } from './index.ts';
import { type FailureReason, hasStream, type Principal, REALM } from './types.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function challenges(nonce: string): [string, string][] {
  return [
    ['WWW-Authenticate', `Digest realm="${REALM}", nonce="${nonce}", algorithm=MD5`],
    ['WWW-Authenticate', `Basic realm="${REALM}"`],
  ];
}

/** The user a Digest `Authorization` proves, if its response is right for this nonce and method. */
function checkDigest(auth: AuthService, value: string, req: RtspAccessRequest): Principal | undefined {
  const p = parseParams(value);
  if (!p.username || p.nonce !== req.nonce || p.uri === undefined || !p.response) return undefined;
  if (p.algorithm && p.algorithm.toUpperCase() !== 'MD5') return undefined;
  const user = auth.users.get(p.username);
  if (!user?.ha1) return undefined;
  const ha2 = md5(`${req.method}:${p.uri}`);
  const expected =
    p.qop === 'auth'
      ? md5(`${user.ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`)
      : md5(`${user.ha1}:${p.nonce}:${ha2}`);
  const got = Buffer.from(p.response.toLowerCase());
  const want = Buffer.from(expected);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
  return { ...user.principal, via: 'digest' };
}

export function createRtspAccess(auth: AuthService): RtspAccessControl {
  function refuse(req: RtspAccessRequest, reason: FailureReason, user?: string): RtspAccessResult {
    auth.count('rtsp', reason);
    const fields = { remote: req.remoteAddress, method: req.method, stream: req.stream, user, reason };
    if (reason === 'missing' || reason === 'throttled') auth.log.debug(fields, 'RTSP request refused');
    else if (reason === 'forbidden') auth.log.info(fields, 'RTSP request refused');
    else auth.log.warn(fields, 'RTSP login failed');
    if (reason === 'forbidden') return { ok: false, status: 403, headers: [] };
    if (reason === 'throttled') return { ok: false, status: 503, headers: [['Retry-After', '60']] };
    return { ok: false, status: 401, headers: challenges(req.nonce) };
  }

  async function identify(req: RtspAccessRequest): Promise<Principal | RtspAccessResult> {
    const local = auth.localPrincipal(req.remoteAddress);
    if (local) return local;
    const header = req.authorization;
    if (header === undefined) {
      return (req.principal as Principal | undefined) ?? refuse(req, 'missing');
    }
    if (!(await auth.throttle.admit(req.remoteAddress))) return refuse(req, 'throttled');
    let principal: Principal | undefined;
    let user: string | undefined;
    if (/^digest\s/i.test(header)) {
      principal = checkDigest(auth, header.slice(7), req);
      user = parseParams(header.slice(7)).username;
    } else {
      const creds = parseAuthorization(header);
      if (creds.kind === 'basic') {
        user = creds.user;
        principal = await auth.basic(creds.user, creds.password);
      }
    }
    if (principal) return principal;
    auth.throttle.fail(req.remoteAddress);
    return refuse(req, 'invalid', user?.slice(0, 64));
  }

  return {
    async check(req) {
      const who = await identify(req);
      if ('ok' in who) return who;
      const stream = req.stream ?? '';
      const allowed =
        req.action === 'session' ||
        (req.action === 'read' && hasStream(who.read, stream)) ||
        (req.action === 'publish' && hasStream(who.publish, stream));
      if (!allowed) return refuse(req, 'forbidden', who.user);
      return { ok: true, principal: who };
    },
  };
}
