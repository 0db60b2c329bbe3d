/**
 * Turns FLV tags (or RTMP audio, video and data messages, which carry the same bodies) into a
 * `tracks` event and frames: sequence headers give the codecs, coded frames become AVCC / raw
 * frames in the codec's clock. Tracks announced by the FLV header or onMetaData are waited for
 * (up to the gate's limits) before the tracks event goes out.
 *
 * Damage is dropped and counted, never thrown.
 */

import { parseAudioSpecificConfig } from '../../codecs/aac/config.ts';
import { aacFmtp } from '../../codecs/aac/fmtp.ts';
import { joinAvcc, splitAvcc } from '../../codecs/avcc.ts';
import { parseAvcC } from '../../codecs/h264/avcc-record.ts';
import { h264FmtpFromParams } from '../../codecs/h264/fmtp.ts';
import { H264ParameterSets } from '../../codecs/h264/param-sets.ts';
import { parseH264Sps } from '../../codecs/h264/sps.ts';
import { h265FmtpFromParams } from '../../codecs/h265/fmtp.ts';
import { hvcCParameterSets, parseHvcC } from '../../codecs/h265/hvcc-record.ts';
import { H265ParameterSets } from '../../codecs/h265/param-sets.ts';
import { parseH265Sps } from '../../codecs/h265/sps.ts';
import { opusPacketDuration } from '../../codecs/opus/toc.ts';
import type { ParameterSetTracker } from '../../codecs/param-sets.ts';
import { ParseError } from '../../core/errors.ts';
import type { Codec, Frame } from '../../core/media.ts';
import { AudioTimeline, TimestampUnwrapper, TS_CLOCK_RATE } from '../ts/timestamp.ts';
import { type TrackCandidate, TrackGate } from '../ts/track-gate.ts';
import { type Amf0Object, decodeAmf0All } from './amf0.ts';
import { parseAudioTagBody } from './audio-tag.ts';
import type { FlvAudioCodec, FlvEvent, FlvReaderOptions, FlvStats, FlvVideoCodec } from './types.ts';
import { TagType } from './types.ts';
import { parseVideoTagBody } from './video-tag.ts';

/** FLV timestamps are 32-bit milliseconds. */
const TIMESTAMP_BITS = 32;
const OPUS_HEAD_MAGIC = 'OpusHead';
const OPUS_HEAD_CHANNELS = 9;
const OPUS_CLOCK_RATE = 48000;
const G711_CLOCK_RATE = 8000;
const DEFAULT_OPUS_CHANNELS = 2;
/** onMetaData codec ids mediagate can read: AVC 7, HEVC 12 (a common extension), FourCCs. */
const VIDEO_CODEC_IDS = new Set<unknown>([7, 12, 0x61766331, 0x68766331, 'avc1', 'hvc1']);
const AUDIO_CODEC_IDS = new Set<unknown>([7, 8, 10, 0x6d703461, 0x4f707573, 'mp4a', 'Opus']);

interface VideoState {
  name: FlvVideoCodec;
  codec: Codec;
  lengthSize: number;
  params: ParameterSetTracker;
  width: number;
  height: number;
}

interface AudioState {
  name: FlvAudioCodec;
  codec: Codec;
  /** Samples per AAC frame. */
  frameLength: number;
  timeline: AudioTimeline;
}

/** Stateful reader of FLV tag bodies; see the file comment. */
export class FlvTagReader {
  /** Counters; `garbageBytes` and `previousTagSizeErrors` are the file framing's (`FlvDemuxer`). */
  readonly stats: FlvStats = {
    tags: 0,
    invalidTags: 0,
    framesDropped: 0,
    garbageBytes: 0,
    previousTagSizeErrors: 0,
  };
  /** The last onMetaData object seen. */
  metadata: Amf0Object | undefined;
  private readonly gate: TrackGate;
  private readonly unwrapper = new TimestampUnwrapper(TIMESTAMP_BITS);
  private video: VideoState | undefined;
  private audio: AudioState | undefined;
  private expectVideo = false;
  private expectAudio = false;
  private dropped = 0;

  constructor(options: FlvReaderOptions = {}) {
    this.gate = new TrackGate(options);
  }

  /** Picture size from the SPS in pixels, once a video sequence header was read. */
  get videoSize(): { width: number; height: number } | undefined {
    return this.video ? { width: this.video.width, height: this.video.height } : undefined;
  }

  /** Announces tracks to wait for (FLV header flags); ignored once the tracks event went out. */
  expect(kinds: { video?: boolean; audio?: boolean }): void {
    if (kinds.video !== undefined) this.expectVideo = kinds.video;
    if (kinds.audio !== undefined) this.expectAudio = kinds.audio;
  }

  /** Reads one tag body of `type` (8, 9 or 18) with its 32-bit `timestampMs`. */
  push(type: number, body: Buffer, timestampMs: number): FlvEvent[] {
    const out: FlvEvent[] = [];
    this.stats.tags++;
    try {
      if (type === TagType.VIDEO) this.onVideo(body, this.unwrapper.unwrap(timestampMs), out);
      else if (type === TagType.AUDIO) this.onAudio(body, this.unwrapper.unwrap(timestampMs), out);
      else if (type === TagType.SCRIPT) this.onScript(body);
      else this.stats.invalidTags++;
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.stats.invalidTags++;
    }
    this.stats.framesDropped = this.dropped + this.gate.dropped;
    return out;
  }

  /** Ends the input: opens the tracks with what is ready if they are still held. */
  flush(): FlvEvent[] {
    const out: FlvEvent[] = [];
    this.gate.flush(this.candidates(), out);
    this.stats.framesDropped = this.dropped + this.gate.dropped;
    return out;
  }

  private candidates(): TrackCandidate[] {
    const list: TrackCandidate[] = [];
    if (this.expectVideo || this.video) list.push({ key: TagType.VIDEO, codec: this.video?.codec });
    if (this.expectAudio || this.audio) list.push({ key: TagType.AUDIO, codec: this.audio?.codec });
    return list;
  }

  private emit(key: number, frame: Frame, out: FlvEvent[]): void {
    this.gate.push(key, frame, this.gate.open ? [] : this.candidates(), out);
  }

  private onVideo(body: Buffer, ms: number, out: FlvEvent[]): void {
    const tag = parseVideoTagBody(body, ms, this.video?.lengthSize);
    if (tag.type === 'skip') {
      this.stats.invalidTags++;
      return;
    }
    if (tag.type === 'config') {
      this.videoConfig(tag.codec, tag.record);
      return;
    }
    if (tag.type === 'end') return;
    const v = this.video;
    if (!v || v.name !== tag.codec) {
      this.dropped++;
      return;
    }
    const nals = splitAvcc(tag.frame.data);
    if (nals.length === 0) return;
    v.params.observeAll(nals);
    const data = joinAvcc(v.params.complete(nals, tag.frame.keyframe));
    this.emit(TagType.VIDEO, { ...tag.frame, data }, out);
  }

  private videoConfig(name: FlvVideoCodec, record: Buffer): void {
    if (this.video && this.video.name !== name && this.gate.open) {
      this.stats.invalidTags++; // a codec change cannot be signalled once the tracks are out
      return;
    }
    let sets: Buffer[];
    let state: VideoState;
    if (name === 'H264') {
      const config = parseAvcC(record);
      const [sps, pps] = [config.sps[0], config.pps[0]];
      if (!sps || !pps) throw new ParseError('FLV avcC', 'no SPS or PPS');
      const info = parseH264Sps(sps);
      sets = [sps, pps];
      const codec: Codec = { name, clockRate: TS_CLOCK_RATE, fmtp: h264FmtpFromParams(sps, pps) };
      const params = new H264ParameterSets();
      state = { name, codec, lengthSize: config.lengthSize, params, width: info.width, height: info.height };
    } else {
      const hvcc = parseHvcC(record);
      const { vps, sps, pps } = hvcCParameterSets(hvcc);
      if (!vps || !sps || !pps) throw new ParseError('FLV hvcC', 'no VPS, SPS or PPS');
      const info = parseH265Sps(sps);
      sets = [vps, sps, pps];
      const codec: Codec = { name, clockRate: TS_CLOCK_RATE, fmtp: h265FmtpFromParams(vps, sps, pps) };
      const params = new H265ParameterSets();
      state = { name, codec, lengthSize: hvcc.lengthSize, params, width: info.width, height: info.height };
    }
    if (this.video && this.video.name === name && this.gate.open) {
      // New parameter sets of the same codec: they go in front of the next keyframes.
      this.video.lengthSize = state.lengthSize;
      this.video.params.observeAll(sets);
      return;
    }
    state.params.observeAll(sets);
    this.video = state;
  }

  private onAudio(body: Buffer, ms: number, out: FlvEvent[]): void {
    const tag = parseAudioTagBody(body, ms, this.audio?.codec.clockRate);
    if (tag.type === 'skip') {
      this.stats.invalidTags++;
      return;
    }
    if (tag.type === 'end') return;
    if (tag.type === 'config') {
      if (this.gate.open && this.audio) return; // the track's codec is fixed once announced
      if (tag.codec === 'AAC') {
        const config = parseAudioSpecificConfig(tag.record);
        const codec: Codec = { name: 'AAC', clockRate: config.sampleRate, fmtp: aacFmtp(tag.record) };
        if (config.channels !== undefined) codec.channels = config.channels;
        this.audio = { name: 'AAC', codec, frameLength: config.frameLength, timeline: new AudioTimeline() };
      } else if (tag.codec === 'OPUS') {
        this.audio = opusState(opusHeadChannels(tag.record));
      }
      return;
    }
    if (!this.audio && !this.gate.open) {
      // G.711 and Opus need no sequence header.
      if (tag.codec === 'OPUS') this.audio = opusState(DEFAULT_OPUS_CHANNELS);
      else if (tag.codec === 'PCMA' || tag.codec === 'PCMU') {
        const codec: Codec = { name: tag.codec, clockRate: G711_CLOCK_RATE, channels: tag.channels };
        this.audio = { name: tag.codec, codec, frameLength: 0, timeline: new AudioTimeline() };
      }
    }
    const a = this.audio;
    if (!a || a.name !== tag.codec) {
      this.dropped++;
      return;
    }
    const data = tag.frame.data;
    let duration: number;
    if (a.name === 'AAC') duration = a.frameLength;
    else if (a.name === 'OPUS') duration = opusPacketDuration(data);
    else duration = Math.max(1, Math.floor(data.length / (a.codec.channels ?? 1)));
    const t = a.timeline.stamp(tag.frame.pts, duration) ?? tag.frame.pts;
    this.emit(TagType.AUDIO, { pts: t, dts: t, keyframe: true, data: Buffer.from(data) }, out);
  }

  private onScript(body: Buffer): void {
    const values = decodeAmf0All(body);
    if (values[0] === '@setDataFrame') values.shift();
    const meta = values[1];
    if (
      values[0] !== 'onMetaData' ||
      !meta ||
      typeof meta !== 'object' ||
      meta instanceof Date ||
      Array.isArray(meta)
    ) {
      return;
    }
    this.metadata = meta;
    if (this.gate.open) return;
    if ('videocodecid' in meta) this.expectVideo = VIDEO_CODEC_IDS.has(meta['videocodecid']);
    if ('audiocodecid' in meta) this.expectAudio = AUDIO_CODEC_IDS.has(meta['audiocodecid']);
  }
}

function opusState(channels: number): AudioState {
  return {
    name: 'OPUS',
    codec: { name: 'OPUS', clockRate: OPUS_CLOCK_RATE, channels },
    frameLength: 0,
    timeline: new AudioTimeline(),
  };
}

/** The channel count of an OpusHead (RFC 7845 5.1), 2 when it is not one. */
function opusHeadChannels(head: Buffer): number {
  if (
    head.length <= OPUS_HEAD_CHANNELS ||
    head.toString('latin1', 0, OPUS_HEAD_MAGIC.length) !== OPUS_HEAD_MAGIC
  ) {
    return DEFAULT_OPUS_CHANNELS;
  }
  return head[OPUS_HEAD_CHANNELS] || DEFAULT_OPUS_CHANNELS;
}
