/**
 * The fMP4 track muxer shared by the MSE, HLS and MP4 outputs: it turns the frames of a consumer's
 * tracks into an init segment and movie fragments. Pure (no I/O, no timers).
 *
 * - The init segment is built when the first video keyframe arrives (or the first audio frame of
 *   an audio-only set), from `codec.fmtp` or, when the keyframe carries them, its in-band parameter
 *   sets. A keyframe with different parameter sets (a new resolution) gives a new init segment.
 *   Init segments are cached per configuration, so every viewer of a stream shares one buffer.
 * - A sample's duration is the distance to the next frame's dts, so each frame is written when the
 *   next one of its track arrives. One fragment per video frame (low latency); audio frames ready
 *   by then ride along in it. Audio-only sets emit about every 100 ms.
 * - Decode times are rebased so the first keyframe is at 0 in every track; audio from before it
 *   is dropped. Per-muxer state is only the base time, the sequence number and the pending frames.
 */
import { splitAvcc } from '../../codecs/avcc.ts';
import { H264ParameterSets } from '../../codecs/h264/index.ts';
import { H265ParameterSets } from '../../codecs/h265/index.ts';
import { opusPacketDuration } from '../../codecs/opus/index.ts';
import { ParseError } from '../../core/errors.ts';
import type { Frame } from '../../core/media.ts';
import type { StreamTrack } from '../../core/track.ts';
import { fragment, initSegment } from '../../formats/mp4/index.ts';
import type { Mp4FragmentSample } from '../../formats/mp4/types.ts';
import { audioConfig, mimeType, type TrackConfig, videoConfig } from './codecs.ts';

/** An init segment (ftyp + moov). `data` is shared by every muxer with the same configuration. */
export interface Fmp4Init {
  type: 'init';
  data: Buffer;
  /** `video/mp4; codecs="avc1.4d401e,opus"` */
  mime: string;
  /** Video size from the SPS in pixels; 0 without video. */
  width: number;
  height: number;
}

/** One movie fragment (moof + mdat). */
export interface Fmp4Fragment {
  type: 'fragment';
  data: Buffer;
  /** mfhd sequence number, from 1. */
  sequence: number;
  /** True when the fragment starts with a video keyframe (always true without video). */
  keyframe: boolean;
  /** Decode time of the lead track's first sample in the fragment, seconds from the start. */
  time: number;
  /** Duration of the lead track's samples in the fragment, seconds. */
  duration: number;
}

/** Something the muxer produced, in the order it must be sent. */
export type Fmp4Chunk = Fmp4Init | Fmp4Fragment;

/** Audio-only sets: a fragment once this much audio is ready, seconds. */
const AUDIO_FRAGMENT_SECONDS = 0.1;
/** Duration of a last sample with no successor and no earlier duration to copy (flush). */
const DEFAULT_VIDEO_DURATION = 3000; // 1/30 s at 90 kHz
const AAC_FRAME_SAMPLES = 1024;
const OPUS_FRAME_SAMPLES = 960;
/** Samples a non-lead track may hold while the lead track sends nothing; older ones are dropped. */
const MAX_READY_SAMPLES = 500;
/** Cached init segments, at most this many configurations (about 1 KiB each). */
const INIT_CACHE_SIZE = 64;
const initCache = new Map<string, Buffer>();

/** The init segment for these configurations, built once and shared by every muxer. */
function cachedInit(configs: readonly TrackConfig[]): Buffer {
  const key = configs.map((c) => c.key).join('|');
  let init = initCache.get(key);
  if (init) {
    initCache.delete(key); // re-insert: the map order is the LRU order
  } else {
    init = initSegment(configs.map((c) => c.info));
    if (initCache.size >= INIT_CACHE_SIZE) initCache.delete(initCache.keys().next().value as string);
  }
  initCache.set(key, init);
  return init;
}

interface TrackState {
  track: StreamTrack;
  id: number;
  video: boolean;
  clock: number;
  params: H264ParameterSets | H265ParameterSets | undefined;
  config: TrackConfig | undefined;
  /** dts of the first keyframe in this track's clock. */
  base: number;
  pending: Frame | undefined;
  lastDuration: number;
  ready: Mp4FragmentSample[];
  readySpan: number;
}

export class Fmp4Muxer {
  readonly #states: TrackState[];
  readonly #byTrack = new Map<StreamTrack, TrackState>();
  /** The track whose frames decide fragments and segments: the first video track, else the first. */
  readonly #lead: TrackState;
  #started = false;
  #sequence = 0;
  #init: Fmp4Init | undefined;

  /**
   * @param tracks the consumer's attached tracks; MP4 track ids are 1, 2, ... in this order.
   * Throws UnsupportedError for a codec MP4 cannot carry or AAC without its config.
   */
  constructor(tracks: readonly StreamTrack[]) {
    this.#states = tracks.map((track, i) => {
      const video = track.kind === 'video';
      const codec = track.codec;
      const params =
        codec.name === 'H264'
          ? H264ParameterSets.fromFmtp(codec.fmtp)
          : codec.name === 'H265'
            ? H265ParameterSets.fromFmtp(codec.fmtp)
            : undefined;
      const state: TrackState = {
        track,
        id: i + 1,
        video,
        clock: codec.clockRate,
        params,
        config: video ? undefined : audioConfig(i + 1, codec),
        base: 0,
        pending: undefined,
        lastDuration: 0,
        ready: [],
        readySpan: 0,
      };
      if (video && !params) videoConfig(i + 1, codec, {}); // throws UnsupportedError
      this.#byTrack.set(track, state);
      return state;
    });
    this.#lead = this.#states.find((s) => s.video) ?? this.#states[0];
  }

  /** The current init segment and its MIME type, once the first keyframe has arrived. */
  get init(): Fmp4Init | undefined {
    return this.#init;
  }

  get started(): boolean {
    return this.#started;
  }

  /**
   * Takes one frame of one of the tracks and returns what is ready to send (often nothing). Throws
   * UnsupportedError when a keyframe has unusable parameter sets.
   */
  push(track: StreamTrack, frame: Frame): Fmp4Chunk[] {
    const s = this.#byTrack.get(track);
    if (!s) return [];
    const out: Fmp4Chunk[] = [];
    const newConfig = s.video && frame.keyframe ? this.#observeKeyframe(s, frame) : false;
    if (!this.#started) {
      if (s !== this.#lead || !frame.keyframe || !this.#configured()) return out;
      this.#start(s, frame, out);
    } else if (newConfig) {
      // The frame before this keyframe still belongs to the old configuration.
      this.#complete(s, frame);
      this.#emit(out);
      this.#pushInit(out);
      s.pending = frame;
      return out;
    }
    if (frame.dts < s.base) return out; // audio from before the first keyframe
    this.#complete(s, frame);
    s.pending = frame;
    this.#emit(out);
    return out;
  }

  /**
   * Writes the pending frame of every track with its last known duration (a frame that never got
   * a successor, e.g. the only keyframe of frame.mp4, or the end of a download).
   */
  flush(): Fmp4Chunk[] {
    const out: Fmp4Chunk[] = [];
    if (!this.#started) return out;
    for (const s of this.#states) {
      if (!s.pending) continue;
      this.#addSample(s, s.pending, s.lastDuration || defaultDuration(s, s.pending));
      s.pending = undefined;
    }
    this.#emit(out, true);
    return out;
  }

  #configured(): boolean {
    return this.#states.every((s) => s.config !== undefined);
  }

  /** Reads the parameter sets of a keyframe; true when they change a configuration already in use. */
  #observeKeyframe(s: TrackState, frame: Frame): boolean {
    if (!s.params) return false;
    try {
      s.params.observeAll(splitAvcc(frame.data));
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      return false; // a malformed frame: keep the configuration we have
    }
    const p = s.params as H265ParameterSets;
    const config = videoConfig(s.id, s.track.codec, { vps: p.vps, sps: p.sps, pps: p.pps });
    if (!config || config.key === s.config?.key) return false;
    const changed = s.config !== undefined;
    s.config = config;
    return changed && this.#started;
  }

  #start(lead: TrackState, frame: Frame, out: Fmp4Chunk[]): void {
    this.#started = true;
    const seconds = frame.dts / lead.clock;
    for (const s of this.#states) s.base = Math.round(seconds * s.clock);
    lead.base = frame.dts;
    this.#pushInit(out);
  }

  #pushInit(out: Fmp4Chunk[]): void {
    const configs = this.#states.map((s) => s.config as TrackConfig);
    const video = this.#states.find((s) => s.video)?.config?.info;
    this.#init = {
      type: 'init',
      data: cachedInit(configs),
      mime: mimeType(configs, video !== undefined),
      width: video?.width ?? 0,
      height: video?.height ?? 0,
    };
    out.push(this.#init);
  }

  /** Gives the pending frame of `s` its duration from `next` and moves it to the ready samples. */
  #complete(s: TrackState, next: Frame): void {
    const prev = s.pending;
    if (!prev) return;
    let duration = next.dts - prev.dts;
    if (duration <= 0) duration = s.lastDuration || defaultDuration(s, prev);
    s.lastDuration = duration;
    this.#addSample(s, prev, duration);
    s.pending = undefined;
  }

  #addSample(s: TrackState, frame: Frame, duration: number): void {
    if (s !== this.#lead && s.ready.length >= MAX_READY_SAMPLES) {
      s.readySpan -= (s.ready.shift() as Mp4FragmentSample).duration;
    }
    s.ready.push({
      data: frame.data,
      dts: frame.dts - s.base,
      pts: frame.pts - s.base,
      duration,
      keyframe: frame.keyframe,
    });
    s.readySpan += duration;
  }

  /** Writes a fragment when the lead track has samples ready (audio-only: 100 ms of them). */
  #emit(out: Fmp4Chunk[], force = false): void {
    const lead = this.#lead;
    if (lead.ready.length === 0) return;
    if (!lead.video && !force && lead.readySpan / lead.clock < AUDIO_FRAGMENT_SECONDS) return;
    const first = lead.ready[0];
    const time = first.dts / lead.clock;
    const duration = lead.readySpan / lead.clock;
    const keyframe = first.keyframe;
    const tracks = this.#states.map((s) => ({ id: s.id, samples: s.ready }));
    this.#sequence++;
    const data = fragment(this.#sequence, tracks);
    for (const s of this.#states) {
      s.ready = [];
      s.readySpan = 0;
    }
    out.push({ type: 'fragment', data, sequence: this.#sequence, keyframe, time, duration });
  }
}

function defaultDuration(s: TrackState, frame: Frame): number {
  if (s.video) return DEFAULT_VIDEO_DURATION;
  if (s.track.codec.name === 'OPUS') {
    try {
      return opusPacketDuration(frame.data);
    } catch {
      return OPUS_FRAME_SAMPLES;
    }
  }
  return AAC_FRAME_SAMPLES;
}
