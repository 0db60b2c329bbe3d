/**
 * SDP text -> `SessionDescription` (RFC 8866 §5), tolerant of what cameras really send.
 *
 *   v=0                                  session section: v o s i u e p c b t r z k a
 *   o=- 1 1 IN IP4 192.168.1.64
 *   s=Media Presentation
 *   t=0 0
 *   a=control:*
 *   m=video 0 RTP/AVP 96                 media section: m i c b k a, repeated
 *   a=rtpmap:96 H264/90000
 *
 * Accepted and repaired: CRLF, LF or CR line ends, white space around lines, empty lines, lines
 * without `=`, unknown line types, missing `o=`, `s=`, `c=` or `t=`, an `o=` with too few or too
 * many fields, non-numeric formats. Rejected with `ParseError`: input that contains no `v=` and no
 * `m=` line, and an `m=` line without a media type, a numeric port and a protocol.
 */
import { ParseError } from '../core/errors.ts';
import type {
  SdpAttribute,
  SdpBandwidth,
  SdpConnection,
  SdpMediaDescription,
  SdpOrigin,
  SessionDescription,
} from './types.ts';

const WHAT = 'sdp';
/** Caps what a hostile peer can make us split; real descriptions are a few kB. */
export const SDP_MAX_SIZE = 256 * 1024;
/** Field separators: the whitespace `trim()` removes, so no field ends in what a re-parse trims. */
const SPACES = /\s+/;
const PORT = /^(\d{1,5})(?:\/(\d{1,5}))?$/;

/** The origin written when an `o=` line is missing. */
export function defaultOrigin(): SdpOrigin {
  return {
    username: '-',
    sessionId: '0',
    sessionVersion: '0',
    netType: 'IN',
    addrType: 'IP4',
    address: '0.0.0.0',
  };
}

/**
 * Parses an SDP body. A `Buffer` is decoded as UTF-8. Throws `ParseError` only for input that is
 * not a session description at all (see the file comment); everything else is kept or skipped.
 */
export function parseSdp(input: string | Uint8Array): SessionDescription {
  if (input.length > SDP_MAX_SIZE) {
    throw new ParseError(WHAT, `description is ${input.length} bytes, limit ${SDP_MAX_SIZE}`);
  }
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  const sdp: SessionDescription = {
    version: 0,
    origin: defaultOrigin(),
    sessionName: '',
    emails: [],
    phones: [],
    bandwidths: [],
    timings: [],
    attributes: [],
    medias: [],
  };
  let media: SdpMediaDescription | undefined;
  let sawVersion = false;
  for (const [lineOffset, raw] of lines(text)) {
    const line = raw.trim();
    // `x=` with a one-letter type; anything else (HTTP-ish junk, blank lines) is skipped.
    if (line.length < 2 || line[1] !== '=') continue;
    const type = line[0];
    const value = line.slice(2).trim();
    if (type === 'm') {
      media = parseMediaLine(value, lineOffset);
      sdp.medias.push(media);
      continue;
    }
    if (type === 'a') {
      (media ? media.attributes : sdp.attributes).push(parseAttribute(value));
      continue;
    }
    if (media) {
      applyMediaLine(media, type, value);
    } else if (type === 'v') {
      sawVersion = true;
    } else {
      applySessionLine(sdp, type, value);
    }
  }
  if (!sawVersion && sdp.medias.length === 0) {
    throw new ParseError(WHAT, 'no v= or m= line found');
  }
  return sdp;
}

/** Yields `[offset, line]` for each line, so errors can say where in the input they are. */
function* lines(text: string): Generator<[number, string]> {
  const lineBreak = /\r\n|\r|\n/g;
  let start = 0;
  for (let m = lineBreak.exec(text); m; m = lineBreak.exec(text)) {
    yield [start, text.slice(start, m.index)];
    start = m.index + m[0].length;
  }
  yield [start, text.slice(start)];
}

function applySessionLine(sdp: SessionDescription, type: string, value: string): void {
  switch (type) {
    case 'o':
      sdp.origin = parseOrigin(value);
      break;
    case 's':
      sdp.sessionName = value;
      break;
    case 'i':
      sdp.information = value;
      break;
    case 'u':
      sdp.uri = value;
      break;
    case 'e':
      sdp.emails.push(value);
      break;
    case 'p':
      sdp.phones.push(value);
      break;
    case 'c': {
      const c = parseConnection(value);
      if (c) sdp.connection = c;
      break;
    }
    case 'b': {
      const b = parseBandwidth(value);
      if (b) sdp.bandwidths.push(b);
      break;
    }
    case 't': {
      const [start = '0', stop = '0'] = value.split(SPACES).filter((f) => f !== '');
      sdp.timings.push({ start, stop, repeats: [] });
      break;
    }
    case 'r':
      sdp.timings.at(-1)?.repeats.push(value);
      break;
    case 'z':
      sdp.timeZones = value;
      break;
    case 'k':
      sdp.encryptionKey = value;
      break;
    default:
      // Unknown line types are ignored (RFC 8866 §5).
      break;
  }
}

function applyMediaLine(media: SdpMediaDescription, type: string, value: string): void {
  switch (type) {
    case 'i':
      media.information = value;
      break;
    case 'c': {
      const c = parseConnection(value);
      if (c) media.connections.push(c);
      break;
    }
    case 'b': {
      const b = parseBandwidth(value);
      if (b) media.bandwidths.push(b);
      break;
    }
    case 'k':
      media.encryptionKey = value;
      break;
    default:
      break;
  }
}

/** `m=<media> <port>[/<number of ports>] <proto> <fmt> ...`; RFC 8866 §5.14. */
function parseMediaLine(value: string, offset: number): SdpMediaDescription {
  const fields = value.split(SPACES);
  if (fields.length < 3 || !fields[0]) {
    throw new ParseError(WHAT, `m= line needs media, port and protocol: "${value.slice(0, 80)}"`, offset);
  }
  const port = PORT.exec(fields[1]);
  if (!port || Number(port[1]) > 0xffff) {
    throw new ParseError(WHAT, `m= line has a bad port "${fields[1].slice(0, 20)}"`, offset);
  }
  const media: SdpMediaDescription = {
    kind: fields[0],
    port: Number(port[1]),
    protocol: fields[2],
    formats: fields.slice(3),
    connections: [],
    bandwidths: [],
    attributes: [],
  };
  if (port[2] !== undefined) media.portCount = Number(port[2]);
  return media;
}

/** `o=` with exactly six fields; more are folded into the version, fewer are defaulted. */
function parseOrigin(value: string): SdpOrigin {
  const f = value.split(SPACES);
  const origin = defaultOrigin();
  if (f.length >= 6) {
    const n = f.length;
    return {
      username: f[0],
      sessionId: f[1],
      sessionVersion: f.slice(2, n - 3).join(' '),
      netType: f[n - 3],
      addrType: f[n - 2],
      address: f[n - 1],
    };
  }
  const keys = ['username', 'sessionId', 'sessionVersion', 'netType', 'addrType', 'address'] as const;
  f.forEach((v, i) => {
    if (v) origin[keys[i]] = v;
  });
  return origin;
}

function parseConnection(value: string): SdpConnection | undefined {
  const [netType, addrType, address] = value.split(SPACES);
  if (!netType || !addrType || !address) return undefined;
  return { netType, addrType, address };
}

function parseBandwidth(value: string): SdpBandwidth | undefined {
  const colon = value.indexOf(':');
  if (colon <= 0) return undefined;
  const bandwidth = Number(value.slice(colon + 1).trim());
  if (!Number.isFinite(bandwidth)) return undefined;
  return { type: value.slice(0, colon).trim(), bandwidth };
}

/** `a=<attribute-name>[:<attribute-value>]`; RFC 8866 §5.13. */
export function parseAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  if (colon < 0) return { key: value };
  // The value keeps its leading white space (`a=msid-semantic: WMS`) so serializing is lossless.
  return { key: value.slice(0, colon).trim(), value: value.slice(colon + 1) };
}
