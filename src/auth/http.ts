/**
 * The one access check of the HTTP layer (`HttpServer.authorize`): every request and every
 * WebSocket upgrade is matched against the policy table (`policy.ts`), its credentials checked
 * (after the throttle's delay for an address that failed before), and refused with 401 (no or
 * bad credentials; `WWW-Authenticate: Basic` unless the request comes from a page's script),
 * 403 (not allowed) or 429 (too many failures). Refusals say nothing more, are logged with the
 * remote address and counted.
 */
import type { IncomingMessage } from 'node:http';
import type { Authorizer, Refusal, RouteInfo } from '../api/http.ts';
import { credentialsOf } from './credentials.ts';
import type { AuthService } from './index.ts';
import { permits, requirementOf } from './policy.ts';
import { type FailureReason, type Principal, REALM } from './types.ts';

const CHALLENGE = `Basic realm="${REALM}", charset="UTF-8"`;

/**
 * True for a request made by a page's script (fetch, XHR, WebSocket: `Sec-Fetch-Dest: empty`) or
 * one that says so (`X-Requested-With`). They get no challenge: the browser would answer it with
 * its own login dialog over a page that handles the 401 itself (web/auth.js). Navigations, media
 * elements and non-browser clients get `WWW-Authenticate: Basic`.
 */
function fromScript(req: IncomingMessage): boolean {
  return req.headers['x-requested-with'] !== undefined || req.headers['sec-fetch-dest'] === 'empty';
}

export function createHttpAuthorizer(auth: AuthService): Authorizer {
  const options = { publicMetrics: auth.config.publicMetrics, publicHealth: auth.config.publicHealth };

  function refuse(req: IncomingMessage, info: RouteInfo, reason: FailureReason, user?: string): Refusal {
    auth.count('http', reason);
    const remote = req.socket.remoteAddress;
    const fields = { remote, path: info.path, method: info.method, user: user?.slice(0, 64), reason };
    if (reason === 'missing' || reason === 'throttled') auth.log.debug(fields, 'request refused');
    else if (reason === 'forbidden') auth.log.info(fields, 'request refused');
    else auth.log.warn(fields, 'login failed');
    if (reason === 'forbidden') return { status: 403, message: 'forbidden' };
    if (reason === 'throttled')
      return {
        status: 429,
        message: 'too many failed logins; try again later',
        headers: { 'retry-after': '60' },
      };
    const headers: Record<string, string> = fromScript(req) ? {} : { 'www-authenticate': CHALLENGE };
    const message = reason === 'missing' ? 'authentication required' : 'invalid or expired credentials';
    return { status: 401, message, headers };
  }

  return async (req, info) => {
    const need = requirementOf(info.method, info.path, info.query, options);
    if (need.kind === 'public' || need.kind === 'session') return undefined;
    const remote = req.socket.remoteAddress ?? '';
    let principal: Principal | undefined = auth.localPrincipal(remote);
    if (!principal) {
      const creds = credentialsOf(req, info.query);
      if (!creds) return refuse(req, info, 'missing');
      if (!(await auth.throttle.admit(remote))) return refuse(req, info, 'throttled');
      const user = creds.kind === 'basic' ? creds.user : undefined;
      if (creds.kind === 'basic') principal = await auth.basic(creds.user, creds.password);
      else if (creds.kind === 'token') {
        const result = auth.token(creds.token);
        if ('reason' in result) {
          auth.throttle.fail(remote);
          return refuse(req, info, result.reason);
        }
        principal = result.principal;
      }
      if (!principal) {
        auth.throttle.fail(remote);
        return refuse(req, info, 'invalid', user);
      }
    }
    if (!permits(principal, need)) return refuse(req, info, 'forbidden', principal.user);
    auth.bind(req, principal);
    return undefined;
  };
}
