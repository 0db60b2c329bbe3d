/**
 * AES-CM encryption with HMAC-SHA1 authentication (RFC 3711 §4.1.1, §4.2.1): the
 * SRTP_AES128_CM_HMAC_SHA1_80 and _32 profiles.
 *
 *   IV  = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)        i = packet or SRTCP index
 *   key stream block j = AES(k_e, IV + j)
 *   SRTP  tag = HMAC-SHA1(k_a, header || encrypted payload || ROC)[0..n)
 *   SRTCP tag = HMAC-SHA1(k_a, header || encrypted payload || E || index)[0..n)
 *
 * The session keys are derived once per context and held as KeyObjects. A Node cipher is bound to
 * one IV, so each packet gets a fresh AES-CTR cipher from the held key: measured at about half the
 * cost of one long-lived AES-ECB cipher producing the key stream with a JavaScript XOR.
 */
import { createCipheriv, createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { SrtpError } from './errors.ts';
import { RTCP_HEADER_SIZE } from './header.ts';
import type { SessionKeys } from './kdf.ts';
import { RTCP_ENCRYPTED_FLAG, RTCP_INDEX_SIZE, type SrtpTransform } from './transform.ts';

const BLOCK_SIZE = 16;
const IV_SSRC_OFFSET = 4;
const IV_INDEX_OFFSET = 8; // 48-bit index at bytes 8..13
const ROC_SIZE = 4;

/** One direction (RTP or RTCP) of an AES-CM context. */
class AesCm {
  readonly #algorithm: string;
  readonly #key: KeyObject;
  readonly #salt: Buffer;
  readonly #authKey: KeyObject;
  readonly #tagLength: number;

  constructor(keys: SessionKeys, tagLength: number) {
    this.#algorithm = `aes-${keys.key.length * 8}-ctr`;
    this.#key = createSecretKey(keys.key);
    this.#salt = Buffer.from(keys.salt);
    this.#authKey = createSecretKey(keys.authKey);
    this.#tagLength = tagLength;
  }

  /**
   * `data[start..end)` XOR the key stream for (ssrc, index), in place. Node's AES-CTR increments
   * the whole 128-bit IV, which equals SRTP's 16-bit block counter for packets under 1 MiB.
   */
  crypt(data: Buffer, start: number, end: number, ssrc: number, index: number): void {
    if (end <= start) return;
    const iv = Buffer.alloc(BLOCK_SIZE);
    this.#salt.copy(iv, 0);
    iv.writeUInt32BE((iv.readUInt32BE(IV_SSRC_OFFSET) ^ ssrc) >>> 0, IV_SSRC_OFFSET);
    const high = Math.floor(index / 0x100000000); // index < 2^48
    iv.writeUInt16BE(iv.readUInt16BE(IV_INDEX_OFFSET) ^ high, IV_INDEX_OFFSET);
    iv.writeUInt32BE((iv.readUInt32BE(IV_INDEX_OFFSET + 2) ^ index) >>> 0, IV_INDEX_OFFSET + 2);
    const ctr = createCipheriv(this.#algorithm, this.#key, iv);
    const region = data.subarray(start, end);
    ctr.update(region).copy(region);
  }

  /** The truncated HMAC-SHA1 of `parts`. */
  tag(...parts: Uint8Array[]): Buffer {
    const h = createHmac('sha1', this.#authKey);
    for (const p of parts) h.update(p);
    return h.digest().subarray(0, this.#tagLength);
  }
}

export class AesCmTransform implements SrtpTransform {
  readonly rtpOverhead: number;
  readonly rtcpOverhead: number;
  readonly rtcpIndexTrailer: number;
  readonly #rtp: AesCm;
  readonly #rtcp: AesCm;

  constructor(rtp: SessionKeys, rtcp: SessionKeys, rtpTagLength: number, rtcpTagLength: number) {
    this.#rtp = new AesCm(rtp, rtpTagLength);
    this.#rtcp = new AesCm(rtcp, rtcpTagLength);
    this.rtpOverhead = rtpTagLength;
    this.rtcpOverhead = RTCP_INDEX_SIZE + rtcpTagLength;
    this.rtcpIndexTrailer = rtcpTagLength;
  }

  protectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer {
    const out = Buffer.alloc(packet.length + this.rtpOverhead);
    packet.copy(out);
    this.#rtp.crypt(out, headerLength, packet.length, ssrc, roc * 0x10000 + seq);
    this.#rtp.tag(out.subarray(0, packet.length), rocBytes(roc)).copy(out, packet.length);
    return out;
  }

  unprotectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer {
    const end = packet.length - this.rtpOverhead;
    const expected = this.#rtp.tag(packet.subarray(0, end), rocBytes(roc));
    if (!timingSafeEqual(expected, packet.subarray(end))) {
      throw new SrtpError('srtp', 'auth', `authentication failed for SSRC ${ssrc} seq ${seq} ROC ${roc}`);
    }
    const out = Buffer.from(packet.subarray(0, end));
    this.#rtp.crypt(out, headerLength, end, ssrc, roc * 0x10000 + seq);
    return out;
  }

  protectRtcp(packet: Buffer, ssrc: number, index: number): Buffer {
    const out = Buffer.alloc(packet.length + this.rtcpOverhead);
    packet.copy(out);
    this.#rtcp.crypt(out, RTCP_HEADER_SIZE, packet.length, ssrc, index);
    out.writeUInt32BE((RTCP_ENCRYPTED_FLAG | index) >>> 0, packet.length);
    const signed = packet.length + RTCP_INDEX_SIZE;
    this.#rtcp.tag(out.subarray(0, signed)).copy(out, signed);
    return out;
  }

  unprotectRtcp(packet: Buffer, ssrc: number, index: number, encrypted: boolean): Buffer {
    const signed = packet.length - (this.rtcpOverhead - RTCP_INDEX_SIZE);
    if (!timingSafeEqual(this.#rtcp.tag(packet.subarray(0, signed)), packet.subarray(signed))) {
      throw new SrtpError('srtcp', 'auth', `authentication failed for SSRC ${ssrc} index ${index}`);
    }
    const end = signed - RTCP_INDEX_SIZE;
    const out = Buffer.from(packet.subarray(0, end));
    if (encrypted) this.#rtcp.crypt(out, RTCP_HEADER_SIZE, end, ssrc, index);
    return out;
  }
}

function rocBytes(roc: number): Buffer {
  const b = Buffer.alloc(ROC_SIZE);
  b.writeUInt32BE(roc >>> 0, 0);
  return b;
}
