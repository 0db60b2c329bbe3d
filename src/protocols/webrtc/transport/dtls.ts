/**
 * The DTLS server side of one transport: werift's `DtlsServer` driven through a transport object of
 * ours (bytes in from the shared sockets, bytes out on the selected path), the peer's certificate
 * checked against the SDP fingerprints (RFC 8122 §5), SRTP keys exported for our SRTP contexts
 * (RFC 5764 §4.2), and the `close_notify` alert werift never sends (RFC 5246 §7.2.1).
 */
import { errorMessage } from '../../../core/errors.ts';
import {
  DTLS_SRTP_EXPORTER_LABEL,
  keyingMaterialLength,
  keyingMaterialToContexts,
  profileById,
  type SrtpContext,
  type SrtpProfile,
} from '../srtp/index.ts';
import { type DtlsCertificate, matchesFingerprint } from './certificate.ts';
import { DtlsServer, WERIFT_SRTP_PROFILE, type WeriftDatagramTransport } from './werift.ts';

/** TLS ContentType alert (RFC 5246 §6.2.1). */
const CONTENT_TYPE_ALERT = 21;
/** AlertLevel warning, AlertDescription close_notify (RFC 5246 §7.2). */
const ALERT_WARNING = 1;
const ALERT_CLOSE_NOTIFY = 0;
/** type(1) version(2) epoch(2) sequence_number(6) length(2) (RFC 6347 §4.1). */
const RECORD_HEADER_SIZE = 13;
/** werift's numbers for ECDSA with SHA-256 (TLS SignatureAndHashAlgorithm). */
const SIGNATURE_HASH = { hash: 4, signature: 3 } as const;

/** The SRTP contexts of a connected session. */
export interface SrtpKeys {
  profile: SrtpProfile;
  /** Protects what we send. */
  local: SrtpContext;
  /** Unprotects what we receive. */
  remote: SrtpContext;
}

export interface DtlsSessionOptions {
  certificate: DtlsCertificate;
  remoteFingerprints: { algorithm: string; value: string }[];
  /** Offered in this order of preference; only the profiles werift implements are used. */
  srtpProfiles: SrtpProfile[];
  /** Sends one DTLS datagram on the selected path. */
  send(packet: Buffer): void;
  /** The handshake is done and the peer's certificate checked; `srtp` is undefined without use_srtp. */
  onConnected(srtp: SrtpKeys | undefined): void;
  /** Decrypted application data (SCTP). */
  onData(data: Buffer): void;
  /** The handshake failed, the certificate did not match, or the peer sent an alert. */
  onClosed(reason: Error): void;
}

/** The record layer state of werift's session this file reads and advances. */
interface WeriftRecordState {
  dtls: { version: { major: number; minor: number }; epoch: number; recordSequenceNumber: number };
  cipher: {
    encryptPacket(pkt: WeriftPlaintext): WeriftPlaintext;
  };
}

interface WeriftPlaintext {
  recordLayerHeader: {
    contentType: number;
    protocolVersion: { major: number; minor: number };
    epoch: number;
    sequenceNumber: number;
    contentLen: number;
  };
  fragment: Buffer;
}

export class DtlsSession {
  readonly #opts: DtlsSessionOptions;
  readonly #server: DtlsServer;
  readonly #lower: WeriftDatagramTransport;
  readonly #unsubscribe: (() => void)[] = [];
  #connected = false;
  #closed = false;

  constructor(opts: DtlsSessionOptions) {
    this.#opts = opts;
    const profiles = opts.srtpProfiles
      .map((p) =>
        p in WERIFT_SRTP_PROFILE ? WERIFT_SRTP_PROFILE[p as keyof typeof WERIFT_SRTP_PROFILE] : undefined,
      )
      .filter((id) => id !== undefined);
    this.#lower = {
      type: 'mediagate',
      address: { address: '', family: 'IPv4', port: 0 },
      closed: false,
      onData: () => {},
      send: async (packet) => {
        if (!this.#closed) opts.send(packet);
      },
      close: async () => {},
    };
    this.#server = new DtlsServer({
      // biome-ignore lint/suspicious/noExplicitAny: werift's Transport type wants a full AddressInfo
      transport: this.#lower as any,
      cert: opts.certificate.certPem,
      key: opts.certificate.keyPem,
      signatureHash: SIGNATURE_HASH,
      srtpProfiles: profiles as (1 | 7)[],
      extendedMasterSecret: true,
      certificateRequest: true, // the peer must send its certificate, to check the fingerprint
    });
    const s = this.#server;
    this.#unsubscribe.push(
      s.onConnect.subscribe(() => this.#onConnect()).unSubscribe,
      s.onData.subscribe((data: Buffer) => {
        if (!this.#closed) opts.onData(data);
      }).unSubscribe,
      s.onError.subscribe((err: Error) =>
        this.#fail(new Error(`dtls handshake failed: ${errorMessage(err)}`)),
      ).unSubscribe,
      s.onClose.subscribe(() => this.#fail(new Error('dtls: the peer sent an alert (close_notify)')))
        .unSubscribe,
    );
  }

  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  /** One DTLS datagram from the peer. Returns false if werift could not take it. Never throws. */
  receive(packet: Buffer): boolean {
    if (this.#closed) return false;
    try {
      this.#lower.onData(packet, ['', 0]); // werift set onData to its record parser
      return true;
    } catch {
      return false; // werift's parser reads before checking lengths
    }
  }

  /** Sends application data (SCTP) once connected. */
  send(data: Buffer): void {
    if (!this.connected) return;
    this.#server.send(data).catch(() => {});
  }

  /**
   * Sends `close_notify` if the handshake is done, then detaches from werift so nothing else leaves.
   * Idempotent; call it while the path can still carry the alert.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#connected) {
      try {
        this.#opts.send(closeNotifyRecord(this.#server));
      } catch {
        // a broken cipher state must not stop the teardown
      }
    }
    this.#closed = true;
    // werift's flight retransmission loop sleeps (uncancellable) and ends when it sees a later flight.
    (this.#server as unknown as { dtls: { flight: number } }).dtls.flight = Number.MAX_SAFE_INTEGER;
    this.#lower.closed = true;
    this.#lower.onData = () => {};
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  #onConnect(): void {
    if (this.#closed || this.#connected) return;
    const cert = this.#server.remoteCertificate;
    if (!cert || !matchesFingerprint(cert, this.#opts.remoteFingerprints)) {
      const want = this.#opts.remoteFingerprints.map((f) => `${f.algorithm} ${f.value}`).join(', ');
      this.#fail(
        new Error(`dtls: the peer's certificate does not match the SDP fingerprint (${want || 'none'})`),
      );
      return;
    }
    let keys: SrtpKeys | undefined;
    const profileId = this.#server.srtp.srtpProfile;
    const profile = profileId === undefined ? undefined : profileById(profileId);
    if (profile) {
      const material = this.#server.exportKeyingMaterial(
        DTLS_SRTP_EXPORTER_LABEL,
        keyingMaterialLength(profile),
      );
      keys = { profile, ...keyingMaterialToContexts(material, profile, false) };
    }
    this.#connected = true;
    this.#opts.onConnected(keys);
  }

  #fail(reason: Error): void {
    if (this.#closed) return;
    this.#opts.onClosed(reason);
  }
}

/**
 * The `close_notify` alert of a connected werift DTLS socket (client or server) as a DTLS 1.2
 * record of its current write epoch, sealed the way werift seals application data (its
 * `DtlsSocket.send`), with the next record sequence number (RFC 6347 §4.1). Advances the socket's
 * sequence number.
 */
export function closeNotifyRecord(socket: object): Buffer {
  const state = socket as WeriftRecordState;
  const { dtls } = state;
  const plain: WeriftPlaintext = {
    recordLayerHeader: {
      contentType: CONTENT_TYPE_ALERT,
      protocolVersion: dtls.version,
      epoch: dtls.epoch,
      sequenceNumber: ++dtls.recordSequenceNumber,
      contentLen: 2,
    },
    fragment: Buffer.from([ALERT_WARNING, ALERT_CLOSE_NOTIFY]),
  };
  return serializeRecord(state.cipher.encryptPacket(plain));
}

/** A DTLS record: 13-byte header, then the (sealed) fragment. */
function serializeRecord(pkt: WeriftPlaintext): Buffer {
  const h = pkt.recordLayerHeader;
  const out = Buffer.alloc(RECORD_HEADER_SIZE + pkt.fragment.length);
  out[0] = h.contentType;
  out[1] = h.protocolVersion.major;
  out[2] = h.protocolVersion.minor;
  out.writeUInt16BE(h.epoch, 3);
  out.writeUIntBE(h.sequenceNumber, 5, 6);
  out.writeUInt16BE(pkt.fragment.length, 11);
  pkt.fragment.copy(out, RECORD_HEADER_SIZE);
  return out;
}
