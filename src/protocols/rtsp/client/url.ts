/**
 * Source URLs of the RTSP client: `rtsp://user:pass@host:554/path?query#option=value#...` and
 * `rtsps://` (RTSP over TLS). Fragment options follow go2rtc and may be separated by `#` or `&`:
 *
 *   #transport=udp     RTP over UDP instead of TCP interleaved (the default)
 *   #media=video       only these kinds (`video`, `audio`, `video,audio`)
 *   #timeout=SECONDS   connect timeout (default 5) and no-data timeout (default 10)
 *   #backchannel=0     do not ask for the ONVIF audio back channel (asked for by default)
 *
 * Unknown options are ignored so that go2rtc configs keep working.
 */
import { BadRequestError } from '../../../core/errors.ts';
import type { MediaKind } from '../../../core/media.ts';
import { parseSourceUrl } from '../../source-url.ts';

/** Default time for TCP connect plus every answer up to PLAY, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Default time without any RTP after which a playing connection is given up, ms. */
export const DEFAULT_NO_DATA_TIMEOUT_MS = 10000;
const DEFAULT_PORT = { rtsp: 554, rtsps: 322 } as const;
const MAX_TIMEOUT_S = 3600;

/** Everything the client needs to know about one source URL. */
export interface RtspSourceOptions {
  /** The URL requests are made for: scheme, host, port, path and query; no userinfo, no fragment. */
  url: string;
  /** The URL for logs and errors: secrets masked, fragment kept. */
  display: string;
  tls: boolean;
  /** Host name or address, IPv6 without brackets. */
  host: string;
  port: number;
  /** Percent-decoded userinfo; undefined when the URL has none. */
  user?: string;
  pass?: string;
  transport: 'tcp' | 'udp';
  /** Kinds to play; undefined means every kind the camera offers. */
  media?: ReadonlySet<MediaKind>;
  /** TCP connect plus the answers up to PLAY, ms. */
  connectTimeoutMs: number;
  /** No RTP for this long after PLAY closes the connection, ms. */
  noDataTimeoutMs: number;
  /**
   * Ask for the ONVIF back channel (`Require: www.onvif.org/ver20/backchannel` on DESCRIBE, retried
   * without when refused). Default true; `#backchannel=0` turns it off.
   */
  backchannel: boolean;
}

/** Parses a source URL; throws BadRequestError naming the problem. */
export function parseRtspUrl(raw: string): RtspSourceOptions {
  const { url: u, scheme, host, port, display } = parseSourceUrl(raw, DEFAULT_PORT);
  const opts: RtspSourceOptions = {
    url: `${scheme}://${u.host}${u.pathname}${u.search}`,
    display,
    tls: scheme === 'rtsps',
    host,
    port,
    transport: 'tcp',
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    noDataTimeoutMs: DEFAULT_NO_DATA_TIMEOUT_MS,
    backchannel: true,
  };
  if (u.username || u.password) {
    opts.user = decode(u.username, display);
    opts.pass = decode(u.password, display);
  }
  applyFragment(opts, u.hash.slice(1));
  return opts;
}

function decode(text: string, display: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new BadRequestError(`source "${display}": malformed percent-encoding in the user or password`);
  }
}

function applyFragment(opts: RtspSourceOptions, fragment: string): void {
  for (const item of fragment.split(/[#&]/)) {
    if (!item) continue;
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : decodeURIComponentSafe(item.slice(eq + 1)).toLowerCase();
    const bad = () => new BadRequestError(`source "${opts.display}": bad option "#${key}=${value}"`);
    switch (key) {
      case 'transport':
        if (value !== 'tcp' && value !== 'udp') throw bad();
        opts.transport = value;
        break;
      case 'media': {
        const kinds = value.split(',').map((k) => k.trim());
        if (kinds.some((k) => k !== 'video' && k !== 'audio')) throw bad();
        opts.media = new Set(kinds as MediaKind[]);
        break;
      }
      case 'timeout': {
        const seconds = Number(value);
        if (!value || !Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TIMEOUT_S) throw bad();
        opts.connectTimeoutMs = Math.round(seconds * 1000);
        opts.noDataTimeoutMs = Math.round(seconds * 1000);
        break;
      }
      case 'backchannel':
        if (value !== '0' && value !== '1' && value !== 'false' && value !== 'true') throw bad();
        opts.backchannel = value === '1' || value === 'true';
        break;
    }
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
