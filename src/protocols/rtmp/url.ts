/**
 * RTMP URLs. Clients split `rtmp://host[:port]/APP/PLAYPATH` at the first slash of the path, as
 * ffmpeg does: `rtmp://h/live/cam` is app `live` and stream `cam`, `rtmp://h/cam` is app `` (or
 * app `cam` and an empty stream, as some encoders send it) and stream `cam`.
 *
 * Source URLs: `rtmp://host[:1935]/app/stream[?query]` and `rtmps://host[:443]/...` (TLS, not
 * verified, as cameras and relays use their own certificates), with go2rtc-style fragment options:
 *
 *   #timeout=SECONDS   connect timeout (default 5) and no-data timeout (default 10)
 *
 * The server maps an app and stream name to a mediagate stream as MediaMTX does, but flat:
 * `rtmp://host/live/NAME` and `rtmp://host/NAME` are stream NAME; `rtmp://host/APP/NAME` is stream
 * `APP/NAME` when one of that name exists. `?user=U&pass=P` (or `?token=T`) on the app or the
 * stream name carry credentials.
 */
import { BadRequestError } from '../../core/errors.ts';
import { parseSourceUrl } from '../source-url.ts';

/** Default time for TCP connect plus the commands up to the first media, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Default time without media after which a playing connection is given up, ms. */
export const DEFAULT_NO_DATA_TIMEOUT_MS = 10000;
const DEFAULT_PORT = { rtmp: 1935, rtmps: 443 } as const;
const MAX_TIMEOUT_S = 3600;

/** Everything the RTMP client needs to know about one source URL. */
export interface RtmpSourceOptions {
  /** For logs and errors: secrets masked. */
  display: string;
  tls: boolean;
  /** Host name or address, IPv6 without brackets. */
  host: string;
  port: number;
  /** The application, the first path segment (may be empty). */
  app: string;
  /** The stream to play, with the URL's query. */
  playPath: string;
  /** `rtmp://host:port/app`, as sent in `connect`. */
  tcUrl: string;
  connectTimeoutMs: number;
  noDataTimeoutMs: number;
}

/** Parses an `rtmp://` or `rtmps://` source URL; throws BadRequestError naming the problem. */
export function parseRtmpUrl(raw: string): RtmpSourceOptions {
  const { url: u, scheme, host, port, display } = parseSourceUrl(raw, DEFAULT_PORT);
  const path = safeDecode(u.pathname.replace(/^\/+/, ''));
  const slash = path.indexOf('/');
  const app = slash < 0 ? '' : path.slice(0, slash);
  const stream = slash < 0 ? path : path.slice(slash + 1);
  if (!stream) throw new BadRequestError(`source "${display}" names no stream (rtmp://host/app/stream)`);
  const query = new URLSearchParams(u.search);
  if (u.username) query.set('user', safeDecode(u.username));
  if (u.password) query.set('pass', safeDecode(u.password));
  const search = query.toString();
  const opts: RtmpSourceOptions = {
    display,
    tls: scheme === 'rtmps',
    host,
    port,
    app,
    playPath: search ? `${stream}?${search}` : stream,
    tcUrl: `${scheme}://${u.host}/${app}`,
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    noDataTimeoutMs: DEFAULT_NO_DATA_TIMEOUT_MS,
  };
  for (const item of u.hash.slice(1).split(/[#&]/)) {
    const [key, value = ''] = item.split('=', 2);
    if (key.toLowerCase() !== 'timeout') continue; // unknown options are ignored, as go2rtc's
    const seconds = Number(value);
    if (!value || !Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TIMEOUT_S) {
      throw new BadRequestError(`source "${display}": bad option "#timeout=${value}"`);
    }
    opts.connectTimeoutMs = opts.noDataTimeoutMs = Math.round(seconds * 1000);
  }
  return opts;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Where a server connection publishes or plays: the stream name and the credentials sent. */
export interface RtmpTarget {
  stream: string;
  params: URLSearchParams;
}

/**
 * The mediagate stream an app (from `connect`) and a stream name (from `publish`/`play`) mean;
 * see the file comment. `exists` tells whether a stream of a name exists. Undefined when both
 * are empty.
 */
export function resolveTarget(
  app: string,
  name: string,
  exists: (name: string) => boolean,
): RtmpTarget | undefined {
  const params = new URLSearchParams();
  const [a, aq = ''] = splitQuery(app);
  const [n, nq = ''] = splitQuery(name);
  for (const q of [aq, nq]) for (const [k, v] of new URLSearchParams(q)) params.set(k, v);
  const appPath = a.replace(/^\/+|\/+$/g, '');
  const streamName = n.replace(/^\/+|\/+$/g, '');
  if (!streamName) return appPath ? { stream: appPath, params } : undefined;
  if (!appPath) return { stream: streamName, params };
  const full = `${appPath}/${streamName}`;
  return { stream: exists(full) ? full : streamName, params };
}

function splitQuery(text: string): [string, string?] {
  const q = text.indexOf('?');
  return q < 0 ? [text] : [text.slice(0, q), text.slice(q + 1)];
}
