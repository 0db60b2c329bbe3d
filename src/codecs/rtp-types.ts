/**
 * The contract between the RTP layer and the codec layer: what a depayloader takes (a structural
 * RTP packet, so `src/codecs` does not depend on `src/rtp`) and what a payloader returns.
 */
import type { Frame } from '../core/media.ts';

/** Default payload size limit in bytes: fits an RTP packet with header and SRTP tag in 1280-byte paths. */
export const DEFAULT_MTU = 1200;

/** The fields of an RTP packet a depayloader needs. */
export interface RtpInput {
  /**
   * The payload after header, CSRCs, extension and padding are removed; may be a view. Depayloaders
   * keep views of it (until the frame completes, and in the frames they emit), so the caller must
   * not reuse the underlying memory.
   */
  payload: Buffer;
  /** RTP timestamp already unwrapped, in clock units. */
  timestamp: number;
  marker: boolean;
  /** 16-bit RTP sequence number; used to detect lost fragments inside a frame. */
  sequenceNumber: number;
}

/** One RTP payload produced by a payloader, with the header fields it decides. */
export interface RtpOutput {
  payload: Buffer;
  /** RTP timestamp in clock units (unwrapped, like `Frame.pts`). */
  timestamp: number;
  /** Marker bit: last packet of a video frame, last fragment of an AAC access unit, every other audio packet. */
  marker: boolean;
}

/**
 * Turns RTP packets into frames. Depayloaders never throw on packet content: a malformed packet is
 * dropped and counted in `invalid`, and is handled like a lost packet (the partial frame is dropped).
 */
export interface Depayloader {
  /**
   * Feeds one packet. Returns a frame when one completes (video: on the marker bit or a timestamp
   * change). A packet can complete more than one frame (several AAC access units in one packet, or a
   * video frame without marker flushed together with the next one): the others are returned by
   * `next()`, which the caller should call until it returns undefined (see `depayloadAll`).
   * Undrained frames stay queued and come out of later calls, oldest first.
   */
  push(pkt: RtpInput): Frame | undefined;
  /** The next frame completed by earlier pushes, or undefined. */
  next(): Frame | undefined;
  /**
   * Packet loss: drops the partial frame. Video depayloaders then drop frames until a keyframe arrives.
   * Queued complete frames are kept.
   */
  reset(): void;
  /** Frames dropped so far: partial frames at loss, corrupt frames, frames before a keyframe, queue overflow. */
  readonly dropped: number;
  /** Malformed or unsupported packets dropped so far. */
  readonly invalid: number;
}

/** Turns frames into RTP payloads. */
export interface Payloader {
  /** Payload size limit in bytes (default `DEFAULT_MTU`). */
  readonly mtu: number;
  /**
   * RTP payloads for one frame, in order. The caller adds headers: every packet of a video frame
   * has the frame's timestamp and the marker goes on the last one. Prefer `packetize` for audio
   * formats that split a frame (G.711) or fragment it (AAC), where timestamps and markers differ.
   */
  payload(frame: Frame): Buffer[];
  /** Like `payload`, with each packet's timestamp and marker bit. */
  packetize(frame: Frame): RtpOutput[];
}
