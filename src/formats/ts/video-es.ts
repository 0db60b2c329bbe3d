/**
 * H.264 and H.265 elementary streams in MPEG-TS (ISO/IEC 13818-1 2.14, 2.17): each PES carries one
 * access unit as an Annex B byte stream. It becomes one AVCC `Frame` without access unit
 * delimiters and filler data, with the parameter sets in front of every keyframe.
 */

import { joinAvcc, splitAnnexB } from '../../codecs/avcc.ts';
import { h264FmtpFromParams } from '../../codecs/h264/fmtp.ts';
import { H264NalType, h264NalType } from '../../codecs/h264/nal.ts';
import { H264ParameterSets } from '../../codecs/h264/param-sets.ts';
import { parseH264Sps } from '../../codecs/h264/sps.ts';
import { h265FmtpFromParams } from '../../codecs/h265/fmtp.ts';
import { H265NalType, h265NalType, isH265IrapNal } from '../../codecs/h265/nal.ts';
import { H265ParameterSets } from '../../codecs/h265/param-sets.ts';
import { parseH265Sps } from '../../codecs/h265/sps.ts';
import type { ParameterSetTracker } from '../../codecs/param-sets.ts';
import { ParseError } from '../../core/errors.ts';
import type { Codec, Frame } from '../../core/media.ts';
import { TS_CLOCK_RATE } from './timestamp.ts';

/** NAL unit types dropped from H.264 access units: AUD (a muxer adds its own) and filler. */
const H264_DROPPED = new Set<number>([H264NalType.AUD, H264NalType.FILLER]);
const H265_DROPPED = new Set<number>([H265NalType.AUD, H265NalType.FD]);

/** The video codecs of MPEG-TS that mediagate handles. */
export type TsVideoCodec = 'H264' | 'H265';

/** One H.264 or H.265 elementary stream. */
export class VideoEs {
  /** The codec, once the parameter sets were seen; undefined before. */
  codec: Codec | undefined;
  /** Access units dropped: no start code, no NAL units, or before the parameter sets. */
  dropped = 0;
  /** Picture size from the SPS, in pixels, once known. */
  width = 0;
  height = 0;
  private readonly name: TsVideoCodec;
  private readonly params: ParameterSetTracker;

  constructor(name: TsVideoCodec) {
    this.name = name;
    this.params = name === 'H264' ? new H264ParameterSets() : new H265ParameterSets();
  }

  /**
   * Turns one access unit (Annex B) with its unwrapped 90 kHz times into a Frame; undefined when
   * it is dropped. The frame's data is a new buffer.
   */
  frame(annexB: Buffer, pts: number, dts: number): Frame | undefined {
    let nals: readonly Buffer[];
    try {
      nals = splitAnnexB(annexB);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.dropped++;
      return undefined;
    }
    const h264 = this.name === 'H264';
    const dropped = h264 ? H264_DROPPED : H265_DROPPED;
    const typeOf = h264 ? h264NalType : h265NalType;
    nals = nals.filter((n) => !dropped.has(typeOf(n)));
    const keyframe = h264 ? nals.some((n) => h264NalType(n) === H264NalType.IDR) : nals.some(isH265IrapNal);
    this.params.observeAll(nals);
    if (!this.codec) this.codec = this.tryCodec();
    if (!this.codec || nals.length === 0) {
      this.dropped++;
      return undefined;
    }
    return { pts, dts, keyframe, data: joinAvcc(this.params.complete(nals, keyframe)) };
  }

  /** The codec when the parameter sets are all there and the SPS parses. */
  private tryCodec(): Codec | undefined {
    const s = this.params.stored;
    try {
      if (this.name === 'H264') {
        const sps = s.get(H264NalType.SPS);
        const pps = s.get(H264NalType.PPS);
        if (!sps || !pps) return undefined;
        const info = parseH264Sps(sps);
        this.width = info.width;
        this.height = info.height;
        return { name: 'H264', clockRate: TS_CLOCK_RATE, fmtp: h264FmtpFromParams(sps, pps) };
      }
      const vps = s.get(H265NalType.VPS);
      const sps = s.get(H265NalType.SPS);
      const pps = s.get(H265NalType.PPS);
      if (!vps || !sps || !pps) return undefined;
      const info = parseH265Sps(sps);
      this.width = info.width;
      this.height = info.height;
      return { name: 'H265', clockRate: TS_CLOCK_RATE, fmtp: h265FmtpFromParams(vps, sps, pps) };
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      return undefined; // a damaged SPS: wait for the next one
    }
  }
}
