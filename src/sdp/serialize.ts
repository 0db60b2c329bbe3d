/**
 * `SessionDescription` -> SDP text in RFC 8866 §5 order, CRLF line ends. Missing mandatory lines
 * are filled in (`s=-`, `t=0 0`) so the output is always a valid description.
 */
import type {
  SdpAttribute,
  SdpBandwidth,
  SdpConnection,
  SdpMediaDescription,
  SessionDescription,
} from './types.ts';

const CRLF = '\r\n';

/** Serializes a description; every line, the last included, ends with CRLF. */
export function serializeSdp(sdp: SessionDescription): string {
  const out: string[] = [];
  const o = sdp.origin;
  out.push(`v=${sdp.version}`);
  out.push(
    `o=${[o.username, o.sessionId, o.sessionVersion, o.netType, o.addrType, o.address].filter((f) => f !== '').join(' ')}`,
  );
  out.push(`s=${sdp.sessionName || '-'}`);
  if (sdp.information !== undefined) out.push(`i=${sdp.information}`);
  if (sdp.uri !== undefined) out.push(`u=${sdp.uri}`);
  for (const e of sdp.emails) out.push(`e=${e}`);
  for (const p of sdp.phones) out.push(`p=${p}`);
  if (sdp.connection) out.push(connectionLine(sdp.connection));
  for (const b of sdp.bandwidths) out.push(bandwidthLine(b));
  if (sdp.timings.length === 0) out.push('t=0 0');
  for (const t of sdp.timings) {
    out.push(`t=${t.start} ${t.stop}`);
    for (const r of t.repeats) out.push(`r=${r}`);
  }
  if (sdp.timeZones !== undefined) out.push(`z=${sdp.timeZones}`);
  if (sdp.encryptionKey !== undefined) out.push(`k=${sdp.encryptionKey}`);
  for (const a of sdp.attributes) out.push(attributeLine(a));
  for (const m of sdp.medias) writeMedia(out, m);
  return out.join(CRLF) + CRLF;
}

function writeMedia(out: string[], m: SdpMediaDescription): void {
  const port = m.portCount !== undefined ? `${m.port}/${m.portCount}` : `${m.port}`;
  out.push(`m=${[m.kind, port, m.protocol, ...m.formats].join(' ')}`);
  if (m.information !== undefined) out.push(`i=${m.information}`);
  for (const c of m.connections) out.push(connectionLine(c));
  for (const b of m.bandwidths) out.push(bandwidthLine(b));
  if (m.encryptionKey !== undefined) out.push(`k=${m.encryptionKey}`);
  for (const a of m.attributes) out.push(attributeLine(a));
}

function connectionLine(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}`;
}

function bandwidthLine(b: SdpBandwidth): string {
  return `b=${b.type}:${b.bandwidth}`;
}

/** `a=key` or `a=key:value`. */
export function attributeLine(a: SdpAttribute): string {
  return a.value === undefined ? `a=${a.key}` : `a=${a.key}:${a.value}`;
}
