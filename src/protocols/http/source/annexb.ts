/**
 * A streaming reader of raw H.264 / H.265 Annex B byte streams (`video/h264`, ffmpeg `-f h264`):
 * NAL units between start codes, grouped into access units (H.264 7.4.1.2.3, H.265 7.4.2.4.4): a
 * new one starts at an access unit delimiter, at a parameter set or SEI after a picture's slices,
 * or at a slice that is the first of its picture (first_mb_in_slice = 0,
 * first_slice_segment_in_pic_flag = 1). Pure; time comes from the `now` clock passed in.
 *
 * The stream carries no timestamps: a picture is dated when its first NAL unit is complete, on
 * the 90 kHz clock. The tracks event goes out with the first keyframe whose parameter sets are
 * known; pictures before it are dropped and counted.
 */
import { joinAvcc, trimTrailingZeros } from '../../../codecs/avcc.ts';
import { h264FmtpFromParams } from '../../../codecs/h264/fmtp.ts';
import { H264NalType } from '../../../codecs/h264/nal.ts';
import { H264ParameterSets } from '../../../codecs/h264/param-sets.ts';
import { h265FmtpFromParams } from '../../../codecs/h265/fmtp.ts';
import { H265NalType } from '../../../codecs/h265/nal.ts';
import { H265ParameterSets } from '../../../codecs/h265/param-sets.ts';
import type { ParameterSetTracker } from '../../../codecs/param-sets.ts';
import { ParseError } from '../../../core/errors.ts';
import type { Codec, Frame } from '../../../core/media.ts';
import type { DemuxEvent } from '../../../formats/ts/track-gate.ts';

const CLOCK_RATE = 90000;
const DEFAULT_MAX_ACCESS_UNIT = 8 * 1024 * 1024;

/** Counters of an `AnnexBReader`; they only grow. */
export interface AnnexBStats {
  nals: number;
  frames: number;
  /** Pictures before the first keyframe with parameter sets, or over the size limit. */
  dropped: number;
}

interface CodecRules {
  typeOf(nal: Buffer): number;
  isVcl(type: number): boolean;
  isKey(type: number): boolean;
  /** Types that start a new access unit when a picture is already in the current one. */
  startsAfterVcl(type: number): boolean;
  aud: number;
  /** Whether a slice is the first of its picture. */
  firstSlice(nal: Buffer): boolean;
  tracker(): ParameterSetTracker;
  codec(params: ParameterSetTracker): Codec | undefined;
}

const H264_RULES: CodecRules = {
  typeOf: (nal) => nal[0] & 0x1f,
  isVcl: (t) => t >= H264NalType.SLICE && t <= H264NalType.IDR,
  isKey: (t) => t === H264NalType.IDR,
  startsAfterVcl: (t) =>
    t === H264NalType.SEI || t === H264NalType.SPS || t === H264NalType.PPS || (t >= 14 && t <= 18),
  aud: H264NalType.AUD,
  // first_mb_in_slice is ue(v): 0 is the single bit 1.
  firstSlice: (nal) => nal.length > 1 && (nal[1] & 0x80) !== 0,
  tracker: () => new H264ParameterSets(),
  codec(params) {
    const sps = params.stored.get(H264NalType.SPS);
    const pps = params.stored.get(H264NalType.PPS);
    return sps && pps
      ? { name: 'H264', clockRate: CLOCK_RATE, fmtp: h264FmtpFromParams(sps, pps) }
      : undefined;
  },
};

const H265_RULES: CodecRules = {
  typeOf: (nal) => (nal[0] >> 1) & 0x3f,
  isVcl: (t) => t <= H265NalType.RSV_VCL31,
  isKey: (t) => t >= H265NalType.BLA_W_LP && t <= 23,
  startsAfterVcl: (t) =>
    t === H265NalType.VPS || t === H265NalType.SPS || t === H265NalType.PPS || t === H265NalType.PREFIX_SEI,
  aud: H265NalType.AUD,
  firstSlice: (nal) => nal.length > 2 && (nal[2] & 0x80) !== 0,
  tracker: () => new H265ParameterSets(),
  codec(params) {
    const vps = params.stored.get(H265NalType.VPS);
    const sps = params.stored.get(H265NalType.SPS);
    const pps = params.stored.get(H265NalType.PPS);
    return vps && sps && pps
      ? { name: 'H265', clockRate: CLOCK_RATE, fmtp: h265FmtpFromParams(vps, sps, pps) }
      : undefined;
  },
};

export class AnnexBReader {
  readonly stats: AnnexBStats = { nals: 0, frames: 0, dropped: 0 };
  readonly #rules: CodecRules;
  readonly #params: ParameterSetTracker;
  readonly #now: () => number;
  readonly #maxAccessUnit: number;
  #start: number | undefined;
  #buf: Buffer = Buffer.alloc(0);
  /** Where the search for the next start code resumes. */
  #scanFrom = 0;
  /** Offset of the current NAL unit's first byte (after its start code), -1 before the first. */
  #nalStart = -1;
  #au: Buffer[] = [];
  #auBytes = 0;
  #auVcl = false;
  #auTime = 0;
  #codec: Codec | undefined;
  #lastDts = -1;

  /**
   * @param codec which syntax the stream uses
   * @param now a clock in ms (`performance.now`)
   */
  constructor(codec: 'H264' | 'H265', now: () => number, limits: { maxAccessUnitBytes?: number } = {}) {
    this.#rules = codec === 'H264' ? H264_RULES : H265_RULES;
    this.#params = this.#rules.tracker();
    this.#now = now;
    this.#maxAccessUnit = limits.maxAccessUnitBytes ?? DEFAULT_MAX_ACCESS_UNIT;
  }

  push(chunk: Buffer): DemuxEvent[] {
    const out: DemuxEvent[] = [];
    if (chunk.length === 0) return out;
    this.#buf = this.#buf.length > 0 ? Buffer.concat([this.#buf, chunk]) : chunk;
    const buf = this.#buf;
    for (let i = this.#scanFrom; i + 3 <= buf.length; i++) {
      if (buf[i] !== 0 || buf[i + 1] !== 0 || buf[i + 2] !== 1) continue;
      if (this.#nalStart >= 0) this.#nal(trimTrailingZeros(buf.subarray(this.#nalStart, i)), out);
      this.#nalStart = i + 3;
      i += 2;
    }
    // Keep the current NAL unit, or before the first start code the bytes a start code may end in.
    const rest = buf.subarray(this.#nalStart >= 0 ? this.#nalStart : Math.max(0, buf.length - 2));
    if (rest.length > this.#maxAccessUnit) {
      this.stats.dropped++; // a NAL unit without end: start over at the next start code
      this.#reset();
      this.#buf = Buffer.alloc(0);
      this.#nalStart = -1;
      this.#scanFrom = 0;
      return out;
    }
    this.#buf = rest;
    if (this.#nalStart >= 0) this.#nalStart = 0;
    this.#scanFrom = Math.max(0, rest.length - 2);
    return out;
  }

  /** Ends the input: the last NAL unit and picture go out. */
  flush(): DemuxEvent[] {
    const out: DemuxEvent[] = [];
    if (this.#nalStart >= 0) this.#nal(trimTrailingZeros(this.#buf.subarray(this.#nalStart)), out);
    this.#finish(out);
    this.#buf = Buffer.alloc(0);
    this.#nalStart = -1;
    this.#scanFrom = 0;
    return out;
  }

  #nal(nal: Buffer, out: DemuxEvent[]): void {
    if (nal.length === 0) return;
    this.stats.nals++;
    const r = this.#rules;
    const type = r.typeOf(nal);
    const vcl = r.isVcl(type);
    if (this.#auVcl && (type === r.aud || r.startsAfterVcl(type) || (vcl && r.firstSlice(nal))))
      this.#finish(out);
    if (this.#au.length === 0) this.#auTime = this.#now();
    this.#au.push(Buffer.from(nal)); // the input buffer is replaced as data comes: keep a copy
    this.#auBytes += nal.length;
    if (vcl) this.#auVcl = true;
    if (this.#auBytes > this.#maxAccessUnit) {
      this.stats.dropped++;
      this.#reset();
    }
  }

  /** Emits the current access unit (if it has a picture) and starts a new one. */
  #finish(out: DemuxEvent[]): void {
    const nals = this.#au;
    const vcl = this.#auVcl;
    const time = this.#auTime;
    this.#reset();
    if (!vcl) return;
    const r = this.#rules;
    this.#params.observeAll(nals);
    const keyframe = nals.some((n) => r.isKey(r.typeOf(n)));
    if (!this.#codec) {
      const codec = keyframe ? r.codec(this.#params) : undefined;
      if (!codec) {
        this.stats.dropped++;
        return;
      }
      this.#codec = codec;
      out.push({ type: 'tracks', medias: [{ kind: 'video', direction: 'recvonly', codecs: [codec] }] });
    }
    this.#start ??= time;
    let dts = Math.round(((time - this.#start) * CLOCK_RATE) / 1000);
    if (dts <= this.#lastDts) dts = this.#lastDts + 1;
    this.#lastDts = dts;
    let data: Buffer;
    try {
      data = joinAvcc(this.#params.complete(nals, keyframe));
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.stats.dropped++;
      return;
    }
    const frame: Frame = { pts: dts, dts, keyframe, data };
    this.stats.frames++;
    out.push({ type: 'frame', track: 0, frame });
  }

  #reset(): void {
    this.#au = [];
    this.#auBytes = 0;
    this.#auVcl = false;
  }
}
