/**
 * The `http://` and `https://` source driver. One connect() = one GET whose body is read as it
 * arrives (FLV, MPEG-TS, MJPEG, raw H.264/H.265, ADTS: see detect.ts), or, for a JPEG picture, a
 * snapshot poller that GETs the URL again every `#interval` seconds. connect() resolves once the
 * tracks are known; the response headers must come within the connect timeout, and no data for
 * the no-data timeout ends the connection (the runner reconnects with backoff). The body is read
 * as fast as it comes: frames go to the stream synchronously and never wait for readers.
 */
import type { IncomingMessage } from 'node:http';
import { InvalidStateError } from '../../../core/errors.ts';
import type { Frame } from '../../../core/media.ts';
import type { FrameSink, SourceConnection, SourceDriver } from '../../../core/source.ts';
import { FeedConnection } from '../feed.ts';
import { detectBody, readWholeBody } from './body.ts';
import { createReader, jpegMedia, WallClock } from './readers.ts';
import { openHttp } from './request.ts';
import { type HttpSourceOptions, parseHttpSourceUrl } from './url.ts';

/** SourceFactory of the `http` and `https` schemes; throws BadRequestError for a malformed URL. */
export function httpSourceFactory(url: string): SourceDriver {
  return new HttpDriver(parseHttpSourceUrl(url));
}

function isJpeg(data: Buffer): boolean {
  return data.length > 3 && data[0] === 0xff && data[1] === 0xd8;
}

function remoteOf(res: IncomingMessage): string | undefined {
  const s = res.socket;
  return s?.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : undefined;
}

export class HttpDriver implements SourceDriver {
  constructor(readonly options: HttpSourceOptions) {}

  async connect(sink: FrameSink, signal: AbortSignal): Promise<SourceConnection> {
    const opts = this.options;
    const { req, res } = await openHttp(opts, signal);
    const onAbort = () => req.destroy(new InvalidStateError(`${opts.display}: connect aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const { detection, head } = await detectBody(res, opts);
      if (detection.kind === 'jpeg') {
        const picture = await readWholeBody(req, res, head, opts);
        req.destroy();
        if (!isJpeg(picture)) throw new InvalidStateError(`${opts.display}: the body is not a JPEG picture`);
        return this.#snapshots(picture, remoteOf(res), sink);
      }
      const reader = createReader(detection, () => performance.now());
      const feed = new FeedConnection({
        remoteAddress: remoteOf(res),
        what: opts.display,
        noDataTimeoutMs: opts.noDataTimeoutMs,
        onClose: () => req.destroy(),
      });
      const onData = (chunk: Buffer) => {
        feed.touch();
        feed.handle(reader.push(chunk));
      };
      for (const chunk of head) onData(chunk);
      res.on('data', onData);
      res.once('end', () => {
        feed.handle(reader.flush());
        feed.close(new Error(`${opts.display}: the server ended the response`));
      });
      res.once('error', (err) => feed.close(err));
      res.once('close', () => feed.close(new Error(`${opts.display}: connection closed`)));
      res.resume();
      const onAbortFeed = () => feed.close(new InvalidStateError(`${opts.display}: connect aborted`));
      signal.addEventListener('abort', onAbortFeed, { once: true });
      try {
        await feed.ready;
      } finally {
        signal.removeEventListener('abort', onAbortFeed);
      }
      if (feed.closed) throw new InvalidStateError(`${opts.display}: closed right after it started`);
      // The runner maps the medias to tracks once this resolved: frames flow after that.
      setImmediate(() => feed.attach(sink));
      return feed;
    } catch (err) {
      req.destroy();
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** A connection that delivers `first` and then a new picture every interval. */
  #snapshots(first: Buffer, remoteAddress: string | undefined, sink: FrameSink): FeedConnection {
    const opts = this.options;
    const clock = new WallClock(() => performance.now());
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const feed = new FeedConnection({
      remoteAddress,
      what: opts.display,
      onClose: () => {
        clearTimeout(timer);
        abort.abort();
      },
    });
    const deliver = (data: Buffer) => {
      const t = clock.stamp();
      const frame: Frame = { pts: t, dts: t, keyframe: true, data };
      feed.push(0, frame);
    };
    const poll = async () => {
      try {
        const { req, res } = await openHttp(opts, abort.signal);
        let picture: Buffer;
        try {
          picture = await readWholeBody(req, res, [], opts);
        } finally {
          req.destroy();
        }
        if (!isJpeg(picture)) throw new InvalidStateError(`${opts.display}: the body is not a JPEG picture`);
        if (feed.closed) return;
        deliver(picture);
        timer = setTimeout(poll, opts.snapshotIntervalMs);
      } catch (err) {
        feed.close(err instanceof Error ? err : new Error(String(err)));
      }
    };
    feed.handle([{ type: 'tracks', medias: [jpegMedia()] }]);
    deliver(first);
    timer = setTimeout(poll, opts.snapshotIntervalMs);
    setImmediate(() => feed.attach(sink));
    return feed;
  }
}
