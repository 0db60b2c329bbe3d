/**
 * RFC 7798 H.265 depayloader without DONL (sprop-max-don-diff = 0): single NAL unit packets (4.4.1),
 * aggregation packets (4.4.2) and fragmentation units (4.4.3). Produces AVCC frames; keyframes
 * (IRAP) get the latest VPS/SPS/PPS in front.
 *
 * AP (type 48):
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |    PayloadHdr (Type=48)       |         NALU 1 Size           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          NALU 1 HDR           |         NALU 1 Data ...       | NALU 2 Size ...
 *
 * FU (type 49):
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |    PayloadHdr (Type=49)       |S|E|  FuType   |   then fragment data
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Malformed packets and PACI (type 50) are dropped and counted in `invalid`; the frame they belong
 * to is dropped. Types 51..63 are ignored.
 */
import { ParseError, UnsupportedError } from '../../core/errors.ts';
import type { Codec } from '../../core/media.ts';
import { NalDepayloader } from '../nal-depayloader.ts';
import {
  H265_NAL_FIRST_BYTE_KEEP_MASK,
  H265_NAL_HEADER_SIZE,
  H265_NAL_TYPE_SHIFT,
  H265NalType,
  h265NalType,
  isH265IrapNal,
  isH265Vcl,
} from './nal.ts';
import { H265ParameterSets } from './param-sets.ts';

const WHAT = 'RFC 7798';
const AP_SIZE_FIELD = 2;
const FU_HEADER_SIZE = 3;
const FU_START = 0x80;
const FU_END = 0x40;
const FU_TYPE_MASK = 0x3f;
/** NAL unit types 0..47 are sent as they are (single NAL unit packets). */
const MAX_SINGLE_NAL_TYPE = 47;

/** RFC 7798 depayloader producing AVCC access units; see the file comment for what is dropped. */
export class H265Depayloader extends NalDepayloader {
  /**
   * @param codec the track's codec; `sprop-vps/sps/pps` in its fmtp seed the parameter sets.
   * Throws `UnsupportedError` when the fmtp announces DONL fields (`sprop-max-don-diff` > 0).
   */
  constructor(codec?: Codec) {
    super(H265ParameterSets.fromFmtp(codec?.fmtp));
    const donDiff = Number(codec?.fmtp?.['sprop-max-don-diff'] ?? 0);
    if (donDiff > 0)
      throw new UnsupportedError(`H265 RTP with DONL (sprop-max-don-diff=${donDiff}) is not supported`);
  }

  protected isVcl(nal: Buffer): boolean {
    return isH265Vcl(nal);
  }

  protected isKeyframeNal(nal: Buffer): boolean {
    return isH265IrapNal(nal);
  }

  protected depacketize(payload: Buffer): void {
    ParseError.need(WHAT, payload, 0, H265_NAL_HEADER_SIZE, 'payload header');
    const type = h265NalType(payload);
    if (type <= MAX_SINGLE_NAL_TYPE) {
      this.addNal(payload);
    } else if (type === H265NalType.AP) {
      let o = H265_NAL_HEADER_SIZE;
      if (o >= payload.length) throw new ParseError(WHAT, 'empty AP');
      while (o < payload.length) {
        ParseError.need(WHAT, payload, o, AP_SIZE_FIELD, 'AP NALU size');
        const size = payload.readUInt16BE(o);
        o += AP_SIZE_FIELD;
        if (size < H265_NAL_HEADER_SIZE) throw new ParseError(WHAT, `AP NAL unit of ${size} bytes`, o);
        ParseError.need(WHAT, payload, o, size, 'AP NAL unit');
        this.addNal(payload.subarray(o, o + size));
        o += size;
      }
    } else if (type === H265NalType.FU) {
      ParseError.need(WHAT, payload, 0, FU_HEADER_SIZE, 'FU header');
      const fu = payload[H265_NAL_HEADER_SIZE];
      const start = (fu & FU_START) !== 0;
      const end = (fu & FU_END) !== 0;
      const data = payload.subarray(FU_HEADER_SIZE);
      if (start) {
        if (end) throw new ParseError(WHAT, 'FU with both start and end bits');
        const header = Buffer.from([
          (payload[0] & H265_NAL_FIRST_BYTE_KEEP_MASK) | ((fu & FU_TYPE_MASK) << H265_NAL_TYPE_SHIFT),
          payload[1],
        ]);
        this.fragmentStart(header, data);
      } else {
        this.fragmentContinue(data, end);
      }
    } else if (type === H265NalType.PACI) {
      throw new ParseError(WHAT, 'PACI packets are not supported');
    }
  }
}
