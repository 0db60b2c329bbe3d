/**
 * ICE candidates of the server's two ports (RFC 8445 §5.1, RFC 6544 §4 for TCP): host addresses
 * of this machine plus announced ones, as `a=candidate` values.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { formatCandidate } from '../../../sdp/index.ts';
import type { TransportProtocols } from './types.ts';

/** Type preference of host candidates (RFC 8445 §5.1.2.2). */
const HOST_TYPE_PREFERENCE = 126;
/** Highest local preference; later addresses get one less each. */
const MAX_LOCAL_PREFERENCE = 65535;
/** RFC 6544 §4.2: local preference = 2^13 * direction-pref + other-pref; passive hosts have 4. */
const TCP_PASSIVE_DIRECTION_PREFERENCE = 4;
const TCP_OTHER_PREFERENCE_MAX = 8191;
const COMPONENT_RTP = 1;

export interface CandidateAddress {
  address: string;
  udpPort: number;
  tcpPort: number;
}

/**
 * The addresses to announce for sockets bound to `host`: that address when it is a specific one,
 * else every non-internal address of this machine of the bound family (IPv4 first, no link-local
 * IPv6, which needs a scope id), falling back to loopback when there is none.
 */
export function hostAddresses(host: string): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [host];
  const family = host === '::' ? 'any' : 'IPv4';
  const v4: string[] = [];
  const v6: string[] = [];
  const loopback: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv6' && (family === 'IPv4' || a.address.toLowerCase().startsWith('fe80'))) continue;
      if (a.internal) loopback.push(a.address);
      else (a.family === 'IPv4' ? v4 : v6).push(a.address);
    }
  }
  const all = [...v4, ...v6];
  return all.length > 0 ? all : loopback.filter((a) => family !== 'IPv4' || isIP(a) === 4);
}

/**
 * Parses an announced `ip:port`, `[ipv6]:port` or bare `ip`; a bare address uses the listening
 * ports. Returns undefined for anything else.
 */
export function parseAnnounced(text: string, udpPort: number, tcpPort: number): CandidateAddress | undefined {
  const s = text.trim();
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s);
  let address = s;
  let port: string | undefined;
  if (bracket) [, address, port] = bracket;
  else if (isIP(s) === 0) {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return undefined;
    address = s.slice(0, colon);
    port = s.slice(colon + 1);
  }
  if (isIP(address) === 0) return undefined;
  if (port === undefined) return { address, udpPort, tcpPort };
  const n = Number(port);
  if (!/^\d{1,5}$/.test(port) || n < 1 || n > 0xffff) return undefined;
  return { address, udpPort: n, tcpPort: n };
}

/**
 * `a=candidate` values (the text after `a=candidate:`, e.g.
 * `1 1 udp 2130706431 192.0.2.7 8555 typ host`) for `addresses` in order, UDP and/or TCP. UDP
 * candidates rank above TCP ones of the same address through the RFC 6544 local preference.
 */
export function candidateValues(addresses: CandidateAddress[], transports: TransportProtocols): string[] {
  const out: string[] = [];
  addresses.forEach((a, i) => {
    if (transports !== 'tcp') {
      out.push(
        formatCandidate({
          foundation: String(2 * i + 1),
          component: COMPONENT_RTP,
          transport: 'udp',
          priority: priority(MAX_LOCAL_PREFERENCE - i),
          address: a.address,
          port: a.udpPort,
          type: 'host',
          extensions: [],
        }),
      );
    }
    if (transports !== 'udp') {
      const local = (TCP_PASSIVE_DIRECTION_PREFERENCE << 13) + Math.max(0, TCP_OTHER_PREFERENCE_MAX - i);
      out.push(
        formatCandidate({
          foundation: String(2 * i + 2),
          component: COMPONENT_RTP,
          transport: 'tcp',
          priority: priority(local),
          address: a.address,
          port: a.tcpPort,
          type: 'host',
          extensions: [['tcptype', 'passive']],
        }),
      );
    }
  });
  return out;
}

/** RFC 8445 §5.1.2.1: 2^24 * type pref + 2^8 * local pref + (256 - component id). */
function priority(localPreference: number): number {
  return HOST_TYPE_PREFERENCE * 2 ** 24 + localPreference * 2 ** 8 + (256 - COMPONENT_RTP);
}
