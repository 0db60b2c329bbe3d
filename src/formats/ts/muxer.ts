/**
 * An MPEG-TS muxer for live output (`GET /api/stream.ts`, HLS segments): one program, PAT and PMT
 * up front and again before every keyframe (and at least twice a second), one PES per frame.
 *
 * - H.264 / H.265: AVCC becomes Annex B with an access unit delimiter first and the parameter sets
 *   (from the codec's fmtp and in-band) in front of every keyframe; PES_packet_length 0 when the
 *   access unit is over 64 KiB.
 * - AAC: a 7-byte ADTS header per frame. Opus: the control header of ETSI TS 102 366 style.
 * - PCR = DTS on the first video stream's PID (the first stream when there is no video).
 */

import { buildAdtsHeader } from '../../codecs/aac/adts.ts';
import { type AudioSpecificConfig, parseAudioSpecificConfig } from '../../codecs/aac/config.ts';
import { aacConfigFromHex } from '../../codecs/aac/fmtp.ts';
import { splitAvcc } from '../../codecs/avcc.ts';
import { H264NalType, h264NalType } from '../../codecs/h264/nal.ts';
import { H264ParameterSets } from '../../codecs/h264/param-sets.ts';
import { H265NalType, h265NalType } from '../../codecs/h265/nal.ts';
import { H265ParameterSets } from '../../codecs/h265/param-sets.ts';
import type { ParameterSetTracker } from '../../codecs/param-sets.ts';
import { BadRequestError, UnsupportedError } from '../../core/errors.ts';
import { type Codec, codecToString, type Frame, isVideo, type Media } from '../../core/media.ts';
import { packetize, TS_MAX_PAYLOAD } from './packet.ts';
import { buildPesHeader, StreamId } from './pes.ts';
import { buildPat, buildPmt, type Descriptor } from './psi.ts';
import { rescale, TS_CLOCK_RATE } from './timestamp.ts';
import { DescriptorTag, PAT_PID, StreamType } from './types.ts';

/** Options of `TsMuxer`. */
export interface TsMuxerOptions {
  /** PID of the PMT; default 0x1000 (as ffmpeg). */
  pmtPid?: number;
  /** PID of the first stream, the others follow; default 0x100. */
  firstPid?: number;
  /** program_number; default 1. */
  programNumber?: number;
  /** Longest time between two PAT/PMT repetitions, in 90 kHz units; default 45000 (0.5 s). */
  tableInterval?: number;
}

const DEFAULT_PMT_PID = 0x1000;
const DEFAULT_FIRST_PID = 0x100;
const DEFAULT_PROGRAM = 1;
const DEFAULT_TABLE_INTERVAL = TS_CLOCK_RATE / 2;
const TRANSPORT_STREAM_ID = 1;
const POINTER_FIELD = Buffer.from([0]);
const START_CODE = Buffer.from([0, 0, 0, 1]);
/** H.264 AUD: primary_pic_type 7 (any slice type), then the stop bit. */
const H264_AUD = Buffer.from([0x09, 0xf0]);
/** H.265 AUD: type 35, layer 0, TID 1; pic_type 2 (any), then the stop bit. */
const H265_AUD = Buffer.from([0x46, 0x01, 0x50]);
const OPUS_CONTROL_HEADER = Buffer.from([0x7f, 0xe0]);
const AU_SIZE_CONTINUE = 0xff;
const OPUS_EXTENSION_TAG = 0x80;
const MAX_OPUS_CHANNEL_CODE = 2;

interface MuxTrack {
  pid: number;
  codec: Codec;
  streamType: number;
  streamId: number;
  descriptors: Descriptor[];
  cc: number;
  params?: ParameterSetTracker;
  aac?: AudioSpecificConfig;
}

/** MPEG-TS muxer; `header()` first, then `frame()` per frame. Output is whole 188-byte packets. */
export class TsMuxer {
  private readonly tracks: MuxTrack[];
  private readonly pmtPid: number;
  private readonly program: number;
  private readonly pcrTrack: number;
  private readonly tableInterval: number;
  private patCc = 0;
  private pmtCc = 0;
  /** 90 kHz DTS of the PCR track when PAT and PMT last went out from `frame()`. */
  private tablesAt: number | undefined;
  private headerSent = false;

  /**
   * @param medias the tracks in output order; each uses its first codec. Throws `UnsupportedError`
   *   for a codec MPEG-TS cannot carry here (only H264, H265, AAC with an ADTS-compatible config, OPUS).
   */
  constructor(medias: readonly Media[], options: TsMuxerOptions = {}) {
    this.pmtPid = options.pmtPid ?? DEFAULT_PMT_PID;
    this.program = options.programNumber ?? DEFAULT_PROGRAM;
    this.tableInterval = options.tableInterval ?? DEFAULT_TABLE_INTERVAL;
    const firstPid = options.firstPid ?? DEFAULT_FIRST_PID;
    this.tracks = medias.map((m, i) => muxTrack(m.codecs[0], firstPid + i));
    const video = this.tracks.findIndex((t) => isVideo(t.codec));
    this.pcrTrack = Math.max(video, 0);
  }

  /** PAT and PMT, two packets. Call once before the first frame; frames repeat them as needed. */
  header(): Buffer {
    this.headerSent = true;
    const pat = this.table(
      PAT_PID,
      buildPat(TRANSPORT_STREAM_ID, { programNumber: this.program, pmtPid: this.pmtPid }),
      this.patCc,
    );
    this.patCc = pat.cc;
    const pcrPid = this.tracks[this.pcrTrack]?.pid ?? 0x1fff;
    const pmtSection = buildPmt(this.program, {
      pcrPid,
      streams: this.tracks.map((t) => ({ streamType: t.streamType, pid: t.pid, descriptors: t.descriptors })),
    });
    const pmt = this.table(this.pmtPid, pmtSection, this.pmtCc);
    this.pmtCc = pmt.cc;
    return Buffer.concat([pat.data, pmt.data]);
  }

  /**
   * The packets of one frame of track `track` (an index into the medias), with PAT and PMT in
   * front when they are due. Times are in the codec's clock. Throws `ParseError` on malformed
   * AVCC and `BadRequestError` on an AAC frame over 8184 bytes or an unknown track.
   */
  frame(track: number, frame: Frame): Buffer {
    const t = this.tracks[track];
    if (!t) throw new BadRequestError(`MPEG-TS: no track ${track} among ${this.tracks.length}`);
    const pts = rescale(frame.pts, t.codec.clockRate, TS_CLOCK_RATE);
    const dts = rescale(frame.dts, t.codec.clockRate, TS_CLOCK_RATE);
    const parts: Buffer[] = [];
    const isPcr = track === this.pcrTrack;
    if (isPcr) {
      const due =
        (frame.keyframe && isVideo(t.codec)) ||
        (this.tablesAt === undefined
          ? !this.headerSent
          : Math.abs(dts - this.tablesAt) >= this.tableInterval);
      if (due) parts.push(this.header());
      if (due || this.tablesAt === undefined) this.tablesAt = dts;
    } else if (!this.headerSent) {
      parts.push(this.header());
    }
    const payload = this.payload(t, frame);
    const pes = Buffer.concat([buildPesHeader(t.streamId, payload.length, pts, dts), payload]);
    const packets = packetize(t.pid, pes, t.cc, {
      pcr: isPcr ? dts : undefined,
      randomAccess: frame.keyframe,
    });
    t.cc = packets.cc;
    parts.push(packets.data);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  private payload(t: MuxTrack, frame: Frame): Buffer {
    if (t.params) {
      const h264 = t.codec.name === 'H264';
      const typeOf = h264 ? h264NalType : h265NalType;
      const aud = h264 ? H264NalType.AUD : H265NalType.AUD;
      const nals = splitAvcc(frame.data).filter((n) => typeOf(n) !== aud);
      t.params.observeAll(nals);
      const parts: Buffer[] = [START_CODE, h264 ? H264_AUD : H265_AUD];
      for (const n of t.params.complete(nals, frame.keyframe)) parts.push(START_CODE, n);
      return Buffer.concat(parts);
    }
    if (t.aac) return Buffer.concat([buildAdtsHeader(t.aac, frame.data.length), frame.data]);
    // Opus: au_size as a run of 0xFF bytes and a last byte below 0xFF.
    const sizeBytes = Buffer.alloc(Math.floor(frame.data.length / AU_SIZE_CONTINUE) + 1, AU_SIZE_CONTINUE);
    sizeBytes[sizeBytes.length - 1] = frame.data.length % AU_SIZE_CONTINUE;
    return Buffer.concat([OPUS_CONTROL_HEADER, sizeBytes, frame.data]);
  }

  /** One PSI section after a pointer_field, filled up with 0xFF to whole packets. */
  private table(pid: number, section: Buffer, cc: number): { data: Buffer; cc: number } {
    const length = POINTER_FIELD.length + section.length;
    const payload = Buffer.alloc(Math.ceil(length / TS_MAX_PAYLOAD) * TS_MAX_PAYLOAD, 0xff);
    POINTER_FIELD.copy(payload, 0);
    section.copy(payload, POINTER_FIELD.length);
    return packetize(pid, payload, cc);
  }
}

function muxTrack(codec: Codec | undefined, pid: number): MuxTrack {
  if (!codec) throw new UnsupportedError(`MPEG-TS: a media without codec`);
  const base = { pid, codec, cc: 0, descriptors: [] as Descriptor[] };
  switch (codec.name) {
    case 'H264':
      return {
        ...base,
        streamType: StreamType.H264,
        streamId: StreamId.VIDEO,
        params: H264ParameterSets.fromFmtp(codec.fmtp),
      };
    case 'H265':
      return {
        ...base,
        streamType: StreamType.H265,
        streamId: StreamId.VIDEO,
        params: H265ParameterSets.fromFmtp(codec.fmtp),
      };
    case 'AAC':
      return { ...base, streamType: StreamType.AAC_ADTS, streamId: StreamId.AUDIO, aac: adtsConfig(codec) };
    case 'OPUS': {
      const channels = Math.min(codec.channels ?? 2, MAX_OPUS_CHANNEL_CODE);
      const descriptors: Descriptor[] = [
        { tag: DescriptorTag.REGISTRATION, data: Buffer.from('Opus', 'latin1') },
        { tag: DescriptorTag.EXTENSION, data: Buffer.from([OPUS_EXTENSION_TAG, channels]) },
      ];
      return { ...base, streamType: StreamType.PRIVATE_PES, streamId: StreamId.PRIVATE_1, descriptors };
    }
    default:
      throw new UnsupportedError(`MPEG-TS cannot carry ${codecToString(codec)}`);
  }
}

/** The AAC config for ADTS headers: from fmtp `config`, else AAC LC at the clock rate. */
function adtsConfig(codec: Codec): AudioSpecificConfig {
  let config: AudioSpecificConfig;
  try {
    const hex = codec.fmtp?.['config'];
    config = hex
      ? parseAudioSpecificConfig(aacConfigFromHex(hex))
      : { objectType: 2, sampleRate: codec.clockRate, channelConfig: codec.channels ?? 2, frameLength: 1024 };
    buildAdtsHeader(config, 0); // throws when ADTS cannot express it
  } catch {
    throw new UnsupportedError(`MPEG-TS cannot carry ${codecToString(codec)}: no ADTS header for its config`);
  }
  return config;
}
