/**
 * Replay protection (RFC 3711 §3.3.2) and packet index estimation (RFC 3711 §3.3.1, Appendix A).
 */

/** Half the sequence space: the distance at which a sequence number is taken to have wrapped. */
const SEQ_HALF = 0x8000;
const SEQ_MODULO = 0x10000;

/**
 * A sliding window over packet indices: accepts an index once, and rejects those more than
 * `size - 1` behind the highest one accepted. `check()` before authenticating, `accept()` after.
 */
export class ReplayWindow {
  readonly size: number;
  #highest = -1;
  /** Bit i set = index (highest - i) was accepted. */
  #mask = 0n;
  readonly #full: bigint;

  /** @param size window width in packets; RFC 3711 requires at least 64. */
  constructor(size = 64) {
    this.size = size;
    this.#full = (1n << BigInt(size)) - 1n;
  }

  /** True when `index` is new and inside the window. */
  check(index: number): boolean {
    if (index < 0) return false;
    if (index > this.#highest) return true;
    const behind = this.#highest - index;
    if (behind >= this.size) return false;
    return ((this.#mask >> BigInt(behind)) & 1n) === 0n;
  }

  /** Records `index` as received; call only after the packet authenticated. */
  accept(index: number): void {
    if (index > this.#highest) {
      const shift = this.#highest < 0 ? this.size : index - this.#highest;
      this.#mask = shift >= this.size ? 1n : ((this.#mask << BigInt(shift)) | 1n) & this.#full;
      this.#highest = index;
    } else {
      this.#mask |= 1n << BigInt(this.#highest - index);
    }
  }
}

/** Receiver state of one SSRC: rollover counter and highest sequence number seen. */
export interface RocState {
  roc: number;
  highestSeq: number;
}

/**
 * The rollover counter a received sequence number belongs to (RFC 3711 §3.3.1): ROC - 1 for a late
 * packet from before a wrap (may be -1: older than the stream), ROC + 1 for one after a wrap.
 */
export function estimateRoc(state: RocState, seq: number): number {
  const { roc, highestSeq } = state;
  if (highestSeq < SEQ_HALF) return seq - highestSeq > SEQ_HALF ? roc - 1 : roc;
  return highestSeq - SEQ_HALF > seq ? roc + 1 : roc;
}

/** Updates the receiver state after a packet with (`roc`, `seq`) authenticated. */
export function updateRoc(state: RocState, roc: number, seq: number): void {
  if (roc > state.roc) {
    state.roc = roc;
    state.highestSeq = seq;
  } else if (roc === state.roc && seq > state.highestSeq) {
    state.highestSeq = seq;
  }
}

/** The 48-bit packet index i = 2^16 * ROC + SEQ. */
export function packetIndex(roc: number, seq: number): number {
  return roc * SEQ_MODULO + seq;
}

/** Sender state of one SSRC. */
export interface SenderRocState {
  roc: number;
  lastSeq: number;
}

/**
 * The ROC to protect `seq` with. The counter steps when the sequence number wraps; a packet sent
 * late from before the wrap keeps the previous ROC.
 */
export function senderRoc(state: SenderRocState, seq: number): number {
  const diff = seq - state.lastSeq;
  if (diff < -SEQ_HALF) {
    state.roc = (state.roc + 1) >>> 0;
    state.lastSeq = seq;
    return state.roc;
  }
  if (diff > SEQ_HALF) return state.roc > 0 ? state.roc - 1 : 0;
  if (diff > 0) state.lastSeq = seq;
  return state.roc;
}
