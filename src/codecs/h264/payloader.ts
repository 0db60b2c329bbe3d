/**
 * RFC 6184 H.264 payloader, packetization mode 1: single NAL unit packets (5.6), FU-A (5.8) for
 * NAL units larger than the MTU and STAP-A (5.7.1) for SPS + PPS. Diagrams in `depayloader.ts`.
 */
import type { Codec } from '../../core/media.ts';
import {
  AGGREGATION_SIZE_FIELD,
  fragmentBody,
  NalPayloader,
  type NalPayloaderOptions,
} from '../nal-payloader.ts';
import { DEFAULT_MTU } from '../rtp-types.ts';
import {
  H264_NAL_F_NRI_MASK,
  H264_NAL_NRI_MASK,
  H264_NAL_TYPE_MASK,
  H264NalType,
  h264NalType,
} from './nal.ts';
import { H264ParameterSets } from './param-sets.ts';

const NAL_HEADER_SIZE = 1;
const FU_HEADER_SIZE = 2;
const FU_START = 0x80;
const FU_END = 0x40;
const F_BIT = 0x80;
/** The smallest MTU that carries an FU-A with one byte of data. */
const MIN_MTU = FU_HEADER_SIZE + 1;

/** RFC 6184 payloader, packetization mode 1, for AVCC access units. */
export class H264Payloader extends NalPayloader {
  protected readonly aggregationHeaderSize = NAL_HEADER_SIZE;

  /** @param codec the track's codec; `sprop-parameter-sets` in its fmtp seeds the parameter sets. */
  constructor(codec?: Codec, options: NalPayloaderOptions = {}) {
    super(H264ParameterSets.fromFmtp(codec?.fmtp), options.mtu ?? DEFAULT_MTU, MIN_MTU, options);
  }

  protected isAggregatable(nal: Buffer): boolean {
    const t = h264NalType(nal);
    return t === H264NalType.SPS || t === H264NalType.PPS;
  }

  protected aggregate(nals: Buffer[]): Buffer {
    // 5.7.1: F is the OR of the aggregated F bits, NRI their maximum.
    let f = 0;
    let nri = 0;
    for (const n of nals) {
      f |= n[0] & F_BIT;
      nri = Math.max(nri, n[0] & H264_NAL_NRI_MASK);
    }
    const parts: Buffer[] = [Buffer.from([f | nri | H264NalType.STAP_A])];
    for (const n of nals) {
      const size = Buffer.alloc(AGGREGATION_SIZE_FIELD);
      size.writeUInt16BE(n.length);
      parts.push(size, n);
    }
    return Buffer.concat(parts);
  }

  protected fragment(nal: Buffer): Buffer[] {
    const indicator = (nal[0] & H264_NAL_F_NRI_MASK) | H264NalType.FU_A;
    const type = nal[0] & H264_NAL_TYPE_MASK;
    return fragmentBody(nal.subarray(NAL_HEADER_SIZE), this.mtu, FU_HEADER_SIZE, (chunk, start, end) => {
      const out = Buffer.allocUnsafe(FU_HEADER_SIZE + chunk.length);
      out[0] = indicator;
      out[1] = (start ? FU_START : 0) | (end ? FU_END : 0) | type;
      chunk.copy(out, FU_HEADER_SIZE);
      return out;
    });
  }
}
