/**
 * HTTP ingest: `POST /api/stream.flv?dst=NAME` (and `.ts`, `.mjpeg`, `.h264`, `.h265`, `.aac`)
 * publishes the request body into stream NAME (created if new) for as long as the request lasts,
 * as go2rtc does: `ffmpeg -re -i in.mp4 -c copy -f flv http://HOST:1984/api/stream.flv?dst=NAME`.
 * The body is read as it comes, through the same readers as HTTP sources. The answer comes when
 * the body ends: 204, or an error when no usable track was found.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiRequest } from '../../api/http.ts';
import { BadRequestError } from '../../core/errors.ts';
import type { StreamRegistry } from '../../core/registry.ts';
import { sessionClosed, sessionOpened } from '../../diag/sessions.ts';
import type { Logger } from '../../log/logger.ts';
import { FeedConnection } from './feed.ts';
import { type ContentKind, multipartBoundary } from './source/detect.ts';
import { createReader } from './source/readers.ts';

/** No data for this long ends a publisher, ms. */
const NO_DATA_TIMEOUT_MS = 10_000;

/** The path suffixes that take a body, and what they are. */
export const INGEST_KINDS: Readonly<Record<string, ContentKind>> = {
  flv: 'flv',
  ts: 'mpegts',
  mjpeg: 'mjpeg',
  h264: 'h264',
  h265: 'h265',
  aac: 'adts',
};

/**
 * A long upload must not be cut by the server's whole-request timeout (`requestTimeout`), which
 * is meant for ordinary requests: take this request's parser off the server's timeout list.
 * (Node keeps no public switch per request; the connection is not reused afterwards.)
 */
function exemptFromRequestTimeout(req: IncomingMessage): void {
  const parser = (req.socket as unknown as { parser?: { remove?: () => void } }).parser;
  parser?.remove?.();
}

/** Handles one ingest request for the body format `ext` (a key of `INGEST_KINDS`). */
export async function ingest(
  registry: StreamRegistry,
  log: Logger,
  req: ApiRequest,
  res: ServerResponse,
  ext: string,
): Promise<void> {
  const kind = INGEST_KINDS[ext];
  const name = req.query.get('dst');
  if (!name) throw new BadRequestError('missing ?dst=NAME of the stream to publish to');
  const raw = req.raw;
  const stream = await registry.forPublish(name);
  exemptFromRequestTimeout(raw);
  res.setHeader('connection', 'close');
  const remote = `${raw.socket.remoteAddress}:${raw.socket.remotePort}`;
  const url = `http://${remote}/api/stream.${ext}`;
  const contentType = raw.headers['content-type'];
  const reader = createReader(
    { kind, boundary: contentType ? multipartBoundary(contentType) : undefined },
    () => performance.now(),
  );
  const feed = new FeedConnection({
    remoteAddress: remote,
    what: `POST /api/stream.${ext}?dst=${name}`,
    noDataTimeoutMs: NO_DATA_TIMEOUT_MS,
    onClose: () => {
      if (!raw.complete) raw.destroy();
    },
  });
  const ended = new Promise<Error | undefined>((resolve) => feed.once('close', resolve));
  raw.on('data', (chunk: Buffer) => {
    feed.touch();
    feed.handle(reader.push(chunk));
  });
  raw.once('end', () => {
    feed.handle(reader.flush());
    feed.close();
  });
  raw.once('error', (err) => feed.close(err));
  raw.once('close', () => {
    if (!raw.complete) feed.close(new Error('client aborted the upload'));
  });
  let frames = 0;
  feed.ready.then(
    () => {
      try {
        const sink = stream.addPublisher(url, feed);
        feed.attach((index, frame) => {
          frames++;
          sink(index, frame);
        });
        sessionOpened('http-ingest');
        feed.once('close', () => sessionClosed('http-ingest'));
        log.info({ remote, stream: name, format: ext }, 'HTTP publish');
      } catch (err) {
        feed.close(err instanceof Error ? err : undefined);
      }
    },
    () => undefined,
  );
  const error = await ended;
  if (!feed.hasTracks) {
    throw new BadRequestError(`no usable ${ext} track in the body${error ? ` (${error.message})` : ''}`);
  }
  if (error) log.debug({ remote, stream: name, err: error.message }, 'HTTP publish ended');
  if (!res.headersSent && !res.destroyed) {
    res.writeHead(204, { 'x-frames': String(frames) });
    res.end();
  }
}
