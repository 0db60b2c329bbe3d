/**
 * Packetization shared by the H.264 (RFC 6184) and H.265 (RFC 7798) payloaders: each NAL unit of a
 * frame goes as a single NAL unit packet when it fits the MTU and as fragmentation units otherwise;
 * runs of small parameter sets are aggregated (STAP-A / AP). Keyframes get the latest parameter
 * sets in front first.
 */
import type { Frame } from '../core/media.ts';
import { splitAvcc } from './avcc.ts';
import type { ParameterSetTracker } from './param-sets.ts';
import { PayloaderBase } from './rtp-base.ts';
import type { RtpOutput } from './rtp-types.ts';

/** Size of the NAL unit size field in an aggregation packet (STAP-A and AP). */
export const AGGREGATION_SIZE_FIELD = 2;

/** Options of the H.264 and H.265 payloaders. */
export interface NalPayloaderOptions {
  /** Payload size limit in bytes; default `DEFAULT_MTU`. */
  mtu?: number;
  /** Put the latest SPS/PPS (and VPS) in front of keyframes that lack them; default true. */
  resendParameterSets?: boolean;
  /** Send consecutive parameter sets in one aggregation packet; default true. */
  aggregate?: boolean;
}

/** Base of the H.264 and H.265 payloaders. */
export abstract class NalPayloader extends PayloaderBase {
  /** Parameter sets seen in frames or given out of band. */
  readonly parameterSets: ParameterSetTracker;
  private readonly resend: boolean;
  private readonly aggregateParams: boolean;

  constructor(parameterSets: ParameterSetTracker, mtu: number, minMtu: number, options: NalPayloaderOptions) {
    super(mtu, minMtu);
    this.parameterSets = parameterSets;
    this.resend = options.resendParameterSets ?? true;
    this.aggregateParams = options.aggregate ?? true;
  }

  /** Bytes of the aggregation packet header (1 for STAP-A, 2 for AP). */
  protected abstract readonly aggregationHeaderSize: number;
  /** True for NAL units that may be aggregated (the parameter sets). */
  protected abstract isAggregatable(nal: Buffer): boolean;
  /** An aggregation packet of `nals` (at least 2, known to fit the MTU). */
  protected abstract aggregate(nals: Buffer[]): Buffer;
  /** Fragmentation units for one NAL unit larger than the MTU. */
  protected abstract fragment(nal: Buffer): Buffer[];

  /** RTP payloads of one AVCC frame, all with `frame.pts`; the marker is on the last one. Throws `ParseError` on malformed AVCC. */
  packetize(frame: Frame): RtpOutput[] {
    const nals = splitAvcc(frame.data);
    this.parameterSets.observeAll(nals);
    const all = this.resend ? this.parameterSets.complete(nals, frame.keyframe) : nals;
    const payloads: Buffer[] = [];
    let group: Buffer[] = [];
    let groupSize = this.aggregationHeaderSize;
    const flush = (): void => {
      if (group.length === 1) payloads.push(group[0]);
      else if (group.length > 1) payloads.push(this.aggregate(group));
      group = [];
      groupSize = this.aggregationHeaderSize;
    };
    for (const nal of all) {
      const size = AGGREGATION_SIZE_FIELD + nal.length;
      if (this.aggregateParams && this.isAggregatable(nal) && this.aggregationHeaderSize + size <= this.mtu) {
        if (groupSize + size > this.mtu) flush();
        group.push(nal);
        groupSize += size;
        continue;
      }
      flush();
      if (nal.length <= this.mtu) payloads.push(nal);
      else payloads.push(...this.fragment(nal));
    }
    flush();
    return payloads.map((payload, i) => ({
      payload,
      timestamp: frame.pts,
      marker: i === payloads.length - 1,
    }));
  }
}

/**
 * Splits `body` (a NAL unit without its header) into chunks that fit after `headerSize` bytes of
 * fragmentation headers, and calls `make(chunk, start, end)` for each.
 */
export function fragmentBody(
  body: Buffer,
  mtu: number,
  headerSize: number,
  make: (chunk: Buffer, start: boolean, end: boolean) => Buffer,
): Buffer[] {
  const max = mtu - headerSize;
  const out: Buffer[] = [];
  for (let o = 0; o < body.length; o += max) {
    const end = o + max >= body.length;
    out.push(make(body.subarray(o, Math.min(o + max, body.length)), o === 0, end));
  }
  return out;
}
