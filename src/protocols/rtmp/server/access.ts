/**
 * Who may publish or play which stream over RTMP. RTMP has no authentication of its own, so the
 * credentials travel in the URL as with MediaMTX: `rtmp://host/live/NAME?user=U&pass=P`, or
 * `?token=T` (a stream token from /api/token, for playing). Without an `auth:` section everything
 * is allowed; failures go through the gateway's throttle like HTTP and RTSP logins.
 */
import type { AuthService } from '../../../auth/index.ts';
import { hasStream, type Principal } from '../../../auth/types.ts';

export interface RtmpAccessRequest {
  action: 'read' | 'publish';
  stream: string;
  /** The query of the app and stream name. */
  params: URLSearchParams;
  /** The peer's IP address (no port). */
  address: string;
}

/** Undefined when allowed, else why not (for the client's onStatus description). */
export type RtmpAccess = (req: RtmpAccessRequest) => Promise<string | undefined>;

/** The access check for the gateway's `auth:` users; everything is allowed without them. */
export function rtmpAccess(auth: AuthService | undefined): RtmpAccess {
  if (!auth) return async () => undefined;
  return async (req) => {
    let principal: Principal | undefined = auth.localPrincipal(req.address);
    const token = req.params.get('token');
    const user = req.params.get('user');
    if (!principal && token) {
      const check = auth.token(token);
      if (!('principal' in check)) return `token ${check.reason}`;
      principal = check.principal;
    } else if (!principal && user !== null) {
      if (!(await auth.throttle.admit(req.address))) return 'too many failed logins, try later';
      principal = await auth.basic(user, req.params.get('pass') ?? '');
      if (!principal) {
        auth.throttle.fail(req.address);
        auth.log.warn({ remote: req.address, user: user.slice(0, 64), proto: 'rtmp' }, 'RTMP login failed');
        return 'wrong user or password';
      }
    }
    if (!principal) return 'authentication required (?user=NAME&pass=PASSWORD)';
    const set = req.action === 'read' ? principal.read : principal.publish;
    if (!hasStream(set, req.stream)) return `not allowed to ${req.action} "${req.stream}"`;
    return undefined;
  };
}
