/**
 * Request URLs of the RTSP server: the stream name, the track a SETUP names, and go2rtc's codec
 * query (`rtsp://host:8554/NAME?video=h264,h265&audio=pcma,opus`).
 *
 * - No query: the server's default query, else `video&audio`: the first video and the first audio
 *   track of any codec.
 * - Each `video` / `audio` parameter asks for one track of that kind; its value lists acceptable
 *   codecs in order of preference. An empty value, `any`, `copy` or `all` accepts any codec.
 * - A query with only `video` gives a video-only session, and so on; other parameters are ignored.
 */
import type { MediaRequest } from '../../../core/consumer.ts';
import { BadRequestError } from '../../../core/errors.ts';
import type { Codec, CodecName, MediaKind } from '../../../core/media.ts';

/** Codec names and aliases accepted in the query, lower case. */
const CODEC_ALIASES: Record<string, CodecName> = {
  h264: 'H264',
  avc: 'H264',
  h265: 'H265',
  hevc: 'H265',
  mjpeg: 'JPEG',
  jpeg: 'JPEG',
  aac: 'AAC',
  'mpeg4-generic': 'AAC',
  opus: 'OPUS',
  pcma: 'PCMA',
  alaw: 'PCMA',
  g711a: 'PCMA',
  pcmu: 'PCMU',
  mulaw: 'PCMU',
  g711u: 'PCMU',
  g711: 'PCMU',
  l16: 'L16',
};
const ANY = new Set(['', 'any', 'copy', 'all']);

/** What a request URL says. */
export interface RtspTarget {
  /** Stream name: the path without its leading and trailing `/`, percent-decoded. */
  name: string;
  /** The query string without `?` ('' when none). */
  query: string;
  /** The index of `/trackID=N` at the end of the URL, when present. */
  trackIndex?: number;
}

const TRACK_SUFFIX = /\/trackID=(\d{1,3})$/i;
const MAX_URL = 4096;

/**
 * Parses an RTSP request URL (`rtsp://host:port/path?query[/trackID=N]`, or an absolute path).
 * A relative control is appended to the Content-Base by clients, so `/trackID=N` may come after
 * the query. Throws BadRequestError for a URL without a usable path.
 */
export function parseTarget(uri: string): RtspTarget {
  if (uri.length > MAX_URL) throw new BadRequestError(`URL of ${uri.length} characters`);
  let rest = uri;
  let trackIndex: number | undefined;
  const m = TRACK_SUFFIX.exec(rest);
  if (m) {
    trackIndex = Number(m[1]);
    rest = rest.slice(0, m.index);
  }
  let path: string;
  let query = '';
  if (/^rtsps?:\/\//i.test(rest)) {
    let url: URL;
    try {
      url = new URL(rest);
    } catch {
      throw new BadRequestError(`malformed URL "${uri.slice(0, 80)}"`);
    }
    path = url.pathname;
    query = url.search.slice(1);
  } else if (rest.startsWith('/')) {
    const q = rest.indexOf('?');
    path = q < 0 ? rest : rest.slice(0, q);
    query = q < 0 ? '' : rest.slice(q + 1);
  } else {
    throw new BadRequestError(`malformed URL "${uri.slice(0, 80)}"`);
  }
  // Content-Base ends with '/', so a query may carry it: `?video=h264/`.
  if (query.endsWith('/')) query = query.slice(0, -1);
  let name: string;
  try {
    name = decodeURIComponent(path.replace(/^\/+|\/+$/g, ''));
  } catch {
    throw new BadRequestError(`malformed URL "${uri.slice(0, 80)}"`);
  }
  if (!name) throw new BadRequestError('URL names no stream');
  return trackIndex === undefined ? { name, query } : { name, query, trackIndex };
}

/** The media requests of a query (see the file comment). Throws BadRequestError for an unknown codec. */
export function requestsFromQuery(query: string, defaultQuery = 'video&audio'): MediaRequest[] {
  const params = new URLSearchParams(query);
  const out: MediaRequest[] = [];
  const read = (p: URLSearchParams) => {
    for (const [key, value] of p) {
      const kind = key.toLowerCase();
      if (kind !== 'video' && kind !== 'audio') continue;
      out.push({ kind, codecs: parseCodecs(kind, value) });
    }
  };
  read(params);
  if (out.length === 0) read(new URLSearchParams(defaultQuery));
  if (out.length === 0) {
    out.push({ kind: 'video', codecs: 'any' }, { kind: 'audio', codecs: 'any' });
  }
  return out;
}

function parseCodecs(kind: MediaKind, value: string): Codec[] | 'any' {
  const names = value
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '');
  if (names.length === 0 || names.some((n) => ANY.has(n))) return 'any';
  return names.map((n) => {
    const name = CODEC_ALIASES[n];
    if (!name) throw new BadRequestError(`unknown ${kind} codec "${n.slice(0, 20)}" in the URL query`);
    // clockRate 0: any rate matches (negotiate.codecMatches compares only rates both sides set).
    return { name, clockRate: 0 };
  });
}
