/**
 * Shared implementation of the depayloader and payloader contracts in `rtp-types.ts`: the frame
 * queue and counters, MTU validation, and `depayloadAll`.
 */
import { BadRequestError } from '../core/errors.ts';
import type { Frame } from '../core/media.ts';
import type { Depayloader, Payloader, RtpInput, RtpOutput } from './rtp-types.ts';

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
