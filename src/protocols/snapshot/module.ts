/**
 * Snapshots over HTTP, made with ffmpeg:
 *
 * - `GET /api/frame.jpeg?src=NAME[&width=W][&height=H]`: the latest keyframe as a JPEG (a side
 *   left out keeps the aspect ratio). From the cached GOP of a running source; when none runs, a
 *   temporary consumer starts the stream and waits for a keyframe (504 after 10 s). Each
 *   (stream, size) is cached for 3 s, and concurrent requests share one ffmpeg.
 * - `GET /api/stream.mjpeg?src=NAME`: `multipart/x-mixed-replace` JPEGs, from one ffmpeg per
 *   stream shared by every client.
 *
 * Without ffmpeg both answer 503 saying so; everything else keeps working.
 */
import { type ApiRequest, HttpError } from '../../api/http.ts';
import { BadRequestError, errorMessage, InvalidStateError, TimeoutError } from '../../core/errors.ts';
import type { StreamRegistry } from '../../core/registry.ts';
import type { GatewayContext, GatewayModule, ModuleFactory } from '../../module.ts';
import { ffmpegContext } from '../ffmpeg/module.ts';
import { AnnexBWriter, rawFormatOf } from './annexb.ts';
import { encodeJpeg, type JpegSize, jpegArgs } from './jpeg.ts';
import { cachedKeyframe, type Keyframe, KeyframeConsumer } from './keyframe.ts';
import { MJPEG_BOUNDARY, MjpegFeed } from './mjpeg.ts';

/** How long a JPEG is served again for the same stream and size, ms. */
export const JPEG_CACHE_MS = 3000;
/** How long a request waits for a keyframe when the stream is not running, ms. */
export const KEYFRAME_TIMEOUT_MS = 10_000;
const MAX_CACHE_ENTRIES = 64;
const MAX_SIDE = 8192;

interface CacheEntry {
  at: number;
  jpeg: Promise<Buffer>;
}

function parseSide(req: ApiRequest, key: 'width' | 'height'): number | undefined {
  const value = req.query.get(key);
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 16 || n > MAX_SIDE)
    throw new BadRequestError(`${key}=${value.slice(0, 20)}: pixels from 16 to ${MAX_SIDE}`);
  return n;
}

function streamName(req: ApiRequest): string {
  const name = req.query.get('src');
  if (!name) throw new BadRequestError('missing ?src=NAME of the stream');
  return name;
}

/**
 * Starts the stream with a temporary consumer and resolves with its first keyframe. Not tied to
 * the request: concurrent requests share the result.
 */
async function nextKeyframe(registry: StreamRegistry, name: string): Promise<Keyframe> {
  const consumer = new KeyframeConsumer();
  const timer = setTimeout(
    () =>
      consumer.close(
        new TimeoutError(`stream "${name}": no keyframe within ${KEYFRAME_TIMEOUT_MS / 1000} s`),
      ),
    KEYFRAME_TIMEOUT_MS,
  );
  try {
    await registry.require(name).addConsumer(consumer);
    consumer.play();
    return await consumer.result;
  } finally {
    clearTimeout(timer);
    consumer.close();
  }
}

export const createSnapshotModule: ModuleFactory = (ctx: GatewayContext): GatewayModule => {
  const ffmpeg = ffmpegContext(ctx);
  const log = ctx.logging.module('snapshot');
  const global = ffmpeg.templates.global ?? '';
  const cache = new Map<string, CacheEntry>();
  const feeds = new Map<string, Promise<MjpegFeed>>();

  const available = async () => {
    try {
      await ffmpeg.binary.check();
    } catch (err) {
      throw new HttpError(503, errorMessage(err));
    }
  };

  const makeJpeg = async (name: string, size: JpegSize): Promise<Buffer> => {
    const stream = ctx.registry.require(name);
    const key = cachedKeyframe(stream) ?? (await nextKeyframe(ctx.registry, name));
    const format = rawFormatOf(key.codec);
    if (!format) throw new BadRequestError(`stream "${name}": no H.264/H.265 video to take a snapshot of`);
    const input = new AnnexBWriter(key.codec).write(key.frame);
    return encodeJpeg(jpegArgs(ffmpeg.binary.bin, global, format, size), input, `snapshot:${name}`, log);
  };

  const sweep = (now: number) => {
    for (const [k, e] of cache) if (now - e.at > JPEG_CACHE_MS) cache.delete(k);
    while (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  };

  ctx.http.route('GET', '/api/frame.jpeg', async (req, res) => {
    const name = streamName(req);
    const size = { width: parseSide(req, 'width'), height: parseSide(req, 'height') };
    ctx.registry.require(name);
    await available();
    const key = `${name}\n${size.width ?? ''}x${size.height ?? ''}`;
    const now = performance.now();
    let entry = cache.get(key);
    if (!entry || now - entry.at > JPEG_CACHE_MS) {
      sweep(now);
      const jpeg = makeJpeg(name, size);
      entry = { at: now, jpeg };
      cache.set(key, entry);
      const mine = entry;
      // A failure is not cached: the next request tries again.
      jpeg.catch(() => {
        if (cache.get(key) === mine) cache.delete(key);
      });
    }
    const jpeg = await entry.jpeg;
    res.writeHead(200, {
      'content-type': 'image/jpeg',
      'content-length': jpeg.length,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : jpeg);
  });

  ctx.http.route('GET', '/api/stream.mjpeg', async (req, res) => {
    const name = streamName(req);
    const stream = ctx.registry.require(name);
    await available();
    let pending = feeds.get(name);
    if (!pending) {
      const feed = new MjpegFeed(ffmpeg.binary.bin, global, `mjpeg:${name}`, log);
      feed.remoteAddress = req.raw.socket.remoteAddress;
      feed.userAgent = req.raw.headers['user-agent'];
      pending = stream.addConsumer(feed).then(
        () => feed,
        (err) => {
          feed.close();
          throw err;
        },
      );
      feeds.set(name, pending);
      feed.once('close', () => {
        if (feeds.get(name) === pending) feeds.delete(name);
      });
      pending.catch(() => {
        if (feeds.get(name) === pending) feeds.delete(name);
      });
      pending.then(
        (f) => f.play(),
        () => undefined,
      );
    }
    const feed = await pending;
    if (res.destroyed) {
      if (feed.clientCount === 0) feed.close();
      return;
    }
    if (feed.closed) throw new InvalidStateError(`stream "${name}": the MJPEG feed ended`);
    res.writeHead(200, {
      'content-type': `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`,
      'cache-control': 'no-cache',
      connection: 'close',
    });
    feed.addClient(res);
  });

  return {
    name: 'snapshot',
    async start() {},
    close() {
      cache.clear();
    },
  };
};
