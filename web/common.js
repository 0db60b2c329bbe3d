import { authFetch } from './auth.js';

/**
 * Helpers shared by the pages of the web UI: the header, element building and API calls whose
 * failures carry the server's JSON error text.
 */

/**
 * An element with content and attributes: `el('a', 'open', { href: 'x' })`. `content` is text, a
 * node or an array of nodes; attributes named `onX` are event listeners.
 */
export function el(tag, content, attrs = {}) {
  const e = document.createElement(tag);
  if (Array.isArray(content)) e.append(...content);
  else if (content instanceof Node) e.append(content);
  else if (content !== undefined && content !== null) e.textContent = String(content);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  return e;
}

/** An error from the API: `status` and the server's own message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Calls the API relative to the page with the stored credential (a 401 leads to the login page);
 * resolves with the parsed JSON, throws ApiError with the server's text.
 */
export async function api(path, init) {
  const res = await authFetch(path, init);
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const message = body && typeof body === 'object' && 'error' in body ? body.error : text || res.statusText;
    throw new ApiError(res.status, `${res.status}: ${message}`);
  }
  return body;
}

/** The page's `?name=` parameter. */
export function param(name) {
  return new URLSearchParams(location.search).get(name) ?? '';
}

const PAGES = [
  ['index.html', 'Streams'],
  ['recordings.html', 'Recordings'],
  ['log.html', 'Log'],
  ['diag.html', 'Diagnostics'],
];

/** Fills <header> with the navigation and the gateway version. */
export function header(current) {
  const h = document.querySelector('header');
  const nav = el('nav');
  for (const [href, label] of PAGES)
    nav.append(el('a', label, { href, 'aria-current': href === current && 'page' }));
  const version = el('span', '', { class: 'version' });
  h.replaceChildren(el('a', 'mediagate', { href: 'index.html', class: 'brand' }), nav, version);
  api('api')
    .then((info) => {
      version.textContent = `v${info.version}`;
    })
    .catch(() => {});
}

/** `1234567` -> `1.2 Mb/s`. */
export function formatBitrate(bitsPerSecond) {
  if (!(bitsPerSecond > 0)) return '—';
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(1)} Mb/s`;
  return `${Math.round(bitsPerSecond / 1e3)} kb/s`;
}
