/**
 * The auth endpoints:
 *
 * - `GET /api/me`: `{auth, user, role, via, streams, publish}`, so that the UI can hide what the
 *   user may not do (open gateway: `auth: false`, role admin, every stream).
 * - `GET /api/token?src=NAME[&src=NAME2|*][&ttl=SECONDS]`: `{token, expires, streams}`, a signed
 *   token that lets a page or player view those streams (`?token=` on /api/ws, /api/webrtc,
 *   /api/stream.*, /api/frame.*). An admin may ask for any stream; a viewer for streams it may
 *   view (so that a player page can open a WebSocket); a token cannot ask for another.
 */
import { HttpError, type HttpServer, sendJson } from '../api/http.ts';
import { BadRequestError } from '../core/errors.ts';
import type { AuthService } from './index.ts';
import { hasStream, type StreamSet } from './types.ts';

/** Lifetime of a token when `ttl` is not given, s. */
const DEFAULT_TTL_S = 600;
const MAX_STREAMS = 64;

const list = (set: StreamSet): string[] | '*' => (set === '*' ? '*' : [...set].sort());

export function mountAuthApi(http: HttpServer, auth: AuthService | undefined): void {
  http.route('GET', '/api/me', (req, res) => {
    const p = auth?.principalOf(req.raw);
    res.setHeader('cache-control', 'no-store');
    if (!auth || !p) {
      sendJson(res, 200, { auth: false, user: null, role: 'admin', via: null, streams: '*', publish: '*' });
      return;
    }
    sendJson(res, 200, {
      auth: true,
      user: p.user,
      role: p.role,
      via: p.via,
      streams: list(p.read),
      publish: list(p.publish),
    });
  });

  http.route('GET', '/api/token', (req, res) => {
    const p = auth?.principalOf(req.raw);
    if (!auth || !p)
      throw new BadRequestError('auth is not configured: every stream is open without a token');
    if (p.via === 'token') throw new HttpError(403, 'forbidden');
    const names = [...new Set(req.query.getAll('src').filter((s) => s !== ''))];
    if (names.length === 0) throw new BadRequestError('missing ?src=NAME (or src=* for every stream)');
    if (names.length > MAX_STREAMS) throw new BadRequestError(`more than ${MAX_STREAMS} streams`);
    const streams = names.includes('*') ? '*' : names;
    const allowed = streams === '*' ? p.read === '*' : streams.every((n) => hasStream(p.read, n));
    if (!allowed) throw new HttpError(403, 'forbidden');
    const ttlParam = req.query.get('ttl');
    const ttl = ttlParam === null || ttlParam === '' ? DEFAULT_TTL_S : Number(ttlParam);
    const max = auth.config.tokenMaxTtlS;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > max)
      throw new BadRequestError(`?ttl= must be whole seconds from 1 to ${max}`);
    const expires = Math.floor(Date.now() / 1000) + ttl;
    const token = auth.tokens.sign({ sub: p.user, streams, exp: expires });
    auth.log.info({ user: p.user, streams, ttl, remote: req.raw.socket.remoteAddress }, 'token issued');
    res.setHeader('cache-control', 'no-store');
    sendJson(res, 200, { token, expires, streams });
  });
}
