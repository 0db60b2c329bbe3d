/**
 * The MP4 HTTP outputs:
 *
 * - `GET /api/stream.mp4?src=NAME[&duration=SECONDS][&filename=NAME.mp4]`: a progressive
 *   fragmented MP4 (chunked), ending after `duration` seconds of media or when the client leaves.
 * - `GET /api/frame.mp4?src=NAME`: one keyframe as a small MP4 (init + one fragment).
 */
import type { ServerResponse } from 'node:http';
import type { ApiRequest } from '../../api/http.ts';
import { BadRequestError, TimeoutError } from '../../core/errors.ts';
import type { GatewayContext, GatewayModule } from '../../module.ts';
import { requestsForCodecList } from './codecs.ts';
import { FrameConsumer, Mp4DownloadConsumer } from './http-consumers.ts';
import { attachConsumer } from './negotiate.ts';
import { StartWatch } from './sweeper.ts';

/** How long a request waits for the first keyframe, ms. */
const START_TIMEOUT_MS = 10_000;
/** Longest download a client may ask for with `duration`, seconds. */
const MAX_DURATION_SECONDS = 24 * 3600;

/** `?src=`, required. */
export function streamName(req: ApiRequest): string {
  const name = req.query.get('src');
  if (!name) throw new BadRequestError('missing ?src=NAME of the stream');
  return name;
}

function parseDuration(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_DURATION_SECONDS) {
    throw new BadRequestError(
      `duration=${value.slice(0, 20)}: must be seconds between 0 and ${MAX_DURATION_SECONDS}`,
    );
  }
  return n;
}

function attachmentHeader(filename: string | null): Record<string, string> {
  if (!filename) return {};
  const safe = filename.replace(/[^\w.~@+-]/g, '_').slice(0, 120);
  return { 'content-disposition': `attachment; filename="${safe}"` };
}

export function createMp4Module(ctx: GatewayContext): GatewayModule {
  const { registry, http } = ctx;
  const watch = new StartWatch();
  const noKeyframe = (name: string) => () =>
    new TimeoutError(`stream "${name}": no keyframe within ${START_TIMEOUT_MS / 1000} s`);

  http.route('GET', '/api/stream.mp4', async (req: ApiRequest, res: ServerResponse) => {
    const name = streamName(req);
    const duration = parseDuration(req.query.get('duration'));
    if (req.method === 'HEAD') {
      registry.require(name);
      res.writeHead(200, { 'content-type': 'video/mp4', 'cache-control': 'no-cache' });
      res.end();
      return;
    }
    const consumer = new Mp4DownloadConsumer(
      requestsForCodecList(req.query.get('codecs') ?? undefined),
      res,
      duration,
      attachmentHeader(req.query.get('filename')),
    );
    consumer.remoteAddress = req.raw.socket.remoteAddress;
    consumer.userAgent = req.raw.headers['user-agent'];
    res.once('close', () => consumer.close());
    await attachConsumer(registry, name, consumer);
    watch.watch(consumer, START_TIMEOUT_MS, noKeyframe(name));
    consumer.play();
    await consumer.done;
  });

  http.route('GET', '/api/frame.mp4', async (req: ApiRequest, res: ServerResponse) => {
    const name = streamName(req);
    const consumer = new FrameConsumer();
    consumer.remoteAddress = req.raw.socket.remoteAddress;
    consumer.userAgent = req.raw.headers['user-agent'];
    res.once('close', () => consumer.close());
    await attachConsumer(registry, name, consumer);
    watch.watch(consumer, START_TIMEOUT_MS, noKeyframe(name));
    consumer.play();
    const mp4 = await consumer.result;
    res.writeHead(200, {
      'content-type': 'video/mp4',
      'content-length': mp4.length,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : mp4);
  });

  return {
    name: 'mp4',
    async start() {},
    close() {
      watch.close();
    },
  };
}
