/**
 * The pure RTP/RTCP layer: packet parsing and writing, RTCP compound packets, counter unwrapping,
 * reordering and packetization into RTP. No sockets, timers or logging.
 */
export { RtpEncoder, type RtpEncoderOptions } from './encoder.ts';
export {
  chooseExtensionForm,
  extensionFormOf,
  extensionsSize,
  findExtension,
  ONE_BYTE_PROFILE,
  type RtpExtensionElement,
  type RtpExtensionForm,
  readExtensions,
  serializeExtensions,
  TWO_BYTE_PROFILE,
  writeExtensions,
} from './extensions.ts';
export { NTP_UNIX_OFFSET_MS, type NtpTime, ntpFromMs, ntpMiddle32, ntpMsFromUnixMs, ntpToMs } from './ntp.ts';
export {
  parseRtp,
  RTP_HEADER_SIZE,
  RTP_MAX_CSRC,
  RTP_VERSION,
  type RtpExtensionBlock,
  type RtpHeaderFields,
  type RtpPacket,
  rtpSize,
  serializeRtp,
  writeRtp,
  writeRtpHeader,
} from './packet.ts';
export { DEFAULT_REORDER_SIZE, ReorderBuffer } from './reorder.ts';
export {
  isRtcp,
  parseRtcpCompound,
  parseRtcpPacket,
  rtcpCompoundSize,
  rtcpSize,
  serializeRtcp,
  serializeRtcpCompound,
  writeRtcp,
  writeRtcpCompound,
} from './rtcp.ts';
export { compressNackSequences, expandNackPairs } from './rtcp-feedback.ts';
export { sdesCname } from './rtcp-sdes.ts';
export type {
  FirEntry,
  FullIntraRequest,
  GenericNack,
  Goodbye,
  NackPair,
  PictureLossIndication,
  RawRtcp,
  ReceiverReport,
  ReceptionReport,
  RtcpPacket,
  SdesChunk,
  SdesItem,
  SenderReport,
  SourceDescription,
} from './rtcp-types.ts';
export { RtcpFeedbackFormat, RtcpPacketType, SdesItemType } from './rtcp-types.ts';
export { SequenceUnwrapper, TimestampUnwrapper } from './sequence.ts';
