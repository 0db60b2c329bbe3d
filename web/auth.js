/**
 * Login state of the web UI and an authenticated fetch for the other pages. The credential is a
 * Basic `Authorization` value kept in sessionStorage (gone when the tab closes); requests carry
 * `X-Requested-With` so that a 401 does not make the browser show its own login dialog.
 * URLs a browser fetches by itself (WebSocket, native HLS, <img>) cannot carry the header:
 * `withToken()` adds a short-lived stream token (`/api/token`) to them instead.
 *
 *   import { authFetch, me, withToken } from './auth.js';
 *   const res = await authFetch('api/streams');           // 401 -> login.html?next=<this page>
 *   const user = await me();                               // {auth, user, role, streams, publish}
 *   const ws = new WebSocket(await withToken(`ws://${location.host}/api/ws?src=demo`, 'demo'));
 */

const KEY = 'mediagate.authorization';

/** The stored `Authorization` value, or undefined when not logged in. */
export function authHeader() {
  return sessionStorage.getItem(KEY) ?? undefined;
}

function basic(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

/** Checks the credentials against `/api/me`; stores them and resolves with the user, or throws. */
export async function login(user, password) {
  const header = basic(user, password);
  const res = await fetch('api/me', { headers: { authorization: header, 'x-requested-with': 'mediagate' } });
  if (res.status === 429) throw new Error('too many failed logins from this address; wait and try again');
  if (!res.ok) throw new Error('wrong user name or password');
  sessionStorage.setItem(KEY, header);
  return res.json();
}

export function logout() {
  sessionStorage.removeItem(KEY);
}

/** The login page, coming back to this one after. */
export function loginUrl() {
  return `login.html?next=${encodeURIComponent(location.pathname.replace(/^\//, '') + location.search)}`;
}

/**
 * `fetch` with the stored credential. A 401 sends the page to the login form unless
 * `{redirect: false}` is given; the response is returned either way.
 */
export async function authFetch(path, init = {}, { redirect = true } = {}) {
  const headers = new Headers(init.headers);
  const header = authHeader();
  if (header && !headers.has('authorization')) headers.set('authorization', header);
  headers.set('x-requested-with', 'mediagate');
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401 && redirect) location.href = loginUrl();
  return res;
}

/** Who is logged in: `{auth, user, role, via, streams, publish}` (`auth: false` on an open gateway). */
export async function me() {
  const res = await authFetch('api/me', {}, { redirect: false });
  if (!res.ok) return undefined;
  return res.json();
}

/** True when `user` (from `me()`) may change streams: admins, and everyone on an open gateway. */
export function isAdmin(user) {
  return user !== undefined && (user.auth === false || user.role === 'admin');
}

/**
 * `url` with `token=` for `streams` (a name or a list), valid `ttl` seconds; `url` unchanged on an
 * open gateway or when no token can be had (the request then fails with 401 on its own).
 */
export async function withToken(url, streams, ttl = 600) {
  const names = Array.isArray(streams) ? streams : [streams];
  const query = names.map((s) => `src=${encodeURIComponent(s)}`).join('&');
  const res = await authFetch(`api/token?${query}&ttl=${ttl}`, {}, { redirect: false });
  if (!res.ok) return url;
  const { token } = await res.json();
  const u = new URL(url, location.href);
  u.searchParams.set('token', token);
  return u.toString();
}
