/**
 * ChildSourceConnection: the SourceConnection of a child process that feeds a stream, either by
 * publishing back to the gateway's RTSP server (`{output}`: the RTSP publisher's frames are
 * adopted here) or by writing MPEG-TS to its stdout (demuxed here). It owns the child: closing
 * the connection stops it (SIGTERM to its process group, SIGKILL after the kill timeout), and the
 * child exiting, the publisher leaving or no frame for `noDataTimeoutMs` closes the connection
 * with an error that carries the child's last stderr lines, so the engine's runner reconnects with
 * backoff.
 */
import { SafeEmitter } from '../../core/emitter.ts';
import { TimeoutError } from '../../core/errors.ts';
import type { Frame, Media } from '../../core/media.ts';
import type { FrameSink, SourceConnection } from '../../core/source.ts';
import type { ChildProcessSupervisor } from '../../process/child.ts';

/** What feeds the connection besides the child: the RTSP publisher, or nothing (stdout). */
export interface Upstream {
  close(): void;
}

/** Frames held between the moment the medias are known and the runner adopting the connection. */
const MAX_EARLY_FRAMES = 256;

export class ChildSourceConnection
  extends SafeEmitter<{ close: [error: Error | undefined] }>
  implements SourceConnection
{
  readonly medias: readonly Media[];
  readonly remoteAddress: string;
  #sink: FrameSink;
  #upstream: Upstream | undefined;
  #early: [number, Frame][] | undefined = [];
  #lastFrameAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * @param child the running child; its exit closes the connection
   * @param noDataTimeoutMs no frame for this long closes the connection
   * @param what how errors name the child, e.g. `ffmpeg` or `exec`
   */
  constructor(
    readonly child: ChildProcessSupervisor,
    medias: readonly Media[],
    sink: FrameSink,
    private readonly noDataTimeoutMs: number,
    private readonly what: string,
  ) {
    super();
    this.medias = medias;
    this.#sink = sink;
    this.remoteAddress = `pid ${child.pid ?? '?'}`;
    void child.exited.then(() => this.close(new Error(child.describeExit(what))));
    this.#timer = setInterval(() => this.#checkData(), Math.max(250, Math.min(noDataTimeoutMs / 4, 2000)));
    // The runner maps the medias to tracks once connect() has resolved; frames wait until then.
    setImmediate(() => this.#flushEarly());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Set once the upstream (the RTSP publisher) is known; it is closed with the connection. */
  attach(upstream: Upstream): void {
    if (this.#closed) upstream.close();
    else this.#upstream = upstream;
  }

  /** A frame of media `index` from the child. */
  push(index: number, frame: Frame): void {
    if (this.#closed) return;
    this.#lastFrameAt = performance.now();
    const early = this.#early;
    if (early) {
      if (early.length < MAX_EARLY_FRAMES) early.push([index, frame]);
      return;
    }
    this.#sink(index, frame);
  }

  /** Idempotent: stops the child (without waiting for it), drops the upstream, emits `close` once. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#early = undefined;
    // The writer first: the child, then what it wrote through.
    void this.child.stop();
    const upstream = this.#upstream;
    this.#upstream = undefined;
    upstream?.close();
    this.emit('close', error);
    this.removeAllListeners();
  }

  #flushEarly(): void {
    const early = this.#early;
    this.#early = undefined;
    if (!early || this.#closed) return;
    for (const [index, frame] of early) this.#sink(index, frame);
  }

  #checkData(): void {
    const idle = performance.now() - this.#lastFrameAt;
    if (idle > this.noDataTimeoutMs) {
      const tail = this.child.stderrTail().slice(-3).join(' | ');
      this.close(
        new TimeoutError(
          `${this.what}: no data for ${Math.round(idle / 1000)} s${tail ? ` (stderr: ${tail})` : ''}`,
        ),
      );
    }
  }
}
