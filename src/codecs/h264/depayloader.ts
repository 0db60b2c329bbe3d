/**
 * RFC 6184 H.264 depayloader for packetization modes 0 and 1: single NAL unit packets (5.6), STAP-A
 * (5.7.1) and FU-A (5.8). Produces AVCC frames; keyframes (IDR) get the latest SPS/PPS in front.
 *
 * STAP-A:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |STAP-A NAL HDR |         NALU 1 Size           | NALU 1 HDR    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         NALU 1 Data ...       | NALU 2 Size ...
 *
 * FU-A:
 *   +---------------+---------------+
 *   |F|NRI|  Type=28|S|E|R|  Type   |   FU indicator, FU header, then fragment data
 *   +---------------+---------------+
 *
 * Malformed packets and the interleaved-mode types (STAP-B, MTAP, FU-B) are dropped and counted in
 * `invalid`; the frame they belong to is dropped. Reserved types 0, 30 and 31 are ignored (5.4).
 */
import { ParseError } from '../../core/errors.ts';
import type { Codec } from '../../core/media.ts';
import { NalDepayloader } from '../nal-depayloader.ts';
import { H264_NAL_F_NRI_MASK, H264_NAL_TYPE_MASK, H264NalType, h264NalType, isH264Vcl } from './nal.ts';
import { H264ParameterSets } from './param-sets.ts';

const WHAT = 'RFC 6184';
const NAL_HEADER_SIZE = 1;
const STAP_SIZE_FIELD = 2;
const FU_HEADER_SIZE = 2;
const FU_START = 0x80;
const FU_END = 0x40;
/** Types 1..23 are NAL units sent as they are (single NAL unit packets). */
const MAX_SINGLE_NAL_TYPE = 23;
const RESERVED_TYPES = new Set([0, 30, 31]);

/** RFC 6184 depayloader producing AVCC access units; see the file comment for what is dropped. */
export class H264Depayloader extends NalDepayloader {
  /** @param codec the track's codec; `sprop-parameter-sets` in its fmtp seeds the parameter sets. */
  constructor(codec?: Codec) {
    super(H264ParameterSets.fromFmtp(codec?.fmtp));
  }

  protected isVcl(nal: Buffer): boolean {
    return isH264Vcl(nal);
  }

  protected isKeyframeNal(nal: Buffer): boolean {
    return h264NalType(nal) === H264NalType.IDR;
  }

  protected depacketize(payload: Buffer): void {
    ParseError.need(WHAT, payload, 0, NAL_HEADER_SIZE, 'NAL header');
    const type = payload[0] & H264_NAL_TYPE_MASK;
    if (type >= H264NalType.SLICE && type <= MAX_SINGLE_NAL_TYPE) {
      this.addNal(payload);
    } else if (type === H264NalType.STAP_A) {
      let o = NAL_HEADER_SIZE;
      if (o >= payload.length) throw new ParseError(WHAT, 'empty STAP-A');
      while (o < payload.length) {
        ParseError.need(WHAT, payload, o, STAP_SIZE_FIELD, 'STAP-A NALU size');
        const size = payload.readUInt16BE(o);
        o += STAP_SIZE_FIELD;
        if (size === 0) throw new ParseError(WHAT, 'STAP-A with an empty NAL unit', o);
        ParseError.need(WHAT, payload, o, size, 'STAP-A NAL unit');
        this.addNal(payload.subarray(o, o + size));
        o += size;
      }
    } else if (type === H264NalType.FU_A) {
      ParseError.need(WHAT, payload, 0, FU_HEADER_SIZE, 'FU header');
      const fu = payload[1];
      const start = (fu & FU_START) !== 0;
      const end = (fu & FU_END) !== 0;
      const data = payload.subarray(FU_HEADER_SIZE);
      if (start) {
        if (end) throw new ParseError(WHAT, 'FU-A with both start and end bits');
        const header = Buffer.from([(payload[0] & H264_NAL_F_NRI_MASK) | (fu & H264_NAL_TYPE_MASK)]);
        this.fragmentStart(header, data);
      } else {
        this.fragmentContinue(data, end);
      }
    } else if (!RESERVED_TYPES.has(type)) {
      throw new ParseError(WHAT, `unsupported packet type ${type} (interleaved mode)`);
    }
  }
}
