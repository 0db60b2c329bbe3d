/**
 * The consumers behind the MP4 HTTP outputs: a progressive fragmented-MP4 download
 * (`/api/stream.mp4`) and a one-keyframe MP4 (`/api/frame.mp4`).
 */
import type { ServerResponse } from 'node:http';
import type { MediaRequest } from '../../core/consumer.ts';
import { InvalidStateError } from '../../core/errors.ts';
import type { Frame } from '../../core/media.ts';
import type { StreamTrack } from '../../core/track.ts';
import { MP4_VIDEO } from './codecs.ts';
import { Fmp4Consumer, SlowReaderError } from './consumer.ts';
import type { Fmp4Chunk } from './muxer.ts';

/**
 * Streams init + fragments into a chunked HTTP response. Ends (and closes) after `durationSeconds`
 * of media when given, else when the client leaves. `done` settles when the consumer closes: it
 * rejects only when nothing was sent yet, so the caller can still answer with a JSON error.
 */
export class Mp4DownloadConsumer extends Fmp4Consumer {
  readonly type = 'mp4';
  readonly done: Promise<void>;

  constructor(
    requests: MediaRequest[],
    private readonly res: ServerResponse,
    private readonly durationSeconds: number | undefined,
    private readonly headers: Record<string, string> = {},
  ) {
    super(requests);
    this.done = new Promise((resolve, reject) => {
      this.once('close', (err) => {
        // A client that stopped reading would never take the rest: drop the connection.
        if (err instanceof SlowReaderError) res.destroy();
        if (res.headersSent) resolve();
        else reject(err ?? new InvalidStateError('stream closed before the first keyframe'));
      });
    });
    // The caller awaits `done` only after negotiation; an early rejection must not go unhandled.
    this.done.catch(() => {});
  }

  protected override backlogBytes(): number {
    return this.res.writableLength;
  }

  protected onChunk(chunk: Fmp4Chunk): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) {
      this.close();
      return;
    }
    if (!res.headersSent) {
      res.writeHead(200, { 'content-type': 'video/mp4', 'cache-control': 'no-cache', ...this.headers });
    }
    res.write(chunk.data);
    if (
      chunk.type === 'fragment' &&
      this.durationSeconds !== undefined &&
      chunk.time + chunk.duration >= this.durationSeconds
    ) {
      this.close();
    }
  }

  protected onClose(): void {
    if (this.res.headersSent && !this.res.writableEnded) this.res.end();
  }
}

/**
 * Takes the first video keyframe (from the cached GOP or the next one) and closes. `result`
 * resolves with a small MP4: the init segment and one fragment holding only that keyframe.
 */
export class FrameConsumer extends Fmp4Consumer {
  readonly type = 'frame.mp4';
  readonly result: Promise<Buffer>;
  #resolve!: (mp4: Buffer) => void;
  #init: Buffer | undefined;

  constructor() {
    super([{ kind: 'video', codecs: [...MP4_VIDEO] }]);
    this.result = new Promise<Buffer>((resolve, reject) => {
      this.#resolve = resolve;
      this.once('close', (err) => reject(err ?? new InvalidStateError('closed before a keyframe arrived')));
    });
    this.result.catch(() => {});
  }

  protected override writeFrame(track: StreamTrack, frame: Frame): void {
    super.writeFrame(track, frame);
    // The keyframe alone: its duration is a guess, there is no next frame to measure it.
    if (this.started) this.flushMuxer();
  }

  protected onChunk(chunk: Fmp4Chunk): void {
    if (chunk.type === 'init') {
      this.#init ??= chunk.data;
      return;
    }
    if (this.#init) {
      this.#resolve(Buffer.concat([this.#init, chunk.data]));
      this.close();
    }
  }

  protected onClose(): void {}
}
