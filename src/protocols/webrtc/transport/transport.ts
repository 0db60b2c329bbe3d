/**
 * One peer's WebRTC transport on the server's shared ports: ICE-lite (answers checks, selects the
 * nominated path), DTLS server, SRTP, and SCTP DataChannels.
 *
 * The server routes packets here (`handleBinding`, `handlePacket`) and sweeps timeouts
 * (`checkTimeouts`); the transport never holds the server, it only sends through `IcePath`s.
 * Teardown order (STYLE.md, mediasoup #1388): DataChannels and SCTP, then the DTLS close alert
 * through the still-open path, then `@close` so the server drops the routes and ends the TCP
 * connection, then `close`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SafeEmitter } from '../../../core/emitter.ts';
import { errorMessage, InvalidStateError, TimeoutError } from '../../../core/errors.ts';
import type { Logger } from '../../../log/logger.ts';
import type { SrtpProfile } from '../srtp/index.ts';
import { bindingSuccess, type StunMessage } from '../stun/index.ts';
import type { DtlsCertificate } from './certificate.ts';
import type { DataChannel } from './datachannel.ts';
import { DtlsSession, type SrtpKeys } from './dtls.ts';
import type { IcePath } from './path.ts';
import { SctpSession } from './sctp.ts';
import type {
  CreateTransportOptions,
  SelectedPath,
  TransportCounters,
  TransportProtocols,
  TransportState,
  WebRtcTransportEvents,
} from './types.ts';

/** RFC 7983 §7: RTP and RTCP first bytes. */
const RTP_FIRST_BYTE_MIN = 128;
const RTP_FIRST_BYTE_MAX = 191;
/** RFC 7983: DTLS first bytes. */
const DTLS_FIRST_BYTE_MIN = 20;
const DTLS_FIRST_BYTE_MAX = 63;
/** RFC 5761 §4: RTCP packet types 192..223 sit where the RTP marker bit and payload type are. */
const RTCP_TYPE_MIN = 192;
const RTCP_TYPE_MAX = 223;
const DEFAULT_SCTP_PORT = 5000;
const DEFAULT_MAX_MESSAGE_SIZE = 262_144;
/** RFC 8445 §5.3: ufrag at least 4 ICE chars, password at least 22. */
const UFRAG_BYTES = 6;
const PWD_BYTES = 18;

/** What the server gives each transport. */
export interface TransportContext {
  certificate: DtlsCertificate;
  srtpProfiles: SrtpProfile[];
  log: Logger;
}

export class WebRtcTransport extends SafeEmitter<WebRtcTransportEvents> {
  readonly id = randomUUID();
  readonly localUfrag = iceString(UFRAG_BYTES);
  readonly localPwd = iceString(PWD_BYTES);
  readonly localFingerprint: { algorithm: 'sha-256'; value: string };
  readonly remoteUfrag: string;
  readonly transports: TransportProtocols;
  readonly counters: TransportCounters = {
    rtpIn: 0,
    rtpOut: 0,
    rtcpIn: 0,
    rtcpOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    dropped: 0,
    srtpErrors: 0,
    stunIn: 0,
    stunOut: 0,
    dtlsIn: 0,
    dtlsOut: 0,
    earlyMedia: 0,
  };
  /** `Date.now()` at creation. */
  readonly createdAt = Date.now();
  #state: TransportState = 'new';
  #selected: IcePath | undefined;
  readonly #paths = new Map<string, IcePath>();
  #lastConsentAt = Date.now();
  #srtp: SrtpKeys | undefined;
  readonly #dtls: DtlsSession;
  #sctp: SctpSession | undefined;
  readonly #opts: CreateTransportOptions;
  readonly #log: Logger;

  /** Created by `WebRtcServer.createTransport()`. */
  constructor(opts: CreateTransportOptions, ctx: TransportContext) {
    super();
    this.#opts = opts;
    this.remoteUfrag = opts.remoteUfrag;
    this.transports = opts.transports;
    this.localFingerprint = ctx.certificate.fingerprint;
    this.#log = ctx.log.child({ transport: this.id });
    this.#dtls = new DtlsSession({
      certificate: ctx.certificate,
      remoteFingerprints: opts.remoteFingerprints,
      srtpProfiles: ctx.srtpProfiles,
      send: (packet) => {
        if (this.#write(packet)) this.counters.dtlsOut++;
      },
      onConnected: (keys) => this.#onDtlsConnected(keys),
      onData: (data) => this.#sctp?.receive(data),
      onClosed: (reason) => this.close(reason),
    });
  }

  get state(): TransportState {
    return this.#state;
  }

  get selected(): SelectedPath | undefined {
    const p = this.#selected;
    return p && { protocol: p.protocol, address: p.address, port: p.port };
  }

  /** The SRTP profile DTLS negotiated, once connected. */
  get srtpProfile(): SrtpProfile | undefined {
    return this.#srtp?.profile;
  }

  /** Plain RTP in; protected and sent on the selected path, or dropped and counted. */
  sendRtp(packet: Buffer): void {
    if (this.#seal(packet, 'rtp')) this.counters.rtpOut++;
  }

  /** Plain RTCP compound packet in; protected and sent, or dropped and counted. */
  sendRtcp(packet: Buffer): void {
    if (this.#seal(packet, 'rtcp')) this.counters.rtcpOut++;
  }

  /** SRTP-protects and writes; false (and counted as dropped) when not connected or not sent. */
  #seal(packet: Buffer, kind: 'rtp' | 'rtcp'): boolean {
    const srtp = this.#srtp;
    if (this.#state === 'connected' && srtp) {
      let sealed: Buffer | undefined;
      try {
        sealed = kind === 'rtp' ? srtp.local.protectRtp(packet) : srtp.local.protectRtcp(packet);
      } catch {
        sealed = undefined;
      }
      if (sealed && this.#write(sealed)) return true;
    }
    this.counters.dropped++;
    return false;
  }

  /** Bytes waiting on the selected path (a TCP socket's unsent bytes; 0 for UDP). */
  backlogBytes(): number {
    return this.#selected?.backlogBytes() ?? 0;
  }

  /**
   * Opens a DataChannel (reliable; ordered unless asked). It opens once DTLS, SCTP and the DCEP
   * handshake are done. Throws InvalidStateError once closed.
   */
  createDataChannel(label: string, opts: { ordered?: boolean; protocol?: string } = {}): DataChannel {
    if (this.#state === 'closed') throw new InvalidStateError(`webrtc transport ${this.id} is closed`);
    return this.#sctpSession().createDataChannel(label, opts);
  }

  /**
   * Closes the transport: DataChannels and SCTP, then the DTLS `close_notify` through the selected
   * path, then the server drops its routes. Idempotent; emits `close` once.
   */
  close(reason?: Error): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const errors: unknown[] = [];
    const step = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        errors.push(err);
      }
    };
    step(() => this.#sctp?.close());
    step(() => this.#dtls.close());
    this.#srtp = undefined;
    this.emit('@close');
    this.#paths.clear();
    this.#selected = undefined;
    if (errors.length > 0) this.#log.warn({ errors: errors.map(errorMessage) }, 'errors while closing');
    this.#log.debug({ reason: reason && errorMessage(reason) }, 'webrtc transport closed');
    this.emit('close', reason);
  }

  /** @internal The paths the peer has authenticated from; the server's routes point here. */
  paths(): IcePath[] {
    return [...this.#paths.values()];
  }

  /** @internal Forgets a path the server gave to another transport. */
  dropPath(path: IcePath): void {
    this.#paths.delete(path.key);
    if (this.#selected === path) this.#selected = this.#paths.values().next().value;
  }

  /**
   * @internal A TCP connection of this transport closed. RFC 6544 §10: it was the only way to the
   * peer on that path; with no other path left, the transport is closed at once.
   */
  pathClosed(path: IcePath): void {
    if (this.#state === 'closed' || !this.#paths.has(path.key)) return;
    this.dropPath(path);
    if (!this.#selected)
      this.close(new InvalidStateError(`webrtc transport ${this.id}: its TCP connection closed`));
  }

  /**
   * @internal An authenticated Binding request (the server checked USERNAME and integrity) from
   * `path`: refreshes consent, selects the path if nominated (or if none is), answers it.
   */
  handleBinding(request: StunMessage, useCandidate: boolean, path: IcePath): void {
    if (this.#state === 'closed') return;
    this.counters.stunIn++;
    this.counters.bytesIn += request.raw?.length ?? 0;
    this.#lastConsentAt = Date.now();
    this.#paths.set(path.key, path);
    if (useCandidate || !this.#selected) this.#selected = path;
    if (this.#state === 'new') this.#state = 'connecting';
    const response = bindingSuccess(
      request,
      { address: unmapIpv4(path.address), port: path.port },
      this.localPwd,
    );
    if (path.send(response)) {
      this.counters.stunOut++;
      this.counters.bytesOut += response.length;
    }
  }

  /** @internal A non-STUN packet from an authenticated path: DTLS, or SRTP/SRTCP. */
  handlePacket(packet: Buffer, path: IcePath): void {
    if (this.#state === 'closed' || packet.length === 0) return;
    this.counters.bytesIn += packet.length;
    const first = packet[0];
    if (first >= DTLS_FIRST_BYTE_MIN && first <= DTLS_FIRST_BYTE_MAX) {
      if (!this.#selected) this.#selected = path;
      this.counters.dtlsIn++;
      this.#dtls.receive(packet);
      return;
    }
    if (first < RTP_FIRST_BYTE_MIN || first > RTP_FIRST_BYTE_MAX || packet.length < 2) return;
    const srtp = this.#srtp;
    if (!srtp) {
      this.counters.earlyMedia++;
      return;
    }
    const isRtcp = packet[1] >= RTCP_TYPE_MIN && packet[1] <= RTCP_TYPE_MAX;
    let plain: Buffer;
    try {
      plain = isRtcp ? srtp.remote.unprotectRtcp(packet) : srtp.remote.unprotectRtp(packet);
    } catch {
      this.counters.srtpErrors++;
      return;
    }
    if (isRtcp) {
      this.counters.rtcpIn++;
      this.emit('rtcp', plain);
    } else {
      this.counters.rtpIn++;
      this.emit('rtp', plain);
    }
  }

  /**
   * @internal Closes the transport with a TimeoutError when consent expired (no valid STUN
   * request for `consentMs`) or it is not connected `connectMs` after creation.
   */
  checkTimeouts(now: number, consentMs: number, connectMs: number): void {
    if (this.#state === 'closed') return;
    if (now - this.#lastConsentAt > consentMs) {
      this.close(
        new TimeoutError(`webrtc transport ${this.id}: no ICE consent for ${now - this.#lastConsentAt} ms`),
      );
    } else if (this.#state !== 'connected' && now - this.createdAt > connectMs) {
      this.close(
        new TimeoutError(`webrtc transport ${this.id}: not connected after ${now - this.createdAt} ms`),
      );
    }
  }

  /** Sends on the selected path; false (and nothing thrown) when there is none or it is closed. */
  #write(packet: Buffer): boolean {
    if (!this.#selected?.send(packet)) return false;
    this.counters.bytesOut += packet.length;
    return true;
  }

  #onDtlsConnected(keys: SrtpKeys | undefined): void {
    if (this.#state === 'closed') return;
    this.#srtp = keys;
    this.#state = 'connected';
    this.#sctpSession();
    this.#log.debug({ selected: this.selected, srtp: keys?.profile }, 'webrtc transport connected');
    this.emit('connected');
  }

  #sctpSession(): SctpSession {
    this.#sctp ??= new SctpSession({
      port: this.#opts.sctpPort ?? DEFAULT_SCTP_PORT,
      maxMessageSize: this.#opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      send: (packet) => this.#dtls.send(packet),
      onDataChannel: (channel) => this.emit('datachannel', channel),
      log: this.#log,
    });
    return this.#sctp;
  }
}

/** Random ICE characters (RFC 8445 §15.4: ALPHA / DIGIT / "+" / "/"). */
function iceString(bytes: number): string {
  return randomBytes(bytes).toString('base64');
}

/** `::ffff:192.0.2.1` -> `192.0.2.1` (a dual-stack socket's view of an IPv4 peer). */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
