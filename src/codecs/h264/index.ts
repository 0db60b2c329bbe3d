/** H.264 / AVC: NAL units, SPS, avcC, SDP and MSE parameters, RFC 6184 RTP packetization. */
export { annexBToAvcc, avccToAnnexB, joinAvcc, splitAnnexB, splitAvcc } from '../avcc.ts';
export { parseSpropNals } from '../param-sets.ts';
export { type AvcDecoderConfig, buildAvcC, parseAvcC } from './avcc-record.ts';
export { H264Depayloader } from './depayloader.ts';
export {
  h264CodecString,
  h264FmtpFromParams,
  h264ProfileLevelId,
  parseSpropParameterSets,
} from './fmtp.ts';
export {
  H264_NAL_F_NRI_MASK,
  H264_NAL_NRI_MASK,
  H264_NAL_TYPE_MASK,
  H264NalType,
  h264NalType,
  isH264Keyframe,
  isH264Vcl,
} from './nal.ts';
export { ensureParameterSets, H264ParameterSets } from './param-sets.ts';
export { H264Payloader } from './payloader.ts';
export { type H264Sps, parseH264Sps } from './sps.ts';
