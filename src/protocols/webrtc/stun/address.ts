/**
 * IP address text <-> bytes for the STUN address attributes. IPv6 text is written in the RFC 5952
 * canonical form (lower case, longest zero run as `::`).
 */
import { BadRequestError } from '../../../core/errors.ts';

const IPV4_SIZE = 4;
const IPV6_SIZE = 16;
const IPV6_GROUPS = 8;
const IPV4_TEXT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

/** A transport address. `family` is 4 or 6. */
export interface TransportAddress {
  family: 4 | 6;
  address: string;
  /** UDP/TCP port, 0..65535. */
  port: number;
}

/** 4 or 16 bytes for an IPv4 or IPv6 address; throws `BadRequestError` for anything else. */
export function ipToBytes(ip: string): Buffer {
  const v4 = parseIpv4(ip);
  if (v4) return v4;
  const v6 = parseIpv6(ip);
  if (v6) return v6;
  throw new BadRequestError(`not an IP address: "${ip.slice(0, 64)}"`);
}

/** Dotted quad for 4 bytes, RFC 5952 text for 16 bytes. */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === IPV4_SIZE) return bytes.join('.');
  if (bytes.length !== IPV6_SIZE)
    throw new BadRequestError(`IP address must be 4 or 16 bytes, got ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < IPV6_SIZE; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // The longest run of two or more zero groups becomes "::" (the first one on a tie).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < IPV6_GROUPS; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < IPV6_GROUPS && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function parseIpv4(ip: string): Buffer | undefined {
  const m = IPV4_TEXT.exec(ip);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? Buffer.from(octets) : undefined;
}

function parseIpv6(text: string): Buffer | undefined {
  const ip = text.replace(/%.*$/, ''); // zone id (fe80::1%eth0)
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (HEX_GROUP.test(p)) {
        out.push(Number.parseInt(p, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = IPV6_GROUPS - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const buf = Buffer.alloc(IPV6_SIZE);
  for (let i = 0; i < IPV6_GROUPS; i++) buf.writeUInt16BE(all[i], i * 2);
  return buf;
}
