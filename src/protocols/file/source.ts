/**
 * `file:PATH` sources: an MP4 file read by our own reader and played in real time, looped with
 * continuous timestamps. Pacing follows the sample times against one monotonic start time, never
 * a chain of relative timers, so it cannot drift. The built-in `demo` stream is one of these.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SafeEmitter } from '../../core/emitter.ts';
import { BadRequestError, errorMessage, InvalidStateError, ParseError } from '../../core/errors.ts';
import type { Frame, Media } from '../../core/media.ts';
import type { FrameSink, SourceConnection, SourceDriver } from '../../core/source.ts';
import { readMp4, sampleFrame } from '../../formats/mp4/index.ts';
import type { Mp4File } from '../../formats/mp4/types.ts';

/** Files above this size are refused: the reader holds the whole file in memory. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;
/** At most this many frames are sent per timer tick, so a stalled loop catches up gently. */
const MAX_FRAMES_PER_TICK = 64;

export function fileSourceFactory(url: string): SourceDriver {
  const path = url
    .slice('file:'.length)
    .split('#')[0]
    .replace(/^\/\/(?=\/)/, '');
  if (!path) throw new BadRequestError(`file source "${url}" has no path`);
  return new FileDriver(resolve(path));
}

class FileDriver implements SourceDriver {
  constructor(readonly path: string) {}

  async connect(sink: FrameSink, signal: AbortSignal): Promise<SourceConnection> {
    const info = await stat(this.path).catch((err) => {
      throw new BadRequestError(`file ${this.path}: ${errorMessage(err)}`);
    });
    if (info.size > MAX_FILE_BYTES)
      throw new BadRequestError(`file ${this.path} is larger than ${MAX_FILE_BYTES} bytes`);
    const buf = await readFile(this.path, { signal });
    let file: Mp4File;
    try {
      file = readMp4(buf);
    } catch (err) {
      if (err instanceof ParseError)
        throw new BadRequestError(`file ${this.path}: not a playable MP4 (${err.message})`);
      throw err;
    }
    if (signal.aborted) throw new InvalidStateError('aborted');
    return new FilePlayback(buf, file, sink);
  }
}

interface Scheduled {
  /** Seconds from the start of the file. */
  time: number;
  track: number;
  frame: Frame;
}

class FilePlayback extends SafeEmitter<{ close: [Error | undefined] }> implements SourceConnection {
  readonly medias: Media[];
  readonly #schedule: Scheduled[];
  readonly #loopSeconds: number;
  readonly #clockRates: number[];
  readonly #start = performance.now();
  #next = 0;
  #loop = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    buf: Buffer,
    file: Mp4File,
    private readonly sink: FrameSink,
  ) {
    super();
    const tracks = file.tracks.filter((t) => t.samples.length > 0);
    if (tracks.length === 0) throw new BadRequestError('MP4 file has no playable samples');
    this.medias = tracks.map((t) => ({
      kind: t.kind,
      direction: 'recvonly',
      codecs: [t.codec],
      id: String(t.id),
    }));
    this.#clockRates = tracks.map((t) => t.codec.clockRate);
    const schedule: Scheduled[] = [];
    let loopSeconds = 0;
    tracks.forEach((track, i) => {
      for (const sample of track.samples) {
        schedule.push({
          time: sample.dts / track.timescale,
          track: i,
          frame: sampleFrame(buf, track, sample),
        });
      }
      const last = track.samples[track.samples.length - 1];
      loopSeconds = Math.max(loopSeconds, (last.dts + last.duration) / track.timescale);
    });
    schedule.sort((a, b) => a.time - b.time || a.track - b.track);
    this.#schedule = schedule;
    this.#loopSeconds = loopSeconds || 1;
    // The first frames go out on the next turn of the loop: the runner maps this connection's
    // tracks only once connect() has resolved, and frames before that would be lost.
    this.#timer = setTimeout(() => this.#tick(), 0);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.emit('close', undefined);
    this.removeAllListeners();
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const elapsed = (performance.now() - this.#start) / 1000;
    for (let sent = 0; sent < MAX_FRAMES_PER_TICK; sent++) {
      const entry = this.#schedule[this.#next];
      const due = this.#loop * this.#loopSeconds + entry.time;
      if (due > elapsed) {
        this.#timer = setTimeout(() => this.#tick(), Math.max(1, (due - elapsed) * 1000));
        return;
      }
      const offset = Math.round(this.#loop * this.#loopSeconds * this.#clockRates[entry.track]);
      const f = entry.frame;
      this.sink(
        entry.track,
        offset ? { pts: f.pts + offset, dts: f.dts + offset, keyframe: f.keyframe, data: f.data } : f,
      );
      if (this.#closed) return; // a reader may have closed us during delivery
      if (++this.#next === this.#schedule.length) {
        this.#next = 0;
        this.#loop++;
      }
    }
    this.#timer = setTimeout(() => this.#tick(), 0);
  }
}
