/**
 * Turns payloader output into RTP packets for one outgoing SSRC and keeps the sender counters an
 * RTCP sender report needs (RFC 3550 §6.4.1).
 */
import { BadRequestError } from '../core/errors.ts';
import { ntpFromMs } from './ntp.ts';
import { RTP_HEADER_SIZE, type RtpHeaderFields, writeRtpHeader } from './packet.ts';
import type { SenderReport } from './rtcp-types.ts';

const SEQUENCE_MASK = 0xffff;
const MAX_PAYLOAD_TYPE = 127;

/** Settings of an `RtpEncoder`. */
export interface RtpEncoderOptions {
  /** 7-bit payload type. */
  payloadType: number;
  ssrc: number;
  /** Clock rate in Hz of the timestamps given to `encode()` (90000 for video). */
  clockRate: number;
  /** First sequence number; random by default, as RFC 3550 §5.1 recommends. */
  initialSequence?: number;
  /** Offset added to every timestamp on the wire; random by default (RFC 3550 §5.1). */
  initialTimestamp?: number;
}

function random16(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0];
}

function random32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** Packetizes for one SSRC: assigns sequence numbers and timestamps and counts what it sent. */
export class RtpEncoder {
  readonly payloadType: number;
  readonly ssrc: number;
  /** Clock rate in Hz. */
  readonly clockRate: number;
  /** Offset in clock units added to every timestamp before it goes on the wire (mod 2^32). */
  readonly initialTimestamp: number;
  /** Sequence number of the next packet. */
  sequenceNumber: number;
  /** Packets encoded so far. */
  packetCount = 0;
  /** Payload bytes encoded so far (headers not included, as the SR octet count wants). */
  octetCount = 0;

  readonly #header: RtpHeaderFields;

  constructor(options: RtpEncoderOptions) {
    if (
      !Number.isInteger(options.payloadType) ||
      options.payloadType < 0 ||
      options.payloadType > MAX_PAYLOAD_TYPE
    ) {
      throw new BadRequestError(`RTP encoder: payload type ${options.payloadType} outside 0-127`);
    }
    if (!(options.clockRate > 0)) throw new BadRequestError(`RTP encoder: clock rate ${options.clockRate}`);
    this.payloadType = options.payloadType;
    this.ssrc = options.ssrc >>> 0;
    this.clockRate = options.clockRate;
    this.sequenceNumber = (options.initialSequence ?? random16()) & SEQUENCE_MASK;
    this.initialTimestamp = (options.initialTimestamp ?? random32()) >>> 0;
    this.#header = {
      marker: false,
      payloadType: this.payloadType,
      sequenceNumber: 0,
      timestamp: 0,
      ssrc: this.ssrc,
    };
  }

  /**
   * One serialized packet per payload, each in its own new buffer (header + copied payload), all
   * with the wire timestamp of `timestamp` (unwrapped clock units) and consecutive sequence numbers.
   * `markerOnLast` sets the M bit on the last packet (end of a video frame).
   */
  encode(payloads: readonly Buffer[], timestamp: number, markerOnLast: boolean): Buffer[] {
    const header = this.#header;
    header.timestamp = this.#wireTimestamp(timestamp);
    const out: Buffer[] = new Array(payloads.length);
    for (let i = 0; i < payloads.length; i++) {
      const payload = payloads[i];
      const buf = Buffer.allocUnsafe(RTP_HEADER_SIZE + payload.length);
      header.marker = markerOnLast && i === payloads.length - 1;
      header.sequenceNumber = this.sequenceNumber;
      writeRtpHeader(buf, 0, header);
      payload.copy(buf, RTP_HEADER_SIZE);
      out[i] = buf;
      this.sequenceNumber = (this.sequenceNumber + 1) & SEQUENCE_MASK;
      this.packetCount++;
      this.octetCount += payload.length;
    }
    return out;
  }

  /**
   * A sender report (no report blocks) for this SSRC saying that `rtpTimestamp` (unwrapped clock
   * units, as given to `encode()`) corresponds to `ntpTimeMs` (milliseconds since 1900-01-01; see
   * `ntpMsFromUnixMs()`), with the packet and octet counts so far (mod 2^32).
   */
  senderReport(ntpTimeMs: number, rtpTimestamp: number): SenderReport {
    const ntp = ntpFromMs(ntpTimeMs);
    return {
      type: 'sr',
      ssrc: this.ssrc,
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: this.#wireTimestamp(rtpTimestamp),
      packetCount: this.packetCount >>> 0,
      octetCount: this.octetCount >>> 0,
      reports: [],
    };
  }

  #wireTimestamp(timestamp: number): number {
    return (this.initialTimestamp + Math.round(timestamp)) >>> 0;
  }
}
