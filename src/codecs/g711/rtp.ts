/**
 * RFC 3551 4.5 sample-based audio over RTP: G.711 PCMA / PCMU (1 byte per sample) and L16 (2 bytes,
 * big-endian). The payload is the samples; the timestamp counts samples. A frame is split into
 * packets of at most 20 ms (the RFC 3551 default packet time) and at most the MTU.
 */
import { BadRequestError } from '../../core/errors.ts';
import type { Codec, Frame } from '../../core/media.ts';
import { FramePerPacketDepayloader } from '../passthrough.ts';
import { PayloaderBase } from '../rtp-base.ts';
import { DEFAULT_MTU, type RtpOutput } from '../rtp-types.ts';

/** Longest packet the payloader produces, in milliseconds. */
export const MAX_PACKET_TIME_MS = 20;
const MS_PER_SECOND = 1000;
const G711_SAMPLE_BYTES = 1;
const L16_SAMPLE_BYTES = 2;

/** Bytes per sample of one channel: 2 for L16, 1 for G.711. */
export function pcmSampleBytes(codec: Codec): number {
  return codec.name === 'L16' ? L16_SAMPLE_BYTES : G711_SAMPLE_BYTES;
}

/** G.711 / L16 depayloader: each payload is a frame; empty packets are counted in `invalid`. */
export class PcmDepayloader extends FramePerPacketDepayloader {}

/** G.711 / L16 payloader: splits a frame at whole samples into packets of at most 20 ms and the MTU. */
export class PcmPayloader extends PayloaderBase {
  /** Bytes of one sample across all channels. */
  readonly sampleBytes: number;
  /** Largest payload in bytes: whole samples, at most 20 ms and at most the MTU. */
  readonly maxPayload: number;

  /**
   * @param codec PCMA, PCMU or L16 with its clock rate (samples per second) and channels.
   * @param mtu payload size limit in bytes, default `DEFAULT_MTU`.
   */
  constructor(codec: Codec, mtu = DEFAULT_MTU) {
    const sampleBytes = pcmSampleBytes(codec) * (codec.channels ?? 1);
    super(mtu, sampleBytes);
    this.sampleBytes = sampleBytes;
    const samples20ms = Math.max(1, Math.floor((codec.clockRate * MAX_PACKET_TIME_MS) / MS_PER_SECOND));
    this.maxPayload = Math.min(samples20ms, Math.floor(mtu / sampleBytes)) * sampleBytes;
  }

  /** Packet i has timestamp `pts` + the samples before it; every packet has the marker set. */
  packetize(frame: Frame): RtpOutput[] {
    if (frame.data.length % this.sampleBytes !== 0) {
      throw new BadRequestError(
        `PCM frame of ${frame.data.length} bytes is not whole ${this.sampleBytes}-byte samples`,
      );
    }
    const out: RtpOutput[] = [];
    for (let o = 0; o < frame.data.length; o += this.maxPayload) {
      const payload = frame.data.subarray(o, Math.min(o + this.maxPayload, frame.data.length));
      out.push({ payload, timestamp: frame.pts + o / this.sampleBytes, marker: true });
    }
    return out;
  }
}
