/**
 * Reception statistics of one incoming RTP stream, for the report blocks of the receiver reports
 * the client sends (RFC 3550 §6.4.1, the algorithms of appendix A.3 and A.8). Some cameras stop
 * sending when they get no RTCP at all. Pure: the caller passes the arrival time.
 */

import { ntpMiddle32 } from '../../../rtp/ntp.ts';
import type { RtpPacket } from '../../../rtp/packet.ts';
import type { ReceptionReport, SenderReport } from '../../../rtp/rtcp-types.ts';
import { SequenceUnwrapper } from '../../../rtp/sequence.ts';

const MAX_FRACTION = 255;
const TOTAL_LOST_MAX = 0x7fffff;
const TOTAL_LOST_MIN = -0x800000;
const JITTER_GAIN = 16;
const DLSR_UNITS_PER_SECOND = 65536;

export class ReceptionStats {
  /** SSRC of the sender, once a packet has arrived. */
  ssrc: number | undefined;
  #seq = new SequenceUnwrapper();
  #base = 0;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #jitter = 0;
  #transit: number | undefined;
  #lastSr = 0;
  #lastSrAtMs = 0;

  /** @param clockRate the media's RTP clock in Hz, for the jitter */
  constructor(readonly clockRate: number) {}

  /** Counts one packet that arrived at `nowMs` (a monotonic clock in ms). */
  onRtp(p: RtpPacket, nowMs: number): void {
    if (p.ssrc !== this.ssrc) this.#restart(p.ssrc, p.sequenceNumber);
    this.#seq.unwrap(p.sequenceNumber);
    this.#received++;
    // RFC 3550 §A.8: interarrival jitter in timestamp units, 32-bit arithmetic on purpose.
    const arrival = Math.round((nowMs * this.clockRate) / 1000) >>> 0;
    const transit = (arrival - p.timestamp) | 0;
    if (this.#transit !== undefined) {
      const d = Math.abs((transit - this.#transit) | 0);
      this.#jitter += (d - this.#jitter) / JITTER_GAIN;
    }
    this.#transit = transit;
  }

  /** Remembers a sender report of this SSRC so that the next block can echo it (LSR/DLSR). */
  onSenderReport(sr: SenderReport, nowMs: number): void {
    if (this.ssrc !== undefined && sr.ssrc !== this.ssrc) return;
    this.#lastSr = ntpMiddle32(sr.ntpSeconds, sr.ntpFraction);
    this.#lastSrAtMs = nowMs;
  }

  /** The report block for now, or undefined before the first packet. Starts a new interval. */
  report(nowMs: number): ReceptionReport | undefined {
    const highest = this.#seq.highest;
    if (this.ssrc === undefined || highest === undefined) return undefined;
    const expected = highest - this.#base + 1;
    const lost = expected - this.#received;
    const expectedInterval = expected - this.#expectedPrior;
    const lostInterval = expectedInterval - (this.#received - this.#receivedPrior);
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#received;
    const fraction =
      expectedInterval <= 0 || lostInterval <= 0
        ? 0
        : Math.min(MAX_FRACTION, Math.floor((lostInterval * 256) / expectedInterval));
    return {
      ssrc: this.ssrc,
      fractionLost: fraction,
      totalLost: Math.max(TOTAL_LOST_MIN, Math.min(TOTAL_LOST_MAX, lost)),
      highestSequence: Math.max(0, highest) >>> 0,
      jitter: Math.floor(this.#jitter) >>> 0,
      lastSenderReport: this.#lastSr,
      delaySinceLastSenderReport:
        this.#lastSr === 0
          ? 0
          : Math.floor(((nowMs - this.#lastSrAtMs) / 1000) * DLSR_UNITS_PER_SECOND) >>> 0,
    };
  }

  #restart(ssrc: number, seq: number): void {
    this.ssrc = ssrc;
    this.#seq.reset();
    this.#base = seq;
    this.#received = 0;
    this.#expectedPrior = 0;
    this.#receivedPrior = 0;
    this.#jitter = 0;
    this.#transit = undefined;
    this.#lastSr = 0;
    this.#lastSrAtMs = 0;
  }
}
