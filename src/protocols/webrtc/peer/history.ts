/**
 * The recent RTP packets of one track's sender, by sequence number, to answer generic NACKs
 * (RFC 4585 §6.2.1) with the very packet that was lost. One history per shared sender: every viewer
 * stores the same buffers, so it costs a slot array, not a copy per viewer.
 */
import type { RtpTrackSender } from '../../rtp/track-sender.ts';

/** Packets kept per video track: about 5 s at 2 Mbit/s with 1200-byte payloads. */
export const DEFAULT_HISTORY_SIZE = 1024;
const SEQ_OFFSET = 2;

export class RtpHistory {
  readonly #slots: (Buffer | undefined)[];
  readonly #mask: number;

  /** @param size packets kept, a power of two from 16 to 32768 (default 1024) */
  constructor(size = DEFAULT_HISTORY_SIZE) {
    if (!Number.isInteger(Math.log2(size)) || size < 16 || size > 32768) {
      throw new RangeError(`history size ${size} must be a power of two in 16..32768`);
    }
    this.#slots = new Array(size);
    this.#mask = size - 1;
  }

  /** Remembers serialized RTP packets (at least 4 bytes each); storing one again is a no-op. */
  store(packets: readonly Buffer[]): void {
    const first = packets[0];
    // Every viewer stores the same array: after the first, the slot already holds its first packet.
    if (
      first === undefined ||
      (first.length >= SEQ_OFFSET + 2 && this.#slots[first.readUInt16BE(SEQ_OFFSET) & this.#mask] === first)
    )
      return;
    for (const p of packets) {
      if (p.length < SEQ_OFFSET + 2) continue;
      this.#slots[p.readUInt16BE(SEQ_OFFSET) & this.#mask] = p;
    }
  }

  /** The packet with sequence number `seq`, or undefined when it is older than the history. */
  get(seq: number): Buffer | undefined {
    const p = this.#slots[seq & this.#mask];
    return p && p.readUInt16BE(SEQ_OFFSET) === (seq & 0xffff) ? p : undefined;
  }
}

const histories = new WeakMap<RtpTrackSender, RtpHistory>();

/** The shared history of a sender; made on first use, freed with the sender. */
export function historyFor(sender: RtpTrackSender): RtpHistory {
  let history = histories.get(sender);
  if (!history) {
    history = new RtpHistory();
    histories.set(sender, history);
  }
  return history;
}
