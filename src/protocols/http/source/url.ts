/**
 * Source URLs of the HTTP client: `http://[user:pass@]host[:port]/path?query#option#option`, and
 * `https://` (certificates not verified: cameras use their own). Options follow the fragment,
 * each after a `#` (values may contain `&` and spaces):
 *
 *   #header=Name: value   an extra request header (repeatable)
 *   #interval=SECONDS     how often a JPEG snapshot URL is polled (default 5)
 *   #timeout=SECONDS      connect timeout (default 5) and no-data timeout (default 10)
 *   #format=KIND          skip content detection: flv, mpegts, mjpeg, jpeg, h264, h265, adts
 *
 * User and password in the URL become Basic credentials.
 */
import { BadRequestError } from '../../../core/errors.ts';
import { maskSecrets } from '../../../core/mask.ts';
import { CONTENT_KINDS, type ContentKind } from './detect.ts';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
export const DEFAULT_NO_DATA_TIMEOUT_MS = 10000;
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 5000;
/** Redirects followed at most. */
export const MAX_REDIRECTS = 5;
const MAX_SECONDS = 3600;
const MIN_INTERVAL_S = 0.1;
const MAX_HEADERS = 32;
/** Header names and values must not be able to smuggle a second header or request. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const HEADER_VALUE = /^[^\r\n\0]{0,4096}$/;

export interface HttpSourceOptions {
  /** The URL requested: no userinfo, no fragment. */
  url: string;
  /** For logs and errors: secrets masked, options left out. */
  display: string;
  /** `user:password` for Basic authentication, percent-decoded. */
  auth?: string;
  /** Extra request headers. */
  headers: Record<string, string>;
  /** Forced content kind, else detected. */
  format?: ContentKind;
  snapshotIntervalMs: number;
  connectTimeoutMs: number;
  noDataTimeoutMs: number;
}

/** Parses an `http://` or `https://` source URL; throws BadRequestError naming the problem. */
export function parseHttpSourceUrl(raw: string): HttpSourceOptions {
  const hash = raw.indexOf('#');
  const base = hash < 0 ? raw : raw.slice(0, hash);
  // Header values may be credentials: errors and logs show the URL without its options.
  const display = maskSecrets(base);
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new BadRequestError(`source "${display}" is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new BadRequestError(`source "${display}" is not an http:// or https:// URL`);
  }
  if (!u.hostname) throw new BadRequestError(`source "${display}" has no host`);
  const opts: HttpSourceOptions = {
    url: '',
    display,
    headers: {},
    snapshotIntervalMs: DEFAULT_SNAPSHOT_INTERVAL_MS,
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    noDataTimeoutMs: DEFAULT_NO_DATA_TIMEOUT_MS,
  };
  if (u.username || u.password) opts.auth = `${decode(u.username)}:${decode(u.password)}`;
  u.username = '';
  u.password = '';
  opts.url = u.toString();
  if (hash >= 0) applyOptions(opts, raw.slice(hash + 1));
  return opts;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function seconds(opts: HttpSourceOptions, key: string, value: string, min: number): number {
  const n = Number(value);
  if (!value || !Number.isFinite(n) || n < min || n > MAX_SECONDS) {
    throw new BadRequestError(`source "${opts.display}": bad option "#${key}=${value.slice(0, 32)}"`);
  }
  return Math.round(n * 1000);
}

function applyOptions(opts: HttpSourceOptions, fragment: string): void {
  for (const item of fragment.split('#')) {
    if (!item) continue;
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : decode(item.slice(eq + 1));
    switch (key) {
      case 'header': {
        const colon = value.indexOf(':');
        const name = colon < 0 ? '' : value.slice(0, colon).trim();
        const text = colon < 0 ? '' : value.slice(colon + 1).trim();
        if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(text)) {
          throw new BadRequestError(
            `source "${opts.display}": bad option "#header=": expected "Name: value"`,
          );
        }
        if (Object.keys(opts.headers).length >= MAX_HEADERS) {
          throw new BadRequestError(`source "${opts.display}": more than ${MAX_HEADERS} headers`);
        }
        opts.headers[name] = text;
        break;
      }
      case 'interval':
        opts.snapshotIntervalMs = seconds(opts, key, value, MIN_INTERVAL_S);
        break;
      case 'timeout':
        opts.connectTimeoutMs = opts.noDataTimeoutMs = seconds(opts, key, value, MIN_INTERVAL_S);
        break;
      case 'format': {
        const kind = value.toLowerCase() as ContentKind;
        if (!CONTENT_KINDS.includes(kind)) {
          throw new BadRequestError(
            `source "${opts.display}": bad option "#format=${value.slice(0, 16)}" (one of ${CONTENT_KINDS.join(', ')})`,
          );
        }
        opts.format = kind;
        break;
      }
      // Unknown options are ignored, as go2rtc's.
    }
  }
}
