/**
 * An FLV muxer for live output (`GET /api/stream.flv`) and RTMP egress: at most one video track
 * (H.264 legacy, H.265 as Enhanced RTMP `hvc1`) and one audio track (AAC, Opus as Enhanced RTMP
 * v2, G.711). The start is onMetaData and the sequence headers; a new sequence header goes out
 * whenever the in-band parameter sets change. Frames before the video parameter sets are known
 * are dropped and counted.
 *
 * RTMP sends the same tags as messages: use `startTags()` / `frameTags()`; files and HTTP use
 * `header()` / `frame()`, which add the FLV framing.
 */

import { buildAudioSpecificConfig } from '../../codecs/aac/config.ts';
import { aacConfigFromHex } from '../../codecs/aac/fmtp.ts';
import { splitAvcc } from '../../codecs/avcc.ts';
import { buildAvcC } from '../../codecs/h264/avcc-record.ts';
import { H264NalType } from '../../codecs/h264/nal.ts';
import { H264ParameterSets } from '../../codecs/h264/param-sets.ts';
import { parseH264Sps } from '../../codecs/h264/sps.ts';
import { buildHvcC } from '../../codecs/h265/hvcc-record.ts';
import { H265NalType } from '../../codecs/h265/nal.ts';
import { H265ParameterSets } from '../../codecs/h265/param-sets.ts';
import { parseH265Sps } from '../../codecs/h265/sps.ts';
import type { ParameterSetTracker } from '../../codecs/param-sets.ts';
import { BadRequestError, UnsupportedError } from '../../core/errors.ts';
import { type Codec, codecToString, type Frame, isVideo, type Media } from '../../core/media.ts';
import { type Amf0Object, encodeAmf0 } from './amf0.ts';
import { audioSequenceHeaderBody, audioTagBody } from './audio-tag.ts';
import { FLV_HEADER_SIZE, FLV_TAG_HEADER_SIZE, PREVIOUS_TAG_SIZE_SIZE } from './demuxer.ts';
import { type FlvAudioCodec, TagType } from './types.ts';
import { videoSequenceHeaderBody, videoTagBody } from './video-tag.ts';

/** One FLV tag, or RTMP message, without the file framing. */
export interface FlvTag {
  /** 8 audio, 9 video, 18 script data. */
  type: number;
  /** Milliseconds; written modulo 2^32. */
  timestampMs: number;
  body: Buffer;
}

/** Options of `FlvMuxer`. */
export interface FlvMuxerOptions {
  /** Picture size for onMetaData, in pixels; default from the SPS in the codec's fmtp. */
  width?: number;
  height?: number;
  /** Use the Enhanced RTMP header (`avc1`) for H.264 too; default false (legacy CodecID 7). */
  enhancedH264?: boolean;
}

const FLV_VERSION = 1;
const FLAG_AUDIO = 0x04;
const FLAG_VIDEO = 0x01;
const MAX_DATA_SIZE = 0xffffff;
const TIMESTAMP_LOW = 2 ** 24;
const TIMESTAMP_PERIOD = 2 ** 32;
const MS_PER_SECOND = 1000;
const FOURCC_HVC1 = 0x68766331;
const FOURCC_AVC1 = 0x61766331;
const FOURCC_OPUS = 0x4f707573;
const CODEC_ID_AVC = 7;
const SOUND_FORMAT_ID: Readonly<Record<string, number>> = { AAC: 10, PCMA: 7, PCMU: 8, OPUS: FOURCC_OPUS };
const OPUS_HEAD_SIZE = 19;
const OPUS_INPUT_RATE = 48000;

/** The 9-byte FLV header followed by PreviousTagSize0. */
export function flvFileHeader(hasVideo: boolean, hasAudio: boolean): Buffer {
  const out = Buffer.alloc(FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_SIZE);
  out.write('FLV', 0, 'latin1');
  out[3] = FLV_VERSION;
  out[4] = (hasAudio ? FLAG_AUDIO : 0) | (hasVideo ? FLAG_VIDEO : 0);
  out.writeUInt32BE(FLV_HEADER_SIZE, 5);
  return out;
}

/** A tag with its 11-byte header and trailing PreviousTagSize. Throws `BadRequestError` over 16 MiB. */
export function serializeTag(tag: FlvTag): Buffer {
  if (tag.body.length > MAX_DATA_SIZE)
    throw new BadRequestError(`FLV tag of ${tag.body.length} bytes exceeds 16 MiB`);
  const out = Buffer.alloc(FLV_TAG_HEADER_SIZE + tag.body.length + PREVIOUS_TAG_SIZE_SIZE);
  const ts = ((Math.round(tag.timestampMs) % TIMESTAMP_PERIOD) + TIMESTAMP_PERIOD) % TIMESTAMP_PERIOD;
  out[0] = tag.type;
  out.writeUIntBE(tag.body.length, 1, 3);
  out.writeUIntBE(ts % TIMESTAMP_LOW, 4, 3);
  out[7] = Math.floor(ts / TIMESTAMP_LOW);
  tag.body.copy(out, FLV_TAG_HEADER_SIZE);
  out.writeUInt32BE(FLV_TAG_HEADER_SIZE + tag.body.length, out.length - PREVIOUS_TAG_SIZE_SIZE);
  return out;
}

/** An OpusHead (RFC 7845 5.1) for `channels` (1 or 2), pre-skip 0, mapping family 0. */
export function buildOpusHead(channels: number): Buffer {
  const out = Buffer.alloc(OPUS_HEAD_SIZE);
  out.write('OpusHead', 0, 'latin1');
  out[8] = 1; // version
  out[9] = channels;
  out.writeUInt32LE(OPUS_INPUT_RATE, 12);
  return out;
}

interface VideoTrack {
  index: number;
  codec: Codec;
  params: ParameterSetTracker;
  /** The record of the last sequence header sent. */
  sent: Buffer | undefined;
}

/** FLV muxer; see the file comment. */
export class FlvMuxer {
  /** Video frames dropped because no sequence header could be made yet. */
  dropped = 0;
  private video: VideoTrack | undefined;
  private audio: { index: number; codec: Codec; config?: Buffer } | undefined;
  private readonly options: FlvMuxerOptions;

  /**
   * @param medias at most one video (H264, H265) and one audio (AAC, OPUS, PCMA, PCMU) track, each
   *   using its first codec. Throws `UnsupportedError` for anything else.
   */
  constructor(medias: readonly Media[], options: FlvMuxerOptions = {}) {
    this.options = options;
    medias.forEach((m, index) => {
      const codec = m.codecs[0];
      if (!codec) throw new UnsupportedError('FLV: a media without codec');
      if (isVideo(codec)) {
        if (this.video || (codec.name !== 'H264' && codec.name !== 'H265')) {
          throw new UnsupportedError(
            `FLV cannot carry ${codecToString(codec)}${this.video ? ' as a second video' : ''}`,
          );
        }
        const params =
          codec.name === 'H264'
            ? H264ParameterSets.fromFmtp(codec.fmtp)
            : H265ParameterSets.fromFmtp(codec.fmtp);
        this.video = { index, codec, params, sent: undefined };
      } else {
        if (this.audio || !(codec.name in SOUND_FORMAT_ID)) {
          throw new UnsupportedError(
            `FLV cannot carry ${codecToString(codec)}${this.audio ? ' as a second audio' : ''}`,
          );
        }
        this.audio = { index, codec, config: audioConfig(codec) };
      }
    });
  }

  /** The FLV header, onMetaData and the sequence headers known so far. */
  header(): Buffer {
    return Buffer.concat([flvFileHeader(!!this.video, !!this.audio), ...this.startTags().map(serializeTag)]);
  }

  /** The tags of one frame (a sequence header first when the parameter sets changed), serialized. */
  frame(track: number, frame: Frame): Buffer {
    const tags = this.frameTags(track, frame);
    return tags.length === 1 ? serializeTag(tags[0]) : Buffer.concat(tags.map(serializeTag));
  }

  /** onMetaData and the sequence headers, at timestamp 0 (RTMP: before the first frame). */
  startTags(): FlvTag[] {
    const tags: FlvTag[] = [{ type: TagType.SCRIPT, timestampMs: 0, body: this.metadata() }];
    const v = this.video ? this.videoSequenceHeader(this.video) : undefined;
    if (v) tags.push({ type: TagType.VIDEO, timestampMs: 0, body: v });
    const a = this.audio;
    if (a?.config && (a.codec.name === 'AAC' || a.codec.name === 'OPUS')) {
      tags.push({
        type: TagType.AUDIO,
        timestampMs: 0,
        body: audioSequenceHeaderBody(a.codec.name, a.config),
      });
    }
    return tags;
  }

  /**
   * The tags of one frame of track `track` (an index into the medias); times in the codec's clock.
   * Empty when a video frame comes before its parameter sets. Throws `ParseError` on malformed
   * AVCC and `BadRequestError` on an unknown track.
   */
  frameTags(track: number, frame: Frame): FlvTag[] {
    if (this.video?.index === track) {
      const v = this.video;
      const timestampMs = (frame.dts * MS_PER_SECOND) / v.codec.clockRate;
      const tags: FlvTag[] = [];
      v.params.observeAll(splitAvcc(frame.data));
      const seq = this.videoSequenceHeader(v);
      if (seq) tags.push({ type: TagType.VIDEO, timestampMs, body: seq });
      if (!v.sent) {
        this.dropped++;
        return [];
      }
      const name = v.codec.name === 'H264' ? 'H264' : 'H265';
      const body = videoTagBody(name, frame, { enhanced: this.options.enhancedH264 });
      tags.push({ type: TagType.VIDEO, timestampMs, body });
      return tags;
    }
    if (this.audio?.index === track) {
      const a = this.audio;
      const timestampMs = (frame.dts * MS_PER_SECOND) / a.codec.clockRate;
      const name = a.codec.name as FlvAudioCodec;
      return [{ type: TagType.AUDIO, timestampMs, body: audioTagBody(name, frame.data, a.codec.channels) }];
    }
    throw new BadRequestError(`FLV: no track ${track}`);
  }

  /** A sequence-header body when the parameter sets differ from the last one sent, else undefined. */
  private videoSequenceHeader(v: VideoTrack): Buffer | undefined {
    const s = v.params.stored;
    let record: Buffer;
    try {
      if (v.codec.name === 'H264') {
        const sps = s.get(H264NalType.SPS);
        const pps = s.get(H264NalType.PPS);
        if (!sps || !pps) return undefined;
        record = buildAvcC(sps, pps);
      } else {
        const vps = s.get(H265NalType.VPS);
        const sps = s.get(H265NalType.SPS);
        const pps = s.get(H265NalType.PPS);
        if (!vps || !sps || !pps) return undefined;
        record = buildHvcC(vps, sps, pps);
      }
    } catch {
      return undefined; // an SPS that does not parse: wait for a better one
    }
    if (v.sent?.equals(record)) return undefined;
    v.sent = record;
    const name = v.codec.name === 'H264' ? 'H264' : 'H265';
    return videoSequenceHeaderBody(name, record, { enhanced: this.options.enhancedH264 });
  }

  private metadata(): Buffer {
    const meta: Amf0Object = { duration: 0 };
    const v = this.video;
    if (v) {
      const size =
        this.options.width && this.options.height
          ? { width: this.options.width, height: this.options.height }
          : pictureSize(v);
      if (size) Object.assign(meta, size);
      const enhanced = this.options.enhancedH264 ? FOURCC_AVC1 : CODEC_ID_AVC;
      meta['videocodecid'] = v.codec.name === 'H265' ? FOURCC_HVC1 : enhanced;
    }
    const a = this.audio;
    if (a) {
      meta['audiocodecid'] = SOUND_FORMAT_ID[a.codec.name];
      meta['audiosamplerate'] = a.codec.clockRate;
      meta['stereo'] = (a.codec.channels ?? 1) >= 2;
    }
    meta['encoder'] = 'mediagate';
    return Buffer.concat([encodeAmf0('onMetaData'), encodeAmf0(meta, true)]);
  }
}

/** The picture size from the SPS the tracker holds, if it parses. */
function pictureSize(v: VideoTrack): { width: number; height: number } | undefined {
  try {
    const sps = v.params.stored.get(v.codec.name === 'H264' ? H264NalType.SPS : H265NalType.SPS);
    if (!sps) return undefined;
    const info = v.codec.name === 'H264' ? parseH264Sps(sps) : parseH265Sps(sps);
    return { width: info.width, height: info.height };
  } catch {
    return undefined;
  }
}

/** The sequence-header record of an audio codec: the AudioSpecificConfig or an OpusHead. */
function audioConfig(codec: Codec): Buffer | undefined {
  if (codec.name === 'OPUS') return buildOpusHead(Math.min(codec.channels ?? 2, 2));
  if (codec.name !== 'AAC') return undefined;
  const hex = codec.fmtp?.['config'];
  try {
    if (hex) return aacConfigFromHex(hex);
    return buildAudioSpecificConfig({
      objectType: 2,
      sampleRate: codec.clockRate,
      channelConfig: codec.channels ?? 2,
    });
  } catch {
    throw new UnsupportedError(`FLV: no AudioSpecificConfig for ${codecToString(codec)}`);
  }
}
