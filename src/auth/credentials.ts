/**
 * Credentials of an HTTP request: `Authorization: Basic` (user and password), `Authorization:
 * Bearer` or `?token=` (a stream token from /api/token; a browser cannot set headers on a
 * WebSocket, an <img> or a native HLS player, so the query carries it there).
 */
import type { IncomingMessage } from 'node:http';

export type Credentials =
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'token'; token: string }
  | { kind: 'malformed' };

/** Longer headers are not credentials of ours. */
const MAX_HEADER = 4096;

/** The credentials a request carries, if any; the header wins over the query. */
export function credentialsOf(req: IncomingMessage, query: URLSearchParams): Credentials | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) return parseAuthorization(header);
  const token = query.get('token');
  if (token !== null && token !== '') return { kind: 'token', token };
  return undefined;
}

/** Parses an `Authorization` value (RFC 7617 Basic, RFC 6750 Bearer). */
export function parseAuthorization(header: string): Credentials {
  if (header.length > MAX_HEADER) return { kind: 'malformed' };
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer' && value) return { kind: 'token', token: value };
  if (scheme !== 'basic') return { kind: 'malformed' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { kind: 'malformed' };
  return { kind: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
