/** AAC: AudioSpecificConfig, ADTS, RFC 3640 SDP parameters and RTP packetization. */
export { ADTS_HEADER_SIZE, type AdtsHeader, buildAdtsHeader, parseAdtsHeader } from './adts.ts';
export {
  AAC_SAMPLE_RATES,
  type AudioSpecificConfig,
  type AudioSpecificConfigInit,
  aacCodecString,
  buildAudioSpecificConfig,
  parseAudioSpecificConfig,
} from './config.ts';
export { AacDepayloader } from './depayloader.ts';
export {
  AAC_HBR,
  AAC_LBR,
  type AuHeaderLayout,
  aacConfigFromHex,
  aacConfigToHex,
  aacFmtp,
  auHeaderLayout,
} from './fmtp.ts';
export { AacPayloader } from './payloader.ts';
