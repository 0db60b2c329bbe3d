/**
 * An SRTP/SRTCP cryptographic context (RFC 3711 §3.2): one master key and salt, the session keys
 * and cipher objects derived from them once, and per-SSRC state: the rollover counter and replay
 * window of each received stream, the rollover counter and SRTCP index of each sent one.
 *
 * Protect and unprotect return new buffers and never modify their input. Unprotect throws
 * `SrtpError` (a `ParseError`) for a packet that fails authentication or replay protection, and
 * plain `ParseError` for one too short to be SRTP; the caller drops it and counts.
 */
import { BadRequestError, ParseError } from '../../../core/errors.ts';
import { AesCmTransform } from './cipher-cm.ts';
import { AesGcmTransform } from './cipher-gcm.ts';
import { SrtpError } from './errors.ts';
import { RTCP_HEADER_SIZE, readRtcpSsrc, readRtpHeader } from './header.ts';
import { deriveSessionKeys, type SessionKeys } from './kdf.ts';
import { SRTP_PROFILES, type SrtpProfile } from './profiles.ts';
import {
  estimateRoc,
  packetIndex,
  ReplayWindow,
  type RocState,
  type SenderRocState,
  senderRoc,
  updateRoc,
} from './replay.ts';
import { MAX_RTCP_INDEX, RTCP_ENCRYPTED_FLAG, RTCP_INDEX_SIZE, type SrtpTransform } from './transform.ts';

/** RFC 3711 §3.3.2: the window must be at least 64 packets. */
const MIN_REPLAY_WINDOW = 64;
/** Streams tracked per direction; the oldest is forgotten past this (a peer cannot add streams without the key). */
const MAX_STREAMS = 1024;

export interface SrtpContextOptions {
  /** Replay window width in packets, 64 (default) or more. */
  replayWindow?: number;
}

interface ReceiveStream extends RocState {
  window: ReplayWindow;
}

export class SrtpContext {
  readonly profile: SrtpProfile;
  #transform: SrtpTransform;
  readonly #windowSize: number;
  readonly #sendRtp = new Map<number, SenderRocState>();
  readonly #recvRtp = new Map<number, ReceiveStream>();
  readonly #sendRtcp = new Map<number, number>();
  readonly #recvRtcp = new Map<number, ReplayWindow>();

  /** A context from a master key and salt (sizes per profile); throws BadRequestError on bad sizes. */
  constructor(
    profile: SrtpProfile,
    masterKey: Uint8Array,
    masterSalt: Uint8Array,
    options: SrtpContextOptions = {},
  ) {
    const keys = deriveSessionKeys(profile, masterKey, masterSalt);
    this.profile = profile;
    this.#windowSize = options.replayWindow ?? MIN_REPLAY_WINDOW;
    if (!Number.isInteger(this.#windowSize) || this.#windowSize < MIN_REPLAY_WINDOW) {
      throw new BadRequestError(
        `srtp: replay window must be at least ${MIN_REPLAY_WINDOW}, got ${this.#windowSize}`,
      );
    }
    this.#transform = createTransform(profile, keys.rtp, keys.rtcp);
  }

  /**
   * A context from session keys directly, skipping the KDF; for test vectors stated in session
   * keys (RFC 7714 §16, §17).
   */
  static fromSessionKeys(
    profile: SrtpProfile,
    rtp: SessionKeys,
    rtcp: SessionKeys,
    options: SrtpContextOptions = {},
  ): SrtpContext {
    const p = SRTP_PROFILES[profile];
    const ctx = new SrtpContext(profile, Buffer.alloc(p.keyLength), Buffer.alloc(p.saltLength), options);
    ctx.#transform = createTransform(profile, rtp, rtcp);
    return ctx;
  }

  /** Encrypts and authenticates an RTP packet. Throws ParseError if it is not RTP. */
  protectRtp(packet: Uint8Array): Buffer {
    const buf = asBuffer(packet);
    const h = readRtpHeader(buf);
    let state = this.#sendRtp.get(h.ssrc);
    if (!state) {
      state = { roc: 0, lastSeq: h.sequenceNumber };
      remember(this.#sendRtp, h.ssrc, state);
    }
    const roc = senderRoc(state, h.sequenceNumber);
    return this.#transform.protectRtp(buf, h.length, h.ssrc, roc, h.sequenceNumber);
  }

  /** Verifies, checks for replay and decrypts an SRTP packet. Throws SrtpError or ParseError. */
  unprotectRtp(packet: Uint8Array): Buffer {
    const buf = asBuffer(packet);
    const h = readRtpHeader(buf);
    const t = this.#transform;
    ParseError.need('srtp', buf, h.length, t.rtpOverhead, 'authentication tag');
    const stream = this.#recvRtp.get(h.ssrc);
    const roc = stream ? estimateRoc(stream, h.sequenceNumber) : 0;
    const index = packetIndex(roc, h.sequenceNumber);
    if (stream && !stream.window.check(index)) {
      throw new SrtpError(
        'srtp',
        'replay',
        `replayed or too old: SSRC ${h.ssrc} seq ${h.sequenceNumber} index ${index}`,
      );
    }
    const out = t.unprotectRtp(buf, h.length, h.ssrc, roc, h.sequenceNumber);
    if (stream) {
      updateRoc(stream, roc, h.sequenceNumber);
      stream.window.accept(index);
    } else {
      const created: ReceiveStream = {
        roc,
        highestSeq: h.sequenceNumber,
        window: new ReplayWindow(this.#windowSize),
      };
      created.window.accept(index);
      remember(this.#recvRtp, h.ssrc, created);
    }
    return out;
  }

  /** Encrypts and authenticates an RTCP compound packet. Throws ParseError if it is not RTCP. */
  protectRtcp(packet: Uint8Array): Buffer {
    const buf = asBuffer(packet);
    const ssrc = readRtcpSsrc(buf);
    const index = this.#sendRtcp.get(ssrc) ?? 0;
    remember(this.#sendRtcp, ssrc, index >= MAX_RTCP_INDEX ? 0 : index + 1);
    return this.#transform.protectRtcp(buf, ssrc, index);
  }

  /** Verifies, checks for replay and decrypts an SRTCP packet. Throws SrtpError or ParseError. */
  unprotectRtcp(packet: Uint8Array): Buffer {
    const buf = asBuffer(packet);
    const ssrc = readRtcpSsrc(buf);
    const t = this.#transform;
    ParseError.need('srtcp', buf, RTCP_HEADER_SIZE, t.rtcpOverhead, 'index and authentication tag');
    const word = buf.readUInt32BE(buf.length - RTCP_INDEX_SIZE - t.rtcpIndexTrailer);
    const index = word & MAX_RTCP_INDEX;
    const encrypted = (word & RTCP_ENCRYPTED_FLAG) !== 0;
    const window = this.#recvRtcp.get(ssrc);
    if (window && !window.check(index)) {
      throw new SrtpError('srtcp', 'replay', `replayed or too old: SSRC ${ssrc} index ${index}`);
    }
    const out = t.unprotectRtcp(buf, ssrc, index, encrypted);
    if (window) window.accept(index);
    else {
      const created = new ReplayWindow(this.#windowSize);
      created.accept(index);
      remember(this.#recvRtcp, ssrc, created);
    }
    return out;
  }
}

function createTransform(profile: SrtpProfile, rtp: SessionKeys, rtcp: SessionKeys): SrtpTransform {
  const p = SRTP_PROFILES[profile];
  for (const [name, keys] of [
    ['rtp', rtp],
    ['rtcp', rtcp],
  ] as const) {
    if (
      keys.key.length !== p.keyLength ||
      keys.salt.length !== p.saltLength ||
      keys.authKey.length !== p.authKeyLength
    ) {
      throw new BadRequestError(
        `srtp: ${profile} ${name} session keys must be ${p.keyLength}/${p.saltLength}/${p.authKeyLength} bytes`,
      );
    }
  }
  return p.aead
    ? new AesGcmTransform(rtp, rtcp)
    : new AesCmTransform(rtp, rtcp, p.rtpTagLength, p.rtcpTagLength);
}

function asBuffer(packet: Uint8Array): Buffer {
  return Buffer.isBuffer(packet) ? packet : Buffer.from(packet.buffer, packet.byteOffset, packet.length);
}

/** Sets `key`, forgetting the oldest entry when the map is full. */
function remember<V>(map: Map<number, V>, key: number, value: V): void {
  if (!map.has(key) && map.size >= MAX_STREAMS) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}
