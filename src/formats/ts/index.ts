/**
 * MPEG-TS container layer (ISO/IEC 13818-1): a streaming demuxer (`TsDemuxer`) and a live muxer
 * (`TsMuxer`), plus the packet, PSI and PES pieces. Pure: buffers in, values out.
 */
export { crc32Mpeg2 } from './crc32.ts';
export { TsDemuxer } from './demuxer.ts';
export { TsMuxer, type TsMuxerOptions } from './muxer.ts';
export { NULL_PID, packetize, parseTsPacket, TS_PACKET_SIZE, TS_SYNC_BYTE, type TsPacket } from './packet.ts';
export { buildPesHeader, type PesHeader, parsePesHeader, StreamId } from './pes.ts';
export {
  buildPat,
  buildPmt,
  type Descriptor,
  type PatProgram,
  type Pmt,
  type PmtStream,
  parsePat,
  parsePmt,
  parsePsiSection,
} from './psi.ts';
export { AudioTimeline, rescale, TimestampUnwrapper, TS_CLOCK_RATE } from './timestamp.ts';
export { type DemuxEvent, type TrackCandidate, TrackGate, type TrackGateLimits } from './track-gate.ts';
export {
  DescriptorTag,
  PAT_PID,
  type SkippedStream,
  StreamType,
  type TsDemuxerOptions,
  type TsDemuxerStats,
  type TsEvent,
} from './types.ts';
