/**
 * Parsers and formatters for the values of the attributes the gateway reads. Each parser takes the
 * text after `a=<key>:` and returns undefined for a value it cannot read, so one bad line from a
 * camera costs that line only.
 */
import type {
  SdpAttribute,
  SdpCandidate,
  SdpDirection,
  SdpExtmap,
  SdpFingerprint,
  SdpGroup,
  SdpRtcpFb,
  SdpRtpmap,
  SdpSetup,
  SdpSsrc,
  SdpSsrcGroup,
} from './types.ts';

const SPACES = /[ \t]+/;
const MAX_PAYLOAD_TYPE = 127;
const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
const SETUPS: ReadonlySet<string> = new Set(['active', 'passive', 'actpass', 'holdconn']);
// `96 H264/90000`, `96  h264 / 90000`, `97 MPEG4-GENERIC/16000/1`, `96 H264/90000/` (seen in the wild).
const RTPMAP = /^(\d{1,3})\s+([^\s/]+)\s*\/\s*(\d+)(?:\s*\/\s*(\d+))?\s*\/?\s*$/;
const FMTP = /^(\d{1,3})(?:\s+|;|$)(.*)$/;

/** The first value of attribute `key` (case-insensitive), trimmed; '' for a flag attribute. */
export function getAttribute(attrs: readonly SdpAttribute[], key: string): string | undefined {
  const k = key.toLowerCase();
  for (const a of attrs) if (a.key.toLowerCase() === k) return (a.value ?? '').trim();
  return undefined;
}

/** Every value of attribute `key` (case-insensitive), trimmed, in order. */
export function getAttributes(attrs: readonly SdpAttribute[], key: string): string[] {
  const k = key.toLowerCase();
  const out: string[] = [];
  for (const a of attrs) if (a.key.toLowerCase() === k) out.push((a.value ?? '').trim());
  return out;
}

/** The last direction attribute among `attrs`, if any. */
export function getDirection(attrs: readonly SdpAttribute[]): SdpDirection | undefined {
  let dir: SdpDirection | undefined;
  for (const a of attrs) {
    const k = a.key.toLowerCase();
    if (a.value === undefined && DIRECTIONS.has(k)) dir = k as SdpDirection;
  }
  return dir;
}

/** A payload type number in 0..127, or undefined. */
export function parsePayloadType(text: string): number | undefined {
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const pt = Number(text);
  return pt <= MAX_PAYLOAD_TYPE ? pt : undefined;
}

/** `a=rtpmap` value; the encoding name is upper-cased. */
export function parseRtpmap(value: string): SdpRtpmap | undefined {
  const m = RTPMAP.exec(value.trim());
  if (!m) return undefined;
  const payloadType = parsePayloadType(m[1]);
  const clockRate = Number(m[3]);
  if (payloadType === undefined || clockRate <= 0) return undefined;
  const map: SdpRtpmap = { payloadType, encoding: m[2].toUpperCase(), clockRate };
  if (m[4] !== undefined && Number(m[4]) > 0) map.channels = Number(m[4]);
  return map;
}

/** `96 H264/90000`, `111 opus/48000/2` (the name as given). */
export function formatRtpmap(pt: number, encoding: string, clockRate: number, channels?: number): string {
  return `${pt} ${encoding}/${clockRate}${channels !== undefined ? `/${channels}` : ''}`;
}

/**
 * `a=fmtp` value -> payload type and a lower-case key map. Tolerates spaces after `;`, a trailing
 * `;`, values containing `=` (base64) and keys without a value (stored as '').
 */
export function parseFmtp(
  value: string,
): { payloadType: number; params: Record<string, string> } | undefined {
  const m = FMTP.exec(value.trim());
  if (!m) return undefined;
  const payloadType = parsePayloadType(m[1]);
  if (payloadType === undefined) return undefined;
  return { payloadType, params: parseFmtpParams(m[2]) };
}

/** `a=b; c=d` -> `{ a: 'b', c: 'd' }` with lower-case keys; later keys win. */
export function parseFmtpParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const part of text.split(';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (key) params[key] = eq < 0 ? '' : p.slice(eq + 1).trim();
  }
  return params;
}

/** `{ a: 'b', c: '' }` -> `a=b;c`, in insertion order. */
export function formatFmtpParams(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join(';');
}

/** `a=candidate` value (RFC 8839 §5.1); accepts a leading `candidate:` too. */
export function parseCandidate(value: string): SdpCandidate | undefined {
  const f = value
    .trim()
    .replace(/^candidate:/i, '')
    .split(SPACES);
  if (f.length < 8 || f[6].toLowerCase() !== 'typ') return undefined;
  const component = Number(f[1]);
  const priority = Number(f[3]);
  const port = Number(f[5]);
  if (!Number.isInteger(component) || !Number.isInteger(priority) || !Number.isInteger(port))
    return undefined;
  if (port < 0 || port > 0xffff || priority < 0 || priority > 0xffffffff) return undefined;
  const c: SdpCandidate = {
    foundation: f[0],
    component,
    transport: f[2].toLowerCase(),
    priority,
    address: f[4],
    port,
    type: f[7],
    extensions: [],
  };
  for (let i = 8; i + 1 < f.length; i += 2) {
    const [k, v] = [f[i], f[i + 1]];
    if (k === 'raddr') c.relatedAddress = v;
    else if (k === 'rport' && /^\d{1,5}$/.test(v)) c.relatedPort = Number(v);
    else c.extensions.push([k, v]);
  }
  return c;
}

/** The value of an `a=candidate` line (without `candidate:`). */
export function formatCandidate(c: SdpCandidate): string {
  const f = [c.foundation, c.component, c.transport, c.priority, c.address, c.port, 'typ', c.type];
  if (c.relatedAddress !== undefined) f.push('raddr', c.relatedAddress);
  if (c.relatedPort !== undefined) f.push('rport', c.relatedPort);
  for (const [k, v] of c.extensions) f.push(k, v);
  return f.join(' ');
}

/** `sha-256 AB:CD:...`. */
export function parseFingerprint(value: string): SdpFingerprint | undefined {
  const [algorithm, fp] = value.trim().split(SPACES);
  if (!algorithm || !fp) return undefined;
  return { algorithm: algorithm.toLowerCase(), value: fp.toUpperCase() };
}

export function parseSetup(value: string): SdpSetup | undefined {
  const v = value.trim().toLowerCase();
  return SETUPS.has(v) ? (v as SdpSetup) : undefined;
}

/** `96 nack pli`, `* transport-cc`. */
export function parseRtcpFb(value: string): SdpRtcpFb | undefined {
  const [pt, type, ...rest] = value.trim().split(SPACES);
  if (!pt || !type) return undefined;
  const payloadType = pt === '*' ? '*' : parsePayloadType(pt);
  if (payloadType === undefined) return undefined;
  const fb: SdpRtcpFb = { payloadType, type };
  if (rest.length > 0) fb.parameter = rest.join(' ');
  return fb;
}

/** `1 urn:ietf:params:rtp-hdrext:ssrc-audio-level`, `2/recvonly <uri> <attributes>`. */
export function parseExtmap(value: string): SdpExtmap | undefined {
  const [idDir, uri, ...rest] = value.trim().split(SPACES);
  if (!idDir || !uri) return undefined;
  const [idText, dir] = idDir.split('/');
  const id = Number(idText);
  if (!/^\d{1,3}$/.test(idText) || id < 1 || id > 255) return undefined;
  const ext: SdpExtmap = { id, uri };
  if (dir !== undefined) {
    if (!DIRECTIONS.has(dir)) return undefined;
    ext.direction = dir as SdpDirection;
  }
  if (rest.length > 0) ext.attributes = rest.join(' ');
  return ext;
}

function parseSsrcNumber(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffffffff ? n : undefined;
}

/** `12345 cname:abc`, `12345 msid:stream track`. */
export function parseSsrc(value: string): SdpSsrc | undefined {
  const v = value.trim();
  const sp = v.search(SPACES);
  const ssrc = parseSsrcNumber(sp < 0 ? v : v.slice(0, sp));
  if (ssrc === undefined || sp < 0) return undefined;
  const rest = v.slice(sp).trim();
  const colon = rest.indexOf(':');
  if (colon < 0) return { ssrc, attribute: rest };
  return { ssrc, attribute: rest.slice(0, colon), value: rest.slice(colon + 1) };
}

/** `FID 1111 2222`. */
export function parseSsrcGroup(value: string): SdpSsrcGroup | undefined {
  const [semantics, ...rest] = value.trim().split(SPACES);
  if (!semantics) return undefined;
  const ssrcs: number[] = [];
  for (const s of rest) {
    const n = parseSsrcNumber(s);
    if (n === undefined) return undefined;
    ssrcs.push(n);
  }
  return { semantics, ssrcs };
}

/** `BUNDLE 0 1`. */
export function parseGroup(value: string): SdpGroup | undefined {
  const [semantics, ...mids] = value.trim().split(SPACES);
  if (!semantics) return undefined;
  return { semantics, mids: mids.filter((m) => m !== '') };
}
