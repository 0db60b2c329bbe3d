/**
 * Test doubles for the WebRTC peer layer: a transport that records what it is asked to send, a
 * factory of them, offers shaped like Chromium's, and a registry with a scriptable `fake:` source.
 */
import { readFileSync } from 'node:fs';
import { SafeEmitter } from '../../../src/core/emitter.ts';
import type { Codec } from '../../../src/core/media.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import type {
  PeerTransport,
  PeerTransportEvents,
  PeerTransportFactory,
  TransportPolicy,
} from '../../../src/protocols/webrtc/peer/types.ts';
import { FakeDriver, media } from '../../helpers/fakes.ts';

let nextId = 1;

export class FakeTransport extends SafeEmitter<PeerTransportEvents> implements PeerTransport {
  readonly id = nextId++;
  readonly localUfrag = `uf${this.id}`;
  readonly localPwd = 'p'.repeat(24);
  readonly localFingerprint = { algorithm: 'sha-256', value: 'AA:BB' };
  readonly rtp: Buffer[] = [];
  readonly rtcp: Buffer[] = [];
  backlog = 0;
  closeCalls = 0;
  closed = false;

  sendRtp(packet: Buffer): void {
    if (!this.closed) this.rtp.push(packet);
  }
  sendRtcp(packet: Buffer): void {
    if (!this.closed) this.rtcp.push(packet);
  }
  backlogBytes(): number {
    return this.backlog;
  }
  /** Idempotent like the real one; emits `close` once. */
  close(reason?: Error): void {
    this.closeCalls++;
    if (this.closed) return;
    this.closed = true;
    this.emit('close', reason);
  }
  /** The browser sent a DTLS close alert or consent expired. */
  peerGone(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', new Error('dtls close_notify'));
  }
}

export class FakeFactory implements PeerTransportFactory {
  readonly transports: FakeTransport[] = [];
  readonly policies: TransportPolicy[] = [];
  createTransport(params: { transports: TransportPolicy }): FakeTransport {
    const t = new FakeTransport();
    this.transports.push(t);
    this.policies.push(params.transports);
    return t;
  }
  candidates(transports: TransportPolicy): string[] {
    const out: string[] = [];
    if (transports !== 'tcp') out.push('1 1 udp 2130706431 127.0.0.1 8555 typ host');
    if (transports !== 'udp') out.push('2 1 tcp 1671430143 127.0.0.1 8555 typ host tcptype passive');
    return out;
  }
  get last(): FakeTransport {
    return this.transports[this.transports.length - 1];
  }
}

export const CHROMIUM_OFFER = readFileSync(
  new URL('../sdp/fixtures/chromium-offer.sdp', import.meta.url),
  'utf8',
);

/** Chromium's offer with its audio section made recvonly-free (`sendrecv`) and directions set. */
export function chromiumOffer(video: 'sendrecv' | 'recvonly' | 'sendonly' = 'recvonly'): string {
  return CHROMIUM_OFFER.replace('a=sendrecv', `a=${video}`);
}

/** A minimal browser-like offer with the given sections. */
export function offer(
  sections: { kind: string; dir: string; codecs: string[]; fmtp?: string[]; ssrc?: number }[],
): string {
  const lines = [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${sections.map((_, i) => i).join(' ')}`,
  ];
  sections.forEach((s, i) => {
    const pts = s.codecs.map((_, j) => String(96 + j + i * 5));
    if (s.kind === 'application') lines.push('m=application 9 UDP/DTLS/SCTP webrtc-datachannel');
    else lines.push(`m=${s.kind} 9 UDP/TLS/RTP/SAVPF ${pts.join(' ')}`);
    lines.push('c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789012345678901');
    lines.push(
      'a=fingerprint:sha-256 0B:30:55:7A',
      'a=setup:actpass',
      `a=mid:${i}`,
      `a=${s.dir}`,
      'a=rtcp-mux',
    );
    if (s.kind !== 'application') {
      s.codecs.forEach((c, j) => {
        lines.push(`a=rtpmap:${pts[j]} ${c}`, `a=rtcp-fb:${pts[j]} nack`, `a=rtcp-fb:${pts[j]} nack pli`);
        if (s.fmtp?.[j]) lines.push(`a=fmtp:${pts[j]} ${s.fmtp[j]}`);
      });
      if (s.ssrc !== undefined) lines.push(`a=ssrc:${s.ssrc} cname:x`);
    }
  });
  return `${lines.join('\r\n')}\r\n`;
}

export const MAIN_H264: Codec = {
  name: 'H264',
  clockRate: 90000,
  payloadType: 96,
  fmtp: { 'packetization-mode': '1', 'profile-level-id': '4d001e' },
};
export const MONO_OPUS: Codec = { name: 'OPUS', clockRate: 48000, channels: 1, payloadType: 97 };

/** A registry whose `fake:NAME` sources are FakeDrivers with the given codecs. */
export function fakeRegistry(codecs: Codec[] = [MAIN_H264, MONO_OPUS]): {
  registry: StreamRegistry;
  drivers: FakeDriver[];
} {
  const schemes = new SchemeTable();
  const drivers: FakeDriver[] = [];
  schemes.register('fake', () => {
    const d = new FakeDriver(codecs.map(media));
    drivers.push(d);
    return d;
  });
  return { registry: new StreamRegistry(schemes, { idleTimeoutMs: 50 }), drivers };
}
