/**
 * A small reorder buffer for RTP over UDP: holds packets that arrive ahead of a gap until the gap
 * fills or a packet arrives too far ahead to be held, then gives up on the missing ones, delivers
 * what it holds and counts the gap lost.
 * Works on the 16-bit sequence numbers directly, so the 65535 -> 0 wrap needs no special case.
 */
import { BadRequestError } from '../core/errors.ts';
import type { RtpPacket } from './packet.ts';

/** Default capacity in packets (gortsplib uses 64 as well). */
export const DEFAULT_REORDER_SIZE = 64;

const SEQUENCE_MASK = 0xffff;
const SEQUENCE_HALF = 0x8000;
const SEQUENCE_RANGE = 0x1_0000;
const MAX_SIZE = SEQUENCE_HALF;

/**
 * Reorders packets of one SSRC by sequence number. The first packet is delivered at once and sets
 * the expected sequence number. A packet behind the expected one (late, or a duplicate of one
 * already delivered) is dropped; `size` such packets in a row mean the sender restarted its
 * numbering, and the buffer resyncs on the newest one. Held packets keep their payload views, so
 * a caller that reuses its receive buffers must copy before `push()`.
 */
export class ReorderBuffer {
  /** Capacity in packets: how far ahead of a gap a packet may be before the gap is given up on. */
  readonly size: number;
  /** Sequence numbers given up on by the most recent `push()` or `flush()`. */
  lost = 0;
  /** Sequence numbers given up on since construction. */
  totalLost = 0;
  /** Packets dropped because they arrived behind the expected number, since construction. */
  late = 0;
  /** Packets dropped because the same number was already buffered, since construction. */
  duplicates = 0;

  #slots: (RtpPacket | undefined)[];
  /** Slot of `#expected`. */
  #head = 0;
  /** Next sequence number to deliver. */
  #expected = 0;
  #started = false;
  #buffered = 0;
  #lateRun = 0;

  /** `size` defaults to 64 packets; at most 32768. */
  constructor(size = DEFAULT_REORDER_SIZE) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_SIZE) {
      throw new BadRequestError(`reorder buffer size ${size} outside 1-${MAX_SIZE}`);
    }
    this.size = size;
    this.#slots = new Array(size).fill(undefined);
  }

  /** Packets currently held back. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Adds `packet` and returns the packets that are now deliverable, in sequence order (often just
   * `[packet]`, or none while a gap is open). Afterwards `lost` tells how many sequence numbers
   * this call gave up on.
   */
  push(packet: RtpPacket): RtpPacket[] {
    this.lost = 0;
    const seq = packet.sequenceNumber & SEQUENCE_MASK;
    if (!this.#started) {
      this.#started = true;
      this.#expected = (seq + 1) & SEQUENCE_MASK;
      return [packet];
    }
    let rel = (seq - this.#expected) & SEQUENCE_MASK;
    if (rel >= SEQUENCE_HALF) rel -= SEQUENCE_RANGE;

    if (rel < 0) {
      if (++this.#lateRun < this.size) {
        this.late++;
        return [];
      }
      // A whole buffer's worth of packets from the past: the sender has restarted its numbering.
      const out = this.flush();
      this.#lateRun = 0;
      this.#expected = (seq + 1) & SEQUENCE_MASK;
      out.push(packet);
      return out;
    }
    this.#lateRun = 0;

    const out: RtpPacket[] = [];
    if (rel >= this.size) {
      // No room to wait for the gap any longer: give all of it up (as gortsplib's rtpreorderer
      // does), so a sender that jumped ahead is followed at once instead of a buffer later.
      this.#skip(rel, out);
      rel = 0;
    }
    if (rel === 0) {
      out.push(packet);
      this.#step();
    } else {
      const slot = (this.#head + rel) % this.size;
      if (this.#slots[slot]) {
        this.duplicates++;
        return out;
      }
      this.#slots[slot] = packet;
      this.#buffered++;
    }
    this.#drain(out);
    return out;
  }

  /**
   * Delivers every buffered packet in order, counting the gaps between them as lost; the next
   * expected number becomes the one after the last delivered.
   */
  flush(): RtpPacket[] {
    this.lost = 0;
    const out: RtpPacket[] = [];
    if (this.#buffered > 0) {
      let pendingLost = 0;
      while (this.#buffered > 0) {
        const p = this.#slots[this.#head];
        if (p) {
          this.lost += pendingLost;
          pendingLost = 0;
          out.push(p);
          this.#slots[this.#head] = undefined;
          this.#buffered--;
        } else {
          pendingLost++;
        }
        this.#step();
      }
      this.totalLost += this.lost;
    }
    return out;
  }

  /** Drops everything buffered and starts over with the next packet; the counters keep counting. */
  reset(): void {
    this.#slots.fill(undefined);
    this.#head = 0;
    this.#expected = 0;
    this.#started = false;
    this.#buffered = 0;
    this.#lateRun = 0;
    this.lost = 0;
  }

  #step(): void {
    this.#head = (this.#head + 1) % this.size;
    this.#expected = (this.#expected + 1) & SEQUENCE_MASK;
  }

  /** Gives up on the next `n` sequence numbers, delivering those that are buffered. */
  #skip(n: number, out: RtpPacket[]): void {
    let lost = 0;
    while (n > 0 && this.#buffered > 0) {
      const p = this.#slots[this.#head];
      if (p) {
        out.push(p);
        this.#slots[this.#head] = undefined;
        this.#buffered--;
      } else {
        lost++;
      }
      this.#step();
      n--;
    }
    // Nothing buffered in the rest of the gap: jump over it.
    lost += n;
    this.#expected = (this.#expected + n) & SEQUENCE_MASK;
    this.#head = (this.#head + n) % this.size;
    this.lost += lost;
    this.totalLost += lost;
  }

  /** Delivers the run of buffered packets that starts at the expected number. */
  #drain(out: RtpPacket[]): void {
    for (let p = this.#slots[this.#head]; p; p = this.#slots[this.#head]) {
      out.push(p);
      this.#slots[this.#head] = undefined;
      this.#buffered--;
      this.#step();
    }
  }
}
