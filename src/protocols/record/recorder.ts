/**
 * Recorder: a consumer that writes its stream into fragmented-MP4 segment files, with the same
 * muxer that serves MSE, HLS and MP4 viewers (src/protocols/mp4/muxer.ts).
 *
 * - Each segment has its own muxer, so every file starts with its init segment and a timeline at
 *   0 and plays on its own. A segment ends at the first lead-track keyframe (video, else audio)
 *   once `segmentSeconds` of media have passed; the old muxer is flushed (its last frames get
 *   their predecessors' durations) and the keyframe starts the next file. Without a keyframe the
 *   segment grows, and the source is asked for one (a WebRTC publisher sends it).
 * - A new segment also starts on a timestamp discontinuity: a source reconnect (the engine rebases
 *   the new connection's timestamps to the wall clock, so they jump), frames lost to a slow disk.
 *   That is a track's dts going back, the lead track's dts jumping ahead by more than
 *   `max(0.5 s, 5 frame intervals)`, or another track jumping that far and landing more than
 *   0.5 s ahead of the lead (audio resuming after silence suppression lands where the video is).
 *   And when a keyframe brings new parameter sets (the muxer emits a new init segment).
 * - Files are written by a SegmentWriter (writer.ts); its queue is the consumer's backlog, so a
 *   slow disk drops frames (video resumes at a keyframe) instead of growing memory, and its
 *   failure closes the recorder with the error.
 * - A segment's file is named by the UTC wall-clock time of its first frame (ms; a frame from the
 *   cached GOP is dated back by its age), always later than the previous one.
 */
import { Consumer, type MediaRequest } from '../../core/consumer.ts';
import type { Frame } from '../../core/media.ts';
import type { StreamTrack } from '../../core/track.ts';
import { sessionClosed, sessionOpened } from '../../diag/sessions.ts';
import { MP4_AUDIO, MP4_VIDEO } from '../mp4/codecs.ts';
import { type Fmp4Fragment, type Fmp4Init, Fmp4Muxer } from '../mp4/muxer.ts';
import type { RecordFs } from './fs.ts';
import { durationField, type RecordingInit, recordingInit } from './mp4-file.ts';
import { segmentName } from './naming.ts';
import { type FinishedSegment, SegmentWriter } from './writer.ts';

/** A dts jump ahead of more than this many seconds may be a discontinuity... */
const DISCONTINUITY_SECONDS = 0.5;
/** ...when it is also more than this many of the track's usual frame intervals. */
const DISCONTINUITY_FRAMES = 5;

export interface RecorderOptions {
  /** The stream's name (for logs and the API). */
  stream: string;
  /** The folder the segments go to (the stream's folder under the recording path). */
  dir: string;
  /** Length after which a segment ends at the next keyframe, seconds. */
  segmentSeconds: number;
  /** Default: the real file system. */
  fs: RecordFs;
  /** Wall clock in ms since the epoch; default Date.now. */
  now?: () => number;
  /** Called for every finished segment (also the last one, after the recorder closed). */
  onSegment?: (segment: FinishedSegment) => void;
  /** Called when writing failed, with the `.part` left behind (the recorder closes with `error`). */
  onWriteError?: (error: Error, part: string | undefined) => void;
}

interface OpenSegment {
  name: string;
  lead: StreamTrack;
  /** dts of the lead keyframe that started it, in the lead track's clock. */
  startDts: number;
  init: RecordingInit;
  /** Seconds of lead-track media written so far. */
  duration: number;
  fragments: number;
  keyframeAsked: boolean;
}

export class Recorder extends Consumer {
  readonly type = 'record';
  readonly stream: string;
  readonly writer: SegmentWriter;
  /** Segments finished by this recorder. */
  segments = 0;
  readonly #opts: RecorderOptions;
  readonly #now: () => number;
  #muxer: Fmp4Muxer | undefined;
  #segment: OpenSegment | undefined;
  readonly #last = new Map<StreamTrack, { dts: number; delta: number }>();
  #lastStartMs = 0;
  #lead: StreamTrack | undefined;

  constructor(opts: RecorderOptions) {
    super();
    this.#opts = opts;
    this.stream = opts.stream;
    this.#now = opts.now ?? Date.now;
    this.writer = new SegmentWriter(opts.fs, {
      onFinished: (segment) => {
        this.segments++;
        opts.onSegment?.(segment);
      },
      onError: (error, part) => {
        opts.onWriteError?.(error, part);
        this.close(error);
      },
    });
  }

  /** The file being written (its final name), if a segment is open. */
  get currentSegment(): string | undefined {
    return this.#segment?.name;
  }

  /** Any video and any audio the fMP4 muxer carries. */
  requests(): MediaRequest[] {
    return [
      { kind: 'video', codecs: [...MP4_VIDEO] },
      { kind: 'audio', codecs: [...MP4_AUDIO] },
    ];
  }

  override play(): void {
    if (this.closed || this.playing) return;
    sessionOpened(this.type);
    this.once('close', () => sessionClosed(this.type));
    super.play();
  }

  protected override backlogBytes(): number {
    return this.writer.queuedBytes;
  }

  protected writeFrame(track: StreamTrack, frame: Frame): void {
    const failed = this.writer.failed;
    if (failed) throw failed;
    if (this.#discontinuity(track, frame)) {
      this.#endSegment(true);
      // The other tracks jump too (at their next frame): from here on they are measured afresh.
      this.#last.clear();
      this.#last.set(track, { dts: frame.dts, delta: 0 });
    }
    const seg = this.#segment;
    if (seg && track === seg.lead) {
      const elapsed = (frame.dts - seg.startDts) / track.codec.clockRate;
      if (elapsed >= this.#opts.segmentSeconds) {
        if (frame.keyframe) this.#endSegment(true);
        else if (!seg.keyframeAsked) {
          seg.keyframeAsked = true;
          track.requestKeyframe();
        }
      }
    }
    this.#push(track, frame);
  }

  /** Finishes the open segment (its file is renamed once the writer gets there). */
  protected onClose(): void {
    this.#endSegment(true);
  }

  #push(track: StreamTrack, frame: Frame): void {
    this.#muxer ??= new Fmp4Muxer(this.tracks);
    const chunks = this.#muxer.push(track, frame);
    for (const chunk of chunks) {
      if (chunk.type === 'fragment') {
        if (this.#segment) this.#writeFragment(this.#segment, chunk);
        continue;
      }
      if (this.#segment) {
        // New parameter sets: the muxer holds this keyframe for the new configuration. The file
        // ends with the fragments already written and a fresh muxer starts the next one at 0.
        this.#endSegment(false);
        this.#push(track, frame);
        return;
      }
      this.#openSegment(chunk, track, frame);
    }
  }

  #openSegment(init: Fmp4Init, lead: StreamTrack, frame: Frame): void {
    // A keyframe replayed from the cached GOP is older than now by the distance to the newest frame.
    const newest = lead.lastFrame;
    const lagMs =
      newest && newest.dts > frame.dts ? ((newest.dts - frame.dts) / lead.codec.clockRate) * 1000 : 0;
    const start = Math.max(Math.round(this.#now() - lagMs), this.#lastStartMs + 1);
    this.#lastStartMs = start;
    const name = segmentName(start);
    const file = recordingInit(init.data);
    this.writer.open(this.#opts.dir, name);
    this.writer.write(file.data);
    this.#segment = {
      name,
      lead,
      startDts: frame.dts,
      init: file,
      duration: 0,
      fragments: 0,
      keyframeAsked: false,
    };
  }

  #writeFragment(seg: OpenSegment, chunk: Fmp4Fragment): void {
    this.writer.write(chunk.data);
    seg.fragments++;
    seg.duration = Math.max(seg.duration, chunk.time + chunk.duration);
  }

  /** Ends the open segment; `flush` writes the muxer's pending frames into it first. */
  #endSegment(flush: boolean): void {
    const muxer = this.#muxer;
    const seg = this.#segment;
    this.#muxer = undefined;
    this.#segment = undefined;
    if (!seg) return;
    if (flush && muxer) {
      for (const chunk of muxer.flush()) {
        if (chunk.type === 'fragment') this.#writeFragment(seg, chunk);
      }
    }
    if (seg.fragments === 0) {
      this.writer.discard();
      return;
    }
    this.writer.finish(seg.duration, {
      data: durationField(seg.duration, seg.init.timescale),
      at: seg.init.durationOffset,
    });
  }

  /** True when `frame` does not continue the recording's timeline (see the file comment). */
  #discontinuity(track: StreamTrack, frame: Frame): boolean {
    const last = this.#last.get(track);
    if (!last) {
      this.#last.set(track, { dts: frame.dts, delta: 0 });
      return false;
    }
    const clock = track.codec.clockRate;
    const delta = frame.dts - last.dts;
    const jumped = delta > Math.max(DISCONTINUITY_SECONDS * clock, DISCONTINUITY_FRAMES * last.delta);
    last.dts = frame.dts;
    if (delta > 0 && !jumped) last.delta = delta;
    if (delta < 0) return true; // the muxer cannot go back in time
    if (!jumped) return false;
    this.#lead ??= this.tracks.find((t) => t.kind === 'video') ?? this.tracks[0];
    const lead = this.#lead;
    if (track === lead) return true;
    // Audio may pause (silence suppression) and resume where the video is: only a jump ahead of the
    // video's timeline comes from a new connection (every track of one is rebased to the same time).
    const leadLast = this.#last.get(lead);
    if (!leadLast) return false;
    return frame.dts / clock - leadLast.dts / lead.codec.clockRate > DISCONTINUITY_SECONDS;
  }
}
