/**
 * The contract between the RTP layer and the codec layer: what a depayloader takes (a structural
 * RTP packet, so `src/codecs` does not depend on `src/rtp`) and what a payloader returns.
 */
import { BadRequestError } from '../core/errors.ts';
import type { Frame } from '../core/media.ts';

/** Default payload size limit in bytes: fits an RTP packet with header and SRTP tag in 1280-byte paths. */
export const DEFAULT_MTU = 1200;

/** The fields of an RTP packet a depayloader needs. */
export interface RtpInput {
  /** The payload after header, CSRCs, extension and padding are removed; may be a view. */
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

/** Feeds a packet and drains every frame it completed, oldest first. */
export function depayloadAll(depayloader: Depayloader, pkt: RtpInput): Frame[] {
  const out: Frame[] = [];
  for (let f = depayloader.push(pkt); f; f = depayloader.next()) out.push(f);
  return out;
}

/** Maximum number of completed frames a depayloader keeps queued before it drops the oldest. */
export const MAX_QUEUED_FRAMES = 64;

/**
 * The frame queue and counters every depayloader shares. Subclasses call `emit()` for each
 * complete frame and `push()` returns the oldest queued one.
 */
export abstract class DepayloaderBase implements Depayloader {
  dropped = 0;
  invalid = 0;
  private readonly queue: Frame[] = [];

  push(pkt: RtpInput): Frame | undefined {
    this.receive(pkt);
    return this.queue.shift();
  }

  next(): Frame | undefined {
    return this.queue.shift();
  }

  abstract reset(): void;

  /** Processes one packet, calling `emit` for every frame it completes. Must not throw. */
  protected abstract receive(pkt: RtpInput): void;

  protected emit(frame: Frame): void {
    if (this.queue.length >= MAX_QUEUED_FRAMES) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(frame);
  }
}

/** Payloaders implement `packetize`; `payload` is derived from it. */
export abstract class PayloaderBase implements Payloader {
  readonly mtu: number;

  /** @param mtu payload size limit in bytes, at least `minMtu` (the smallest useful fragment). */
  constructor(mtu: number, minMtu: number) {
    if (!Number.isInteger(mtu) || mtu < minMtu)
      throw new BadRequestError(`mtu ${mtu} must be an integer >= ${minMtu}`);
    this.mtu = mtu;
  }

  payload(frame: Frame): Buffer[] {
    return this.packetize(frame).map((p) => p.payload);
  }

  abstract packetize(frame: Frame): RtpOutput[];
}
