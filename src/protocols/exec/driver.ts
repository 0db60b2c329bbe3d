/**
 * ChildSourceDriver: connects a source by starting a child process and waiting until it delivers
 * media: its RTSP publish to a private path of the gateway (`{output}`), or the first track list
 * of the MPEG-TS on its stdout. Each connect() starts a new child; a failed start (exit, start
 * timeout, abort) stops it and rejects with its last stderr lines.
 */
import type { Readable } from 'node:stream';
import { errorMessage, InvalidStateError, TimeoutError, UnsupportedError } from '../../core/errors.ts';
import type { FrameSink, SourceConnection, SourceDriver } from '../../core/source.ts';
import { TsDemuxer } from '../../formats/ts/index.ts';
import type { Logger } from '../../log/logger.ts';
import { ChildProcessSupervisor } from '../../process/child.ts';
import type { RtspLoopback } from '../rtsp/server/loopback.ts';
import { substituteOutput } from './command.ts';
import { ChildSourceConnection } from './connection.ts';

/** How long after the publisher leaves the child's exit may still come with the reason, ms. */
const EXIT_GRACE_MS = 500;

export interface ChildSourceSpec {
  /** Program and arguments; `{output}` is replaced in publish mode. */
  argv: readonly string[];
  /** `publish`: the child publishes to `{output}` over RTSP; `mpegts`: it writes MPEG-TS to stdout. */
  mode: 'publish' | 'mpegts';
  /** For the diag registry and errors, e.g. `ffmpeg:door`. */
  owner: string;
  /** How errors name the child: `ffmpeg`, `exec`. */
  what: string;
  /** Media must come within this long of the start, and never stop for this long, ms. */
  timeoutMs: number;
  killSignal?: NodeJS.Signals;
  killTimeoutMs?: number;
}

export interface ChildSourceEnv {
  loopback: RtspLoopback;
  log: Logger;
  /**
   * Runs before each start, e.g. the lazy check that the ffmpeg binary exists; may rewrite the
   * command (a stream name resolved to its RTSP URL). Rejects to fail the connect.
   */
  prepare?: (argv: readonly string[]) => Promise<readonly string[]> | readonly string[];
}

export class ChildSourceDriver implements SourceDriver {
  constructor(
    private readonly spec: ChildSourceSpec,
    private readonly env: ChildSourceEnv,
  ) {}

  async connect(sink: FrameSink, signal: AbortSignal): Promise<SourceConnection> {
    let argv = this.env.prepare ? await this.env.prepare(this.spec.argv) : this.spec.argv;
    if (signal.aborted) throw new InvalidStateError(`${this.spec.what}: aborted`);
    if (this.spec.mode === 'mpegts') return this.#start(argv, sink, signal, undefined);
    const loopback = this.env.loopback;
    let resolvePublish: ((conn: ChildSourceConnection) => void) | undefined;
    let pendingChild: ChildProcessSupervisor | undefined;
    const route = loopback.expectPublish((publisher) => {
      const child = pendingChild;
      if (!child || !resolvePublish) throw new InvalidStateError('no child waits for this publish');
      const conn = new ChildSourceConnection(
        child,
        publisher.medias,
        sink,
        this.spec.timeoutMs,
        this.spec.what,
      );
      conn.attach(publisher);
      publisher.once('close', (err) => {
        if (conn.closed) return;
        // A child that fails drops its RTSP connection just before it exits: give the exit (and its
        // stderr, which says why) a moment to arrive; the connection closes with that instead.
        const timer = setTimeout(
          () => conn.close(new Error(`${this.spec.what} stopped publishing${err ? `: ${err.message}` : ''}`)),
          EXIT_GRACE_MS,
        );
        void child.exited.then(() => clearTimeout(timer));
      });
      resolvePublish(conn);
      return (index, frame) => conn.push(index, frame);
    });
    try {
      const output = loopback.url(route.path);
      if (!output) {
        throw new UnsupportedError(
          `${this.spec.what}: {output} needs the RTSP server, which is off (rtsp.listen is "")`,
        );
      }
      argv = substituteOutput(argv, output);
      return await this.#start(argv, sink, signal, (resolve, child) => {
        pendingChild = child;
        resolvePublish = resolve;
      });
    } finally {
      route.cancel();
    }
  }

  /** Spawns the child and waits for its media (see the class comment). */
  #start(
    argv: readonly string[],
    sink: FrameSink,
    signal: AbortSignal,
    publish:
      | ((resolve: (c: ChildSourceConnection) => void, child: ChildProcessSupervisor) => void)
      | undefined,
  ): Promise<ChildSourceConnection> {
    const spec = this.spec;
    const child = new ChildProcessSupervisor({
      command: argv[0],
      args: argv.slice(1),
      owner: spec.owner,
      stdout: publish ? 'ignore' : 'pipe',
      killSignal: spec.killSignal,
      killTimeoutMs: spec.killTimeoutMs,
      log: this.env.log,
    });
    this.env.log.debug({ owner: spec.owner, pid: child.pid, argv }, `${spec.what} started`);
    return new Promise<ChildSourceConnection>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        cleanup();
        void child.stop();
        reject(err);
      };
      const succeed = (conn: ChildSourceConnection) => {
        if (settled) {
          conn.close();
          return;
        }
        settled = true;
        cleanup();
        resolve(conn);
      };
      const timer = setTimeout(
        () =>
          fail(new TimeoutError(`${spec.what}: no media within ${spec.timeoutMs / 1000} s${tailOf(child)}`)),
        spec.timeoutMs,
      );
      const onAbort = () => fail(new InvalidStateError(`${spec.what}: aborted`));
      const cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void child.exited.then(() => fail(new Error(child.describeExit(spec.what))));
      if (publish) publish(succeed, child);
      else readTs(child, sink, spec, succeed, fail);
    });
  }
}

/** Demuxes the child's stdout; the first track list makes the connection. */
function readTs(
  child: ChildProcessSupervisor,
  sink: FrameSink,
  spec: ChildSourceSpec,
  succeed: (conn: ChildSourceConnection) => void,
  fail: (err: Error) => void,
): void {
  const stdout = child.proc.stdout as Readable;
  const demuxer = new TsDemuxer();
  let conn: ChildSourceConnection | undefined;
  stdout.on('data', (chunk: Buffer) => {
    let events: ReturnType<TsDemuxer['push']>;
    try {
      events = demuxer.push(chunk);
    } catch (err) {
      const error = new Error(`${spec.what}: bad MPEG-TS on stdout: ${errorMessage(err)}`);
      if (conn) conn.close(error);
      else fail(error);
      stdout.destroy();
      return;
    }
    for (const event of events) {
      if (event.type === 'tracks') {
        if (conn) continue; // a new program mid-stream: the track indexes of the first one stay
        if (event.medias.length === 0) continue;
        conn = new ChildSourceConnection(child, event.medias, sink, spec.timeoutMs, spec.what);
        conn.attach({ close: () => stdout.destroy() });
        succeed(conn);
      } else if (conn) conn.push(event.track, event.frame);
    }
  });
}

function tailOf(child: ChildProcessSupervisor): string {
  const tail = child.stderrTail().slice(-3).join(' | ');
  return tail ? ` (stderr: ${tail})` : '';
}
