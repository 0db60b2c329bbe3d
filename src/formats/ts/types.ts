/**
 * Public types and constants of the MPEG-TS layer (ISO/IEC 13818-1): what `TsDemuxer` emits and
 * counts, and the stream types and PIDs both directions use.
 */
import type { TrackGateLimits } from './track-gate.ts';

export type { DemuxEvent as TsEvent } from './track-gate.ts';

/** stream_type values of the PMT (Table 2-34 and its amendments) that mediagate knows. */
export const StreamType = {
  MPEG1_AUDIO: 0x03,
  MPEG2_AUDIO: 0x04,
  /** PES private data: Opus when the ES has an `Opus` registration descriptor. */
  PRIVATE_PES: 0x06,
  AAC_ADTS: 0x0f,
  H264: 0x1b,
  H265: 0x24,
} as const;

/** Descriptor tags used in the PMT. */
export const DescriptorTag = {
  /** registration_descriptor (2.6.8): a 4-byte format_identifier. */
  REGISTRATION: 0x05,
  /** DVB extension_descriptor; extension tag 0x80 carries the Opus channel configuration. */
  EXTENSION: 0x7f,
} as const;

/** The PAT's PID. */
export const PAT_PID = 0x0000;

/** Options of `TsDemuxer`. */
export interface TsDemuxerOptions extends TrackGateLimits {
  /** A PES that grows beyond this is dropped, in bytes; default 8 MiB. */
  maxPesSize?: number;
}

/** Counters of a `TsDemuxer`; they only grow. */
export interface TsDemuxerStats {
  /** Packets parsed. */
  packets: number;
  /** Bytes skipped while looking for the sync byte. */
  garbageBytes: number;
  /** Packets dropped: transport_error_indicator, scrambled, malformed, duplicate. */
  droppedPackets: number;
  /** Continuity-counter gaps; each drops the PES or section in progress. */
  continuityErrors: number;
  /** PSI sections dropped: bad CRC, malformed, lengths that overrun. */
  psiErrors: number;
  /** PES packets dropped: malformed header, truncated, too large, video without PTS. */
  pesDropped: number;
  /**
   * Frames dropped: before the codec parameters were known, malformed payloads, and frames of
   * tracks that were not ready when the tracks event went out.
   */
  framesDropped: number;
}

/** An elementary stream the demuxer skips because its codec is not supported. */
export interface SkippedStream {
  pid: number;
  streamType: number;
}
