/**
 * RtpTrackReceiver: RTP packets of one incoming media in, Frames out. Shared by every RTP ingest
 * (RTSP client, RTSP publishers, WebRTC publishers). Over UDP a small reorder buffer puts packets
 * back in order; a gap resets the depayloader so that no broken frame reaches the consumers.
 */
import { createDepayloader, type Depayloader } from '../../codecs/index.ts';
import type { Codec, Frame } from '../../core/media.ts';
import type { RtpPacket } from '../../rtp/packet.ts';
import { ReorderBuffer } from '../../rtp/reorder.ts';
import { TimestampUnwrapper } from '../../rtp/sequence.ts';

export interface ReceiverCounters {
  packets: number;
  bytes: number;
  /** Packets never received (sequence gaps). */
  lost: number;
  /** Packets the depayloader rejected as malformed. */
  invalid: number;
  /** Frames dropped by the depayloader (partial at loss, waiting for a keyframe). */
  droppedFrames: number;
}

export class RtpTrackReceiver {
  readonly counters: ReceiverCounters = { packets: 0, bytes: 0, lost: 0, invalid: 0, droppedFrames: 0 };
  readonly #depayloader: Depayloader;
  readonly #reorder: ReorderBuffer | undefined;
  readonly #timestamps = new TimestampUnwrapper();
  #expectedSeq = -1;
  #ssrc = -1;
  /** Padding-only packets skipped so far: the depayloader sees numbers without them. */
  #skipped = 0;

  /**
   * @param codec the negotiated codec (from the SDP)
   * @param reorder true for UDP, where packets may arrive out of order
   */
  constructor(
    readonly codec: Codec,
    reorder: boolean,
  ) {
    this.#depayloader = createDepayloader(codec);
    this.#reorder = reorder ? new ReorderBuffer() : undefined;
  }

  /** Feeds one parsed packet; returns the frames it completed (often none). */
  push(packet: RtpPacket): Frame[] {
    this.counters.packets++;
    this.counters.bytes += packet.payload.length;
    if (packet.ssrc !== this.#ssrc) {
      // A new sender (camera restarted its stream): start over rather than call it a gap.
      this.#ssrc = packet.ssrc;
      this.#expectedSeq = -1;
      this.#reorder?.reset();
      this.#timestamps.reset();
    }
    const ordered = this.#reorder ? this.#reorder.push(packet) : [packet];
    const frames: Frame[] = [];
    for (const p of ordered) this.#depayload(p, frames);
    return frames;
  }

  #depayload(p: RtpPacket, out: Frame[]): void {
    if (this.#expectedSeq >= 0 && p.sequenceNumber !== this.#expectedSeq) {
      this.counters.lost += (p.sequenceNumber - this.#expectedSeq) & 0xffff;
      this.#depayloader.reset();
    }
    this.#expectedSeq = (p.sequenceNumber + 1) & 0xffff;
    if (p.payload.length === 0) {
      // Padding only (RFC 3550 §5.1; browsers probe bandwidth with these when RTX is not
      // negotiated): it takes a number but carries nothing, so the depayloader must not see a gap.
      this.#skipped++;
      return;
    }
    const d = this.#depayloader;
    const invalid = d.invalid;
    const dropped = d.dropped;
    const input = {
      payload: p.payload,
      timestamp: this.#timestamps.unwrap(p.timestamp),
      marker: p.marker,
      sequenceNumber: (p.sequenceNumber - this.#skipped) & 0xffff,
    };
    for (let f = d.push(input); f; f = d.next()) out.push(f);
    this.counters.invalid += d.invalid - invalid;
    this.counters.droppedFrames += d.dropped - dropped;
  }
}
