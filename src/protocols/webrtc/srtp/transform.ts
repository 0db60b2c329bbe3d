/**
 * What a profile's cipher does to one packet, once the context has worked out the SSRC and the
 * packet index. Implementations hold their cipher and keys for the life of the context.
 */

export interface SrtpTransform {
  /** Bytes appended to an SRTP packet. */
  readonly rtpOverhead: number;
  /** Bytes appended to an SRTCP packet (index word and tag). */
  readonly rtcpOverhead: number;
  /** Bytes after the E || index word in an SRTCP packet: the tag for AES-CM, none for GCM. */
  readonly rtcpIndexTrailer: number;
  /** Encrypts the payload after `headerLength` and appends the tag; returns a new buffer. */
  protectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer;
  /** Verifies the tag and decrypts; returns a new buffer without the tag. Throws SrtpError. */
  unprotectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer;
  /** Encrypts after the first 8 bytes, appends E || SRTCP index and the tag. */
  protectRtcp(packet: Buffer, ssrc: number, index: number): Buffer;
  /**
   * Verifies and, when `encrypted` (the E flag), decrypts; returns the RTCP packet. The caller has
   * checked the length and read `index` from the E || index word.
   */
  unprotectRtcp(packet: Buffer, ssrc: number, index: number, encrypted: boolean): Buffer;
}

/** E flag of the E || SRTCP index word (RFC 3711 §3.4). */
export const RTCP_ENCRYPTED_FLAG = 0x80000000;
/** Size of the E || SRTCP index word, bytes. */
export const RTCP_INDEX_SIZE = 4;
/** Largest SRTCP index (31 bits). */
export const MAX_RTCP_INDEX = 0x7fffffff;
