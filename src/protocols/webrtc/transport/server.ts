/**
 * One UDP socket and one TCP listener shared by every WebRTC peer (go2rtc's :8555, mediasoup's
 * WebRtcServer). Packets are demultiplexed by their first byte (RFC 7983): STUN Binding requests
 * are routed by the local ufrag in USERNAME and authenticated; everything else is routed by where
 * it came from (the UDP address or the TCP connection a valid request arrived on).
 */
import type { RemoteInfo } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { errorMessage, InvalidStateError } from '../../../core/errors.ts';
import type { Logger } from '../../../log/logger.ts';
import type { SrtpProfile } from '../srtp/index.ts';
import {
  bindingError,
  checkBindingRequest,
  isStun,
  StunClass,
  StunMessage,
  StunMethod,
} from '../stun/index.ts';
import { candidateValues, hostAddresses, parseAnnounced } from './candidates.ts';
import { createCertificate, type DtlsCertificate } from './certificate.ts';
import { type IcePath, TcpConnection, UdpPath, udpKey } from './path.ts';
import { WebRtcTransport } from './transport.ts';
import type {
  CreateTransportOptions,
  ServerCounters,
  TransportProtocols,
  WebRtcServerOptions,
} from './types.ts';
import { UdpPort } from './udp.ts';

const DEFAULTS = {
  host: '0.0.0.0',
  consentTimeoutMs: 30_000,
  connectTimeoutMs: 30_000,
  tcpStunTimeoutMs: 5_000,
  maxPendingTcpConnections: 256,
  sweepIntervalMs: 1_000,
  maxTcpFrameSize: 18_432, // a full DTLS record: 2^14 + 2048
  closeDeadlineMs: 1_000,
  srtpProfiles: ['SRTP_AEAD_AES_128_GCM', 'SRTP_AES128_CM_HMAC_SHA1_80'] as SrtpProfile[],
};

/** RFC 7983 §7 first-byte ranges: STUN 0..3, DTLS 20..63, RTP/RTCP 128..191. */
const STUN_FIRST_BYTE_MAX = 3;
const DTLS_FIRST_BYTE_MIN = 20;
const DTLS_FIRST_BYTE_MAX = 63;
const RTP_FIRST_BYTE_MIN = 128;
const RTP_FIRST_BYTE_MAX = 191;

/** Ephemeral UDP ports tried before TCP may take another number than UDP. */
const MAX_PORT_PAIR_ATTEMPTS = 5;

type ResolvedOptions = Required<Omit<WebRtcServerOptions, 'tcpPort' | 'announcedAddresses'>> &
  Pick<WebRtcServerOptions, 'tcpPort' | 'announcedAddresses'>;

type ServerState = 'new' | 'listening' | 'closing' | 'closed';

export class WebRtcServer {
  /** Socket-level counters (bad STUN, garbage, TCP rejections). */
  readonly counters: ServerCounters = {
    udpIn: 0,
    tcpFramesIn: 0,
    stunUnknownUsername: 0,
    stunRejected: 0,
    stunMalformed: 0,
    unrouted: 0,
    tcpAccepted: 0,
    tcpRejected: 0,
    tcpEvicted: 0,
  };
  readonly #opts: ResolvedOptions;
  readonly #log: Logger;
  readonly #certificate: DtlsCertificate;
  #state: ServerState = 'new';
  #accepting = true;
  #udp = new UdpPort();
  #tcp: Server | undefined;
  #tcpClosed: Promise<void> | undefined;
  #ports = { udpPort: 0, tcpPort: 0 };
  #sweep: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  /** Local ufrag -> transport. */
  readonly #byUfrag = new Map<string, WebRtcTransport>();
  /** `udp:<ip>:<port>` -> the transport a valid request from there authenticated. */
  readonly #udpRoutes = new Map<string, { transport: WebRtcTransport; path: UdpPath }>();
  /** Every TCP connection, with the transport it authenticated for (undefined until then). */
  readonly #connections = new Map<TcpConnection, WebRtcTransport | undefined>();
  /** The connections not yet authenticated, oldest first. */
  readonly #pendingTcp = new Set<TcpConnection>();

  constructor(opts: WebRtcServerOptions) {
    this.#opts = { ...DEFAULTS, ...definedOnly(opts) } as ResolvedOptions;
    this.#log = opts.log;
    this.#certificate = createCertificate();
  }

  /** Live transports. */
  get transportCount(): number {
    return this.#byUfrag.size;
  }

  /** The bound ports (0 before `listen()`). */
  get ports(): { udpPort: number; tcpPort: number } {
    return { ...this.#ports };
  }

  /** The DTLS certificate's fingerprint, the same for every transport. */
  get fingerprint(): { algorithm: 'sha-256'; value: string } {
    return this.#certificate.fingerprint;
  }

  /** Binds the UDP socket, then the TCP listener. Rejects (and frees both) if either fails. */
  async listen(): Promise<{ udpPort: number; tcpPort: number }> {
    if (this.#state !== 'new') throw new InvalidStateError(`webrtc server: listen() while ${this.#state}`);
    this.#state = 'listening';
    const host = this.#opts.host;
    try {
      const sameAsUdp = this.#opts.tcpPort === undefined && this.#opts.udpPort === 0;
      for (let attempt = 1; ; attempt++) {
        this.#ports.udpPort = await this.#udp.bind(
          host,
          this.#opts.udpPort,
          (msg, rinfo) => this.#onUdp(msg, rinfo),
          (err) => this.#log.warn({ err: errorMessage(err) }, 'webrtc udp socket error'),
        );
        try {
          this.#ports.tcpPort = await this.#listenTcp(host, this.#opts.tcpPort ?? this.#ports.udpPort);
          break;
        } catch (err) {
          if (!sameAsUdp) throw err;
          if (attempt === MAX_PORT_PAIR_ATTEMPTS) {
            this.#ports.tcpPort = await this.#listenTcp(host, 0);
            break;
          }
          // Another process holds the ephemeral UDP number on TCP: try another pair.
          await this.#udp.close(0);
          this.#udp = new UdpPort();
        }
      }
    } catch (err) {
      await this.#closeSockets();
      this.#state = 'closed';
      throw err;
    }
    this.#sweep = setInterval(() => this.#sweepTimeouts(), this.#opts.sweepIntervalMs);
    this.#log.info({ ...this.#ports, host }, 'webrtc server listening');
    return this.ports;
  }

  /**
   * A transport for one peer: ICE-lite, DTLS server (answer with `a=setup:passive`). Throws
   * InvalidStateError after `stopAccepting()` or `close()`.
   */
  createTransport(opts: CreateTransportOptions): WebRtcTransport {
    if (!this.#accepting || this.#state === 'closing' || this.#state === 'closed') {
      throw new InvalidStateError('webrtc server: not accepting new transports');
    }
    const transport = new WebRtcTransport(opts, {
      certificate: this.#certificate,
      srtpProfiles: this.#opts.srtpProfiles,
      log: this.#log,
    });
    this.#byUfrag.set(transport.localUfrag, transport);
    transport.once('@close', () => this.#forget(transport));
    return transport;
  }

  /**
   * `a=candidate` values for this server (the text after `a=candidate:`; write
   * `a=candidate:${value}`): the host addresses (the bound address, or every interface address
   * with IPv4 first when bound to a wildcard), then the announced ones. TCP candidates are
   * `tcptype passive`. Empty before `listen()`.
   */
  candidates(transports: TransportProtocols): string[] {
    if (this.#ports.udpPort === 0) return [];
    const { udpPort, tcpPort } = this.#ports;
    const hosts = hostAddresses(this.#opts.host).map((address) => ({ address, udpPort, tcpPort }));
    const announced = (this.#opts.announcedAddresses ?? [])
      .map((a) => parseAnnounced(a, udpPort, tcpPort))
      .filter((a) => a !== undefined);
    return candidateValues([...hosts, ...announced], transports);
  }

  /** Stops accepting TCP connections and new transports; live ones keep working. */
  stopAccepting(): void {
    this.#accepting = false;
    const tcp = this.#tcp;
    if (tcp && !this.#tcpClosed) this.#tcpClosed = new Promise((resolve) => tcp.close(() => resolve()));
  }

  /**
   * Closes every transport (each sends its DTLS close alert through its still-open socket), then
   * ends the TCP connections, then closes the listeners. Idempotent; never rejects, errors are
   * collected and logged.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const errors: unknown[] = [];
    this.#state = 'closing';
    this.stopAccepting();
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const transport of [...this.#byUfrag.values()]) {
      try {
        transport.close();
      } catch (err) {
        errors.push(err);
      }
    }
    const ends = [...this.#connections.keys()].map((c) => c.end(this.#opts.closeDeadlineMs));
    await Promise.allSettled(ends);
    try {
      await this.#closeSockets();
    } catch (err) {
      errors.push(err);
    }
    this.#state = 'closed';
    if (errors.length > 0)
      this.#log.warn({ errors: errors.map(errorMessage) }, 'webrtc server closed with errors');
    else this.#log.debug('webrtc server closed');
  }

  #listenTcp(host: string, port: number): Promise<number> {
    const server = createServer((socket) => this.#onTcpConnection(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#log.warn({ err: errorMessage(err) }, 'webrtc tcp listener error'));
        this.#tcp = server;
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Destroys what is left of the TCP connections, then closes both listeners. */
  async #closeSockets(): Promise<void> {
    this.stopAccepting();
    await Promise.all([...this.#connections.keys()].map((c) => c.destroy()));
    await Promise.all([this.#udp.close(this.#opts.closeDeadlineMs), this.#tcpClosed]);
  }

  #onUdp(msg: Buffer, rinfo: RemoteInfo): void {
    this.counters.udpIn++;
    const key = udpKey(rinfo.address, rinfo.port);
    const route = this.#udpRoutes.get(key);
    if (msg.length > 0 && msg[0] <= STUN_FIRST_BYTE_MAX) {
      this.#onStun(msg, route?.path ?? new UdpPath(rinfo.address, rinfo.port, this.#udp.send));
      return;
    }
    if (!route || !isDtlsOrMedia(msg)) {
      this.counters.unrouted++;
      return;
    }
    route.transport.handlePacket(msg, route.path);
  }

  #onTcpConnection(socket: Socket): void {
    if (!this.#accepting) {
      this.counters.tcpRejected++;
      socket.destroy();
      return;
    }
    this.counters.tcpAccepted++;
    const conn = new TcpConnection(socket, this.#opts.maxTcpFrameSize, {
      onPacket: (packet, c) => this.#onTcpPacket(packet, c),
      onFramingError: (err, c) => {
        this.counters.tcpRejected++;
        this.#log.debug(
          { err: err.message, peer: `${c.address}:${c.port}` },
          'webrtc tcp framing error, closing',
        );
      },
      onClose: (c) => {
        const transport = this.#connections.get(c);
        this.#connections.delete(c);
        this.#pendingTcp.delete(c);
        transport?.pathClosed(c);
      },
    });
    if (this.#pendingTcp.size >= this.#opts.maxPendingTcpConnections) {
      const oldest = this.#pendingTcp.values().next().value as TcpConnection;
      this.#pendingTcp.delete(oldest);
      this.counters.tcpEvicted++;
      oldest.destroy().catch(() => {});
    }
    this.#connections.set(conn, undefined);
    this.#pendingTcp.add(conn);
  }

  #onTcpPacket(packet: Buffer, conn: TcpConnection): void {
    this.counters.tcpFramesIn++;
    if (packet[0] <= STUN_FIRST_BYTE_MAX) {
      this.#onStun(packet, conn);
      return;
    }
    const transport = this.#connections.get(conn);
    if (!transport || !isDtlsOrMedia(packet)) {
      this.counters.unrouted++;
      return;
    }
    transport.handlePacket(packet, conn);
  }

  /** A STUN packet from `path`: authenticate, route, answer. Never throws. */
  #onStun(packet: Buffer, path: IcePath): void {
    let msg: StunMessage;
    try {
      if (!isStun(packet)) throw new Error('not STUN');
      msg = StunMessage.parse(packet);
    } catch {
      this.counters.stunMalformed++;
      return;
    }
    if (msg.method !== StunMethod.Binding || msg.cls !== StunClass.Request) {
      if (msg.cls !== StunClass.Indication) this.counters.stunMalformed++; // indications are keepalives
      return;
    }
    const ufrag = msg.username?.split(':', 1)[0];
    if (ufrag === undefined) {
      this.counters.stunRejected++;
      path.send(bindingError(msg, 400, 'Bad Request')); // RFC 8489 §9.1.3: no USERNAME
      return;
    }
    const transport = this.#byUfrag.get(ufrag);
    if (!transport || transport.state === 'closed') {
      this.counters.stunUnknownUsername++;
      path.send(bindingError(msg, 401, 'Unauthorized'));
      return;
    }
    let check: ReturnType<typeof checkBindingRequest>;
    try {
      check = checkBindingRequest(msg, { ufrag: transport.localUfrag, pwd: transport.localPwd });
    } catch {
      check = { ok: false, reason: 'malformed' };
    }
    const allowed = transport.transports === 'any' || transport.transports === path.protocol;
    if (!check.ok || check.remoteUfrag !== transport.remoteUfrag || !allowed) {
      this.counters.stunRejected++;
      const code = check.ok ? 401 : check.code;
      if (code !== undefined)
        path.send(bindingError(msg, code, code === 400 ? 'Bad Request' : 'Unauthorized'));
      return;
    }
    this.#route(transport, path);
    transport.handleBinding(msg, check.useCandidate, path);
  }

  /** Points `path` at `transport` (taking it from another transport if the peer moved). */
  #route(transport: WebRtcTransport, path: IcePath): void {
    if (path instanceof TcpConnection) {
      this.#pendingTcp.delete(path);
      const previous = this.#connections.get(path);
      if (previous !== transport) {
        previous?.dropPath(path);
        this.#connections.set(path, transport);
      }
      return;
    }
    const previous = this.#udpRoutes.get(path.key);
    if (previous?.transport !== transport && path instanceof UdpPath) {
      previous?.transport.dropPath(path);
      this.#udpRoutes.set(path.key, { transport, path });
    }
  }

  /** `@close` of a transport: drop its routes and end its TCP connections (after its alert). */
  #forget(transport: WebRtcTransport): void {
    if (this.#byUfrag.get(transport.localUfrag) === transport) this.#byUfrag.delete(transport.localUfrag);
    for (const path of transport.paths()) {
      if (path instanceof TcpConnection) {
        if (this.#connections.get(path) === transport) path.end(this.#opts.closeDeadlineMs).catch(() => {});
      } else if (this.#udpRoutes.get(path.key)?.transport === transport) {
        this.#udpRoutes.delete(path.key);
      }
    }
  }

  /** The one timer: consent and connect timeouts of transports, STUN timeouts of TCP connections. */
  #sweepTimeouts(): void {
    const now = Date.now();
    const { consentTimeoutMs, connectTimeoutMs, tcpStunTimeoutMs } = this.#opts;
    for (const transport of [...this.#byUfrag.values()]) {
      transport.checkTimeouts(now, consentTimeoutMs, connectTimeoutMs);
    }
    for (const conn of [...this.#pendingTcp]) {
      if (now - conn.acceptedAt <= tcpStunTimeoutMs) break; // oldest first: the rest are younger
      this.#pendingTcp.delete(conn);
      if (conn.closed) continue;
      this.counters.tcpRejected++;
      conn.destroy().catch(() => {});
    }
  }
}

/** DTLS or RTP/RTCP by the first byte; anything else has no owner on these ports. */
function isDtlsOrMedia(packet: Buffer): boolean {
  if (packet.length === 0) return false;
  const b = packet[0];
  return (
    (b >= DTLS_FIRST_BYTE_MIN && b <= DTLS_FIRST_BYTE_MAX) ||
    (b >= RTP_FIRST_BYTE_MIN && b <= RTP_FIRST_BYTE_MAX)
  );
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
