/**
 * AEAD_AES_128_GCM and AEAD_AES_256_GCM for SRTP and SRTCP (RFC 7714 §8, §9).
 *
 * SRTP IV (§8.1), XORed with the 12-byte salt:     SRTCP IV (§9.1), XORed with the salt:
 *   0  0 | SSRC (4) | ROC (4) | SEQ (2)              0  0 | SSRC (4) | 0 0 | 0 | index (31 bits)
 * SRTP AAD = the RTP header; output = header || ciphertext || tag (16).
 * SRTCP AAD = first 8 bytes || E || index; output = header || ciphertext || tag || E || index. With
 * E = 0 nothing is encrypted and the whole packet is AAD (§9.3).
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { SrtpError } from './errors.ts';
import { RTCP_HEADER_SIZE } from './header.ts';
import type { SessionKeys } from './kdf.ts';
import { RTCP_ENCRYPTED_FLAG, RTCP_INDEX_SIZE, type SrtpTransform } from './transform.ts';

const TAG_SIZE = 16;
const IV_SIZE = 12;
const IV_SSRC_OFFSET = 2;
const IV_ROC_OFFSET = 6;
const IV_SEQ_OFFSET = 10;
const IV_RTCP_INDEX_OFFSET = 8;

/** One direction (RTP or RTCP) of a GCM context: the key object and the salt. */
class Gcm {
  readonly #algorithm: 'aes-128-gcm' | 'aes-256-gcm';
  readonly #key: KeyObject;
  readonly #salt: Buffer;

  constructor(keys: SessionKeys) {
    this.#algorithm = keys.key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
    this.#key = createSecretKey(keys.key);
    this.#salt = Buffer.from(keys.salt);
  }

  /** `iv` XOR salt, in place. */
  salted(iv: Buffer): Buffer {
    for (let i = 0; i < IV_SIZE; i++) iv[i] ^= this.#salt[i];
    return iv;
  }

  seal(iv: Buffer, aad: Uint8Array, plaintext: Uint8Array): [Buffer, Buffer] {
    const c = createCipheriv(this.#algorithm, this.#key, iv, { authTagLength: TAG_SIZE });
    c.setAAD(aad);
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return [ct, c.getAuthTag()];
  }

  /** Plaintext, or undefined when the tag does not verify. */
  open(iv: Buffer, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Buffer | undefined {
    const d = createDecipheriv(this.#algorithm, this.#key, iv, { authTagLength: TAG_SIZE });
    d.setAAD(aad);
    d.setAuthTag(tag);
    try {
      return Buffer.concat([d.update(ciphertext), d.final()]);
    } catch {
      return undefined;
    }
  }
}

export class AesGcmTransform implements SrtpTransform {
  readonly rtpOverhead = TAG_SIZE;
  readonly rtcpOverhead = TAG_SIZE + RTCP_INDEX_SIZE;
  readonly rtcpIndexTrailer = 0;
  readonly #rtp: Gcm;
  readonly #rtcp: Gcm;

  constructor(rtp: SessionKeys, rtcp: SessionKeys) {
    this.#rtp = new Gcm(rtp);
    this.#rtcp = new Gcm(rtcp);
  }

  #rtpIv(ssrc: number, roc: number, seq: number): Buffer {
    const iv = Buffer.alloc(IV_SIZE);
    iv.writeUInt32BE(ssrc >>> 0, IV_SSRC_OFFSET);
    iv.writeUInt32BE(roc >>> 0, IV_ROC_OFFSET);
    iv.writeUInt16BE(seq, IV_SEQ_OFFSET);
    return this.#rtp.salted(iv);
  }

  #rtcpIv(ssrc: number, index: number): Buffer {
    const iv = Buffer.alloc(IV_SIZE);
    iv.writeUInt32BE(ssrc >>> 0, IV_SSRC_OFFSET);
    iv.writeUInt32BE(index, IV_RTCP_INDEX_OFFSET);
    return this.#rtcp.salted(iv);
  }

  protectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer {
    const header = packet.subarray(0, headerLength);
    const [ct, tag] = this.#rtp.seal(this.#rtpIv(ssrc, roc, seq), header, packet.subarray(headerLength));
    return Buffer.concat([header, ct, tag]);
  }

  unprotectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer {
    const header = packet.subarray(0, headerLength);
    const end = packet.length - TAG_SIZE;
    const plain = this.#rtp.open(
      this.#rtpIv(ssrc, roc, seq),
      header,
      packet.subarray(headerLength, end),
      packet.subarray(end),
    );
    if (!plain)
      throw new SrtpError('srtp', 'auth', `authentication failed for SSRC ${ssrc} seq ${seq} ROC ${roc}`);
    return Buffer.concat([header, plain]);
  }

  protectRtcp(packet: Buffer, ssrc: number, index: number): Buffer {
    const word = Buffer.alloc(RTCP_INDEX_SIZE);
    word.writeUInt32BE((RTCP_ENCRYPTED_FLAG | index) >>> 0, 0);
    const header = packet.subarray(0, RTCP_HEADER_SIZE);
    const aad = Buffer.concat([header, word]);
    const [ct, tag] = this.#rtcp.seal(this.#rtcpIv(ssrc, index), aad, packet.subarray(RTCP_HEADER_SIZE));
    return Buffer.concat([header, ct, tag, word]);
  }

  unprotectRtcp(packet: Buffer, ssrc: number, index: number, encrypted: boolean): Buffer {
    const wordAt = packet.length - RTCP_INDEX_SIZE;
    const tagAt = wordAt - TAG_SIZE;
    const word = packet.subarray(wordAt);
    const tag = packet.subarray(tagAt, wordAt);
    const iv = this.#rtcpIv(ssrc, index);
    if (!encrypted) {
      const body = packet.subarray(0, tagAt);
      if (!this.#rtcp.open(iv, Buffer.concat([body, word]), Buffer.alloc(0), tag)) {
        throw new SrtpError('srtcp', 'auth', `authentication failed for SSRC ${ssrc} index ${index}`);
      }
      return Buffer.from(body);
    }
    const header = packet.subarray(0, RTCP_HEADER_SIZE);
    const plain = this.#rtcp.open(
      iv,
      Buffer.concat([header, word]),
      packet.subarray(RTCP_HEADER_SIZE, tagAt),
      tag,
    );
    if (!plain) throw new SrtpError('srtcp', 'auth', `authentication failed for SSRC ${ssrc} index ${index}`);
    return Buffer.concat([header, plain]);
  }
}
