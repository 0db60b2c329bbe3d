/**
 * The RTSP `Transport` (RFC 2326 §12.39), `Session` (§12.37) and `RTP-Info` (§12.33) headers.
 *
 *   Transport: RTP/AVP/TCP;unicast;interleaved=0-1
 *   Transport: RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=1234ABCD;mode=record
 */
import { ParseError } from '../../core/errors.ts';

export interface TransportSpec {
  protocol: 'tcp' | 'udp';
  multicast: boolean;
  /** Interleaved channels (RTP, RTCP) over TCP. */
  interleaved?: [number, number];
  clientPort?: [number, number];
  serverPort?: [number, number];
  ssrc?: number;
  /** `record` for a publisher (ANNOUNCE/RECORD), otherwise play. */
  mode?: 'play' | 'record';
  destination?: string;
  source?: string;
}

const WHAT = 'RTSP Transport';

/** Parses the first acceptable alternative of a Transport header (alternatives are comma-separated). */
export function parseTransports(value: string): TransportSpec[] {
  const out: TransportSpec[] = [];
  for (const alt of value.split(',')) {
    const spec = parseOne(alt.trim());
    if (spec) out.push(spec);
  }
  if (out.length === 0) throw new ParseError(WHAT, `no RTP/AVP transport in "${value.slice(0, 80)}"`);
  return out;
}

function parseOne(text: string): TransportSpec | undefined {
  const parts = text.split(';').map((p) => p.trim());
  const proto = parts[0].toUpperCase();
  if (!proto.startsWith('RTP/AVP')) return undefined;
  const spec: TransportSpec = { protocol: proto === 'RTP/AVP/TCP' ? 'tcp' : 'udp', multicast: false };
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : part.slice(eq + 1);
    switch (key) {
      case 'multicast':
        spec.multicast = true;
        break;
      case 'interleaved':
        spec.interleaved = pair(val, 255);
        break;
      case 'client_port':
        spec.clientPort = pair(val, 65535);
        break;
      case 'server_port':
        spec.serverPort = pair(val, 65535);
        break;
      case 'ssrc':
        if (/^[0-9a-fA-F]{1,8}$/.test(val)) spec.ssrc = Number.parseInt(val, 16);
        break;
      case 'mode':
        spec.mode = val.replace(/"/g, '').toLowerCase() === 'record' ? 'record' : 'play';
        break;
      case 'destination':
        spec.destination = val;
        break;
      case 'source':
        spec.source = val;
        break;
    }
  }
  return spec;
}

/** `0-1` -> [0, 1]; a single `5000` -> [5000, 5001]. */
function pair(value: string, max: number): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
  if (!m) throw new ParseError(WHAT, `bad port or channel range "${value.slice(0, 20)}"`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (a > max || b > max) throw new ParseError(WHAT, `range "${value}" over ${max}`);
  return [a, b];
}

export function formatTransport(spec: TransportSpec): string {
  const parts = [
    spec.protocol === 'tcp' ? 'RTP/AVP/TCP' : 'RTP/AVP',
    spec.multicast ? 'multicast' : 'unicast',
  ];
  if (spec.destination) parts.push(`destination=${spec.destination}`);
  if (spec.source) parts.push(`source=${spec.source}`);
  if (spec.interleaved) parts.push(`interleaved=${spec.interleaved[0]}-${spec.interleaved[1]}`);
  if (spec.clientPort) parts.push(`client_port=${spec.clientPort[0]}-${spec.clientPort[1]}`);
  if (spec.serverPort) parts.push(`server_port=${spec.serverPort[0]}-${spec.serverPort[1]}`);
  if (spec.ssrc !== undefined)
    parts.push(`ssrc=${(spec.ssrc >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
  if (spec.mode === 'record') parts.push('mode=record');
  return parts.join(';');
}

/** `12345678;timeout=60` -> { id, timeout }. */
export function parseSession(value: string): { id: string; timeout?: number } {
  const [id, ...params] = value.split(';').map((p) => p.trim());
  if (!id || id.length > 128) throw new ParseError('RTSP Session', `bad session id "${value.slice(0, 40)}"`);
  let timeout: number | undefined;
  for (const p of params) {
    const m = /^timeout=(\d{1,6})$/i.exec(p);
    if (m) timeout = Number(m[1]);
  }
  return { id, timeout };
}

export interface RtpInfo {
  url: string;
  seq?: number;
  rtptime?: number;
}

export function formatRtpInfo(infos: RtpInfo[]): string {
  return infos
    .map((i) =>
      [
        `url=${i.url}`,
        i.seq !== undefined ? `seq=${i.seq}` : '',
        i.rtptime !== undefined ? `rtptime=${i.rtptime >>> 0}` : '',
      ]
        .filter(Boolean)
        .join(';'),
    )
    .join(',');
}

export function parseRtpInfo(value: string): RtpInfo[] {
  return value.split(',').map((entry) => {
    const info: RtpInfo = { url: '' };
    for (const part of entry.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const k = part.slice(0, eq).trim().toLowerCase();
      const v = part.slice(eq + 1).trim();
      if (k === 'url') info.url = v;
      else if (k === 'seq' && /^\d{1,5}$/.test(v)) info.seq = Number(v);
      else if (k === 'rtptime' && /^\d{1,10}$/.test(v)) info.rtptime = Number(v);
    }
    return info;
  });
}
