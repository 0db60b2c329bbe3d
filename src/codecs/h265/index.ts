/** H.265 / HEVC: NAL units, SPS, hvcC, SDP and MSE parameters, RFC 7798 RTP packetization. */
export { annexBToAvcc, avccToAnnexB, joinAvcc, splitAnnexB, splitAvcc } from '../avcc.ts';
export { H265Depayloader } from './depayloader.ts';
export { h265CodecString, h265CodecStringFromSps, h265FmtpFromParams, parseH265Sprop } from './fmtp.ts';
export { buildHvcC, type HevcDecoderConfig, hvcCParameterSets, parseHvcC } from './hvcc-record.ts';
export {
  H265_NAL_HEADER_SIZE,
  H265NalType,
  h265NalType,
  isH265IrapNal,
  isH265Keyframe,
  isH265Vcl,
} from './nal.ts';
export { ensureH265ParameterSets, H265ParameterSets } from './param-sets.ts';
export { H265Payloader } from './payloader.ts';
export { type H265ProfileTierLevel, type H265Sps, parseH265Sps, readProfileTierLevel } from './sps.ts';
