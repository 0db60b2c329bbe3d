/**
 * The access policy as one table: what each route of the API asks of a request. Pure; the HTTP
 * check (`http.ts`) and the tests read it. Anything under /api not listed needs an admin, so a new
 * endpoint is closed until it is added here.
 *
 * | route                                         | needs                                  |
 * |-----------------------------------------------|----------------------------------------|
 * | UI files (not /api, not /metrics), OPTIONS     | nothing                                |
 * | /api/health                                   | nothing (`public_health: false`: user) |
 * | /metrics                                      | admin (`public_metrics: true`: nothing)|
 * | /api, /api/me, /api/token, GET /api/streams   | any user (the list shows its streams)  |
 * | GET /api/streams?src=N                        | view N                                 |
 * | PUT/PATCH/DELETE/POST /api/streams            | admin                                  |
 * | /api/ws, POST /api/webrtc                     | view `src`, publish to `dst`           |
 * | GET /api/stream.*, /api/frame.*               | view `src` (and `name`)                |
 * | POST /api/stream.*?dst=N (HTTP ingest)        | publish to N                           |
 * | GET /api/recordings(/file)?src=N              | view N                                 |
 * | /api/hls/*, DELETE/PATCH /api/webrtc?id=      | the session id in the URL              |
 * | anything else under /api (debug, log, record, | admin                                  |
 * | POST /api/streams (back channel), ...)        |                                        |
 */
import { hasStream, type Principal, type Requirement } from './types.ts';

export interface PolicyOptions {
  /** `/metrics` without credentials. Default false. */
  publicMetrics?: boolean;
  /** `/api/health` without credentials. Default true. */
  publicHealth?: boolean;
}

const USER_ROUTES = new Set(['/api', '/api/me', '/api/token']);
/** Players and outputs: their stream is in `src` (go2rtc's naming); `dst` is a publish target. */
const STREAM_ROUTES = new Set(['/api/ws', '/api/webrtc']);
const OUTPUT = /^\/api\/(?:stream|frame)\.[a-z0-9]+$/;
const SESSION_PREFIX = '/api/hls/';
const RECORDINGS = new Set(['/api/recordings', '/api/recordings/file']);

/** What a request needs, from its method, path and query. */
export function requirementOf(
  method: string,
  path: string,
  query: URLSearchParams,
  options: PolicyOptions = {},
): Requirement {
  if (method === 'OPTIONS') return { kind: 'public' };
  if (path === '/metrics') return options.publicMetrics ? { kind: 'public' } : { kind: 'admin' };
  if (path !== '/api' && !path.startsWith('/api/')) return { kind: 'public' };
  if (path === '/api/health') return options.publicHealth === false ? { kind: 'user' } : { kind: 'public' };
  if (USER_ROUTES.has(path)) return { kind: 'user' };
  const read = (): string[] => [...query.getAll('src'), ...query.getAll('name')];
  const reading = method === 'GET' || method === 'HEAD';
  if (path === '/api/streams') {
    if (!reading) return { kind: 'admin' };
    const names = query.getAll('src');
    return names.length > 0 ? { kind: 'streams', read: names, publish: [] } : { kind: 'user' };
  }
  if (path.startsWith(SESSION_PREFIX)) return { kind: 'session' };
  if (path === '/api/webrtc' && method !== 'POST') return { kind: 'session' };
  const output = OUTPUT.test(path);
  if (STREAM_ROUTES.has(path) || (output && (reading || method === 'POST'))) {
    const r = read();
    const publish = query.getAll('dst');
    if (r.length === 0 && publish.length === 0)
      return output && reading ? { kind: 'user' } : { kind: 'admin' };
    return { kind: 'streams', read: r, publish };
  }
  // Recordings of a stream are another way to watch it; the list of every recorded stream is not.
  if (RECORDINGS.has(path) && reading && query.has('src'))
    return { kind: 'streams', read: query.getAll('src'), publish: [] };
  return { kind: 'admin' };
}

/** True when `principal` meets `req` (public and session routes need no principal). */
export function permits(principal: Principal | undefined, req: Requirement): boolean {
  switch (req.kind) {
    case 'public':
    case 'session':
      return true;
    case 'user':
      return principal !== undefined;
    case 'admin':
      return principal?.role === 'admin';
    case 'streams':
      return (
        principal !== undefined &&
        req.read.every((name) => hasStream(principal.read, name)) &&
        req.publish.every((name) => hasStream(principal.publish, name))
      );
  }
}
