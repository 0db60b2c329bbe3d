/**
 * Access-unit assembly shared by the H.264 (RFC 6184) and H.265 (RFC 7798) depayloaders: collects
 * NAL units per RTP timestamp, reassembles fragmentation units, detects lost packets from sequence
 * numbers and gates the output on keyframes after a loss.
 *
 * A frame ends on the marker bit or when the timestamp changes (cameras that never set the marker).
 * NAL units of a frame without any VCL unit (parameter sets sent with their own marker or
 * timestamp) are carried into the next frame instead of being emitted on their own.
 */
import { ParseError } from '../core/errors.ts';
import type { Frame } from '../core/media.ts';
import { joinAvcc, trimTrailingZeros } from './avcc.ts';
import type { ParameterSetTracker } from './param-sets.ts';
import { DepayloaderBase } from './rtp-base.ts';
import type { RtpInput } from './rtp-types.ts';

/** A frame larger than this (bytes of NAL data) is treated as corrupt; guards memory on endless frames. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** At most this many NAL units of VCL-less frames are carried into the next frame. */
const MAX_CARRIED_NALS = 32;
const SEQUENCE_MODULO = 0x10000;

/**
 * Base of the H.264 and H.265 depayloaders. Starts waiting for a keyframe; frames are AVCC and
 * keyframes carry the latest parameter sets.
 */
export abstract class NalDepayloader extends DepayloaderBase {
  /** Parameter sets seen in-band or out of band; keyframes are completed from it. */
  readonly parameterSets: ParameterSetTracker;
  private nals: Buffer[] = [];
  private frameBytes = 0;
  private frameTs: number | undefined;
  private corrupt = false;
  private fragment: Buffer[] | undefined;
  private lastSeq: number | undefined;
  private waitKeyframe = true;
  private carried: Buffer[] = [];
  /** Timestamp of a frame dropped by `reset()`: its remaining packets are skipped, not counted again. */
  private discardTs: number | undefined;

  constructor(parameterSets: ParameterSetTracker) {
    super();
    this.parameterSets = parameterSets;
  }

  /** Splits one payload into NAL units through `addNal` / `fragment*`; throws `ParseError` if malformed. */
  protected abstract depacketize(payload: Buffer): void;
  /** True for a NAL unit that carries picture data. */
  protected abstract isVcl(nal: Buffer): boolean;
  /** True for a NAL unit that makes its access unit a keyframe (IDR, IRAP). */
  protected abstract isKeyframeNal(nal: Buffer): boolean;

  reset(): void {
    if (this.nals.length > 0 || this.fragment || this.corrupt) {
      this.dropped++;
      this.discardTs = this.frameTs;
    }
    this.clearFrame();
    this.waitKeyframe = true;
    this.lastSeq = undefined;
  }

  protected receive(pkt: RtpInput): void {
    if (this.lastSeq !== undefined) {
      const delta = (pkt.sequenceNumber - this.lastSeq + SEQUENCE_MODULO) % SEQUENCE_MODULO;
      if (delta === 0) return; // duplicate
      if (delta !== 1) this.reset();
    }
    this.lastSeq = pkt.sequenceNumber;
    if (this.discardTs !== undefined) {
      if (pkt.timestamp === this.discardTs) {
        if (pkt.marker) this.discardTs = undefined;
        return;
      }
      this.discardTs = undefined;
    }
    if (this.frameTs !== undefined && pkt.timestamp !== this.frameTs) this.finishFrame();
    this.frameTs = pkt.timestamp;
    try {
      this.depacketize(pkt.payload);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.invalid++;
      this.corrupt = true;
      this.fragment = undefined;
    }
    if (pkt.marker) this.finishFrame();
  }

  /**
   * Adds a complete NAL unit to the current frame (kept as a view until the frame completes),
   * without trailing zero bytes.
   */
  protected addNal(received: Buffer): void {
    const nal = trimTrailingZeros(received);
    if (nal.length === 0) throw new ParseError('RTP NAL', 'empty NAL unit');
    this.frameBytes += nal.length;
    if (this.frameBytes > MAX_FRAME_BYTES)
      throw new ParseError('RTP NAL', `frame exceeds ${MAX_FRAME_BYTES} bytes`);
    this.nals.push(nal);
  }

  /** First fragment of a NAL unit: `header` is the reconstructed NAL header. */
  protected fragmentStart(header: Buffer, data: Buffer): void {
    if (this.fragment) this.corrupt = true; // previous NAL unit lost its end
    this.fragment = [header, data];
    this.frameBytes += header.length + data.length;
  }

  /** A middle (`end` false) or last fragment; a fragment without a start means its start was lost. */
  protected fragmentContinue(data: Buffer, end: boolean): void {
    if (!this.fragment) {
      this.corrupt = true;
      return;
    }
    this.fragment.push(data);
    this.frameBytes += data.length;
    if (this.frameBytes > MAX_FRAME_BYTES)
      throw new ParseError('RTP NAL', `frame exceeds ${MAX_FRAME_BYTES} bytes`);
    if (end) {
      const nal = Buffer.concat(this.fragment);
      this.fragment = undefined;
      this.frameBytes -= nal.length;
      this.addNal(nal);
    }
  }

  private clearFrame(): void {
    this.nals = [];
    this.frameBytes = 0;
    this.frameTs = undefined;
    this.corrupt = false;
    this.fragment = undefined;
  }

  private finishFrame(): void {
    const ts = this.frameTs ?? 0;
    const corrupt = this.corrupt || this.fragment !== undefined;
    const nals = this.carried.length > 0 ? [...this.carried, ...this.nals] : this.nals;
    this.clearFrame();
    this.carried = [];
    if (corrupt) {
      this.dropped++;
      this.waitKeyframe = true;
      return;
    }
    if (nals.length === 0) return;
    this.parameterSets.observeAll(nals);
    if (!nals.some((n) => this.isVcl(n))) {
      if (nals.length <= MAX_CARRIED_NALS) this.carried = nals;
      return;
    }
    const keyframe = nals.some((n) => this.isKeyframeNal(n));
    if (this.waitKeyframe && !keyframe) {
      this.dropped++;
      return;
    }
    this.waitKeyframe = false;
    const frame: Frame = {
      pts: ts,
      dts: ts,
      keyframe,
      data: joinAvcc(this.parameterSets.complete(nals, keyframe)),
    };
    this.emit(frame);
  }
}
