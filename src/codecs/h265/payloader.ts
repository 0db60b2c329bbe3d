/**
 * RFC 7798 H.265 payloader without DONL: single NAL unit packets (4.4.1), FU (4.4.3) for NAL units
 * larger than the MTU and AP (4.4.2) for VPS + SPS + PPS. Diagrams in `depayloader.ts`.
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
  H265_NAL_FIRST_BYTE_KEEP_MASK,
  H265_NAL_HEADER_SIZE,
  H265_NAL_TYPE_SHIFT,
  H265NalType,
  h265NalType,
} from './nal.ts';
import { H265ParameterSets } from './param-sets.ts';

const FU_HEADER_SIZE = 3;
const FU_START = 0x80;
const FU_END = 0x40;
const F_BIT = 0x80;
const LAYER_ID_HIGH_BIT = 0x01;
const LAYER_ID_LOW_SHIFT = 3;
/** LayerId is 6 bits: the high one ends byte 0, the low five start byte 1. */
const LAYER_ID_LOW_BITS = 5;
const LAYER_ID_LOW_MASK = 0x1f;
const TID_MASK = 0x07;
/** The smallest MTU that carries an FU with one byte of data. */
const MIN_MTU = FU_HEADER_SIZE + 1;

/** RFC 7798 payloader (no DONL) for AVCC access units. */
export class H265Payloader extends NalPayloader {
  protected readonly aggregationHeaderSize = H265_NAL_HEADER_SIZE;

  /** @param codec the track's codec; `sprop-vps/sps/pps` in its fmtp seed the parameter sets. */
  constructor(codec?: Codec, options: NalPayloaderOptions = {}) {
    super(H265ParameterSets.fromFmtp(codec?.fmtp), options.mtu ?? DEFAULT_MTU, MIN_MTU, options);
  }

  protected isAggregatable(nal: Buffer): boolean {
    const t = h265NalType(nal);
    return nal.length >= H265_NAL_HEADER_SIZE && t >= H265NalType.VPS && t <= H265NalType.PPS;
  }

  protected aggregate(nals: Buffer[]): Buffer {
    // 4.4.2: F is the OR of the aggregated F bits, LayerId and TID the lowest of them.
    let f = 0;
    let layerId = Number.POSITIVE_INFINITY;
    let tid = Number.POSITIVE_INFINITY;
    for (const n of nals) {
      f |= n[0] & F_BIT;
      layerId = Math.min(
        layerId,
        ((n[0] & LAYER_ID_HIGH_BIT) << LAYER_ID_LOW_BITS) | (n[1] >> LAYER_ID_LOW_SHIFT),
      );
      tid = Math.min(tid, n[1] & TID_MASK);
    }
    const header = Buffer.from([
      f | (H265NalType.AP << H265_NAL_TYPE_SHIFT) | (layerId >> LAYER_ID_LOW_BITS),
      ((layerId & LAYER_ID_LOW_MASK) << LAYER_ID_LOW_SHIFT) | tid,
    ]);
    const parts: Buffer[] = [header];
    for (const n of nals) {
      const size = Buffer.alloc(AGGREGATION_SIZE_FIELD);
      size.writeUInt16BE(n.length);
      parts.push(size, n);
    }
    return Buffer.concat(parts);
  }

  protected fragment(nal: Buffer): Buffer[] {
    const first = (nal[0] & H265_NAL_FIRST_BYTE_KEEP_MASK) | (H265NalType.FU << H265_NAL_TYPE_SHIFT);
    const type = h265NalType(nal);
    return fragmentBody(nal.subarray(H265_NAL_HEADER_SIZE), this.mtu, FU_HEADER_SIZE, (chunk, start, end) => {
      const out = Buffer.allocUnsafe(FU_HEADER_SIZE + chunk.length);
      out[0] = first;
      out[1] = nal[1];
      out[2] = (start ? FU_START : 0) | (end ? FU_END : 0) | type;
      chunk.copy(out, FU_HEADER_SIZE);
      return out;
    });
  }
}
