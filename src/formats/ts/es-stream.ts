/**
 * The per-PID state of the demuxer: which codec a PMT entry carries (stream_type and, for Opus,
 * the registration descriptor) and the PES being collected for it.
 */
import type { Codec } from '../../core/media.ts';
import { AdtsEs, type AudioEs, OpusEs } from './audio-es.ts';
import type { PmtStream } from './psi.ts';
import { DescriptorTag, StreamType } from './types.ts';
import { VideoEs } from './video-es.ts';

const OPUS_FORMAT = 'Opus';
const FORMAT_ID_SIZE = 4;
/** DVB extension descriptor tag of the Opus audio descriptor, then channel_config_code. */
const OPUS_EXTENSION_TAG = 0x80;
const OPUS_MAX_CHANNEL_CODE = 8;
const OPUS_DEFAULT_CHANNELS = 2;

/** One elementary stream of the program and the PES it is collecting. */
export interface EsStream {
  /** Gate key: unique per stream, so a PID reused for another codec is a new track. */
  key: number;
  pid: number;
  kind: Codec['name'];
  video?: VideoEs;
  audio?: AudioEs;
  /** Copies of the packet payloads of the PES in progress. */
  chunks: Buffer[];
  size: number;
  /** 6 + PES_packet_length once known; 0 = until the next unit start. */
  expected: number | undefined;
  active: boolean;
}

/** A stream in its initial state; `key` must be unique within the demuxer. */
export function newEsStream(key: number, es: PmtStream, kind: Codec['name']): EsStream {
  const s: EsStream = { key, pid: es.pid, kind, chunks: [], size: 0, expected: undefined, active: false };
  if (kind === 'H264' || kind === 'H265') s.video = new VideoEs(kind);
  else if (kind === 'AAC') s.audio = new AdtsEs();
  else s.audio = new OpusEs(opusChannels(es));
  return s;
}

/** Frames the stream's handler dropped. */
export function esDropped(s: EsStream): number {
  return s.video?.dropped ?? s.audio?.dropped ?? 0;
}

/** The codec of a PMT entry, or undefined when mediagate does not handle it. */
export function classify(es: PmtStream): Codec['name'] | undefined {
  switch (es.streamType) {
    case StreamType.H264:
      return 'H264';
    case StreamType.H265:
      return 'H265';
    case StreamType.AAC_ADTS:
      return 'AAC';
    case StreamType.PRIVATE_PES: {
      const opus = es.descriptors.some(
        (d) =>
          d.tag === DescriptorTag.REGISTRATION &&
          d.data.length >= FORMAT_ID_SIZE &&
          d.data.toString('latin1', 0, FORMAT_ID_SIZE) === OPUS_FORMAT,
      );
      return opus ? 'OPUS' : undefined;
    }
    default:
      return undefined;
  }
}

/** Channels from the Opus audio descriptor (extension tag 0x80), 2 when absent or not a plain count. */
function opusChannels(es: PmtStream): number {
  const d = es.descriptors.find(
    (x) => x.tag === DescriptorTag.EXTENSION && x.data.length >= 2 && x.data[0] === OPUS_EXTENSION_TAG,
  );
  const code = d ? d.data[1] : 0;
  return code >= 1 && code <= OPUS_MAX_CHANNEL_CODE ? code : OPUS_DEFAULT_CHANNELS;
}
