/**
 * The HTTP media module on the API port: byte-stream outputs and ingest.
 *
 * - `GET /api/stream.ts?src=NAME`: MPEG-TS (H.264/H.265, AAC/Opus), chunked.
 * - `GET /api/stream.flv?src=NAME`: FLV (H.264, H.265 as Enhanced RTMP, AAC), chunked.
 * - `GET /api/stream.aac?src=NAME`: ADTS (AAC), chunked.
 * - `POST /api/stream.{flv,ts,mjpeg,h264,h265,aac}?dst=NAME`: the body is published into NAME.
 *
 * An output whose stream has video but none the format carries is an error (never sound without
 * its picture); audio the format cannot carry is left out. Nothing within 10 s (no keyframe) is
 * a 504.
 */
import type { ServerResponse } from 'node:http';
import type { ApiRequest } from '../../api/http.ts';
import { BadRequestError, TimeoutError } from '../../core/errors.ts';
import type { GatewayContext, GatewayModule } from '../../module.ts';
import { attachConsumer } from '../mp4/negotiate.ts';
import { StartWatch } from '../mp4/sweeper.ts';
import { INGEST_KINDS, ingest } from './ingest.ts';
import {
  AdtsStreamConsumer,
  FlvStreamConsumer,
  type HttpStreamConsumer,
  TsStreamConsumer,
} from './out/consumers.ts';

/** How long an output waits for its first frame (a video keyframe), ms. */
const START_TIMEOUT_MS = 10_000;

const OUTPUTS: Readonly<
  Record<string, { contentType: string; create: (res: ServerResponse) => HttpStreamConsumer }>
> = {
  ts: { contentType: 'video/mp2t', create: (res) => new TsStreamConsumer(res) },
  flv: { contentType: 'video/x-flv', create: (res) => new FlvStreamConsumer(res) },
  aac: { contentType: 'audio/aac', create: (res) => new AdtsStreamConsumer(res) },
};

export function createHttpMediaModule(ctx: GatewayContext): GatewayModule {
  const { registry, http } = ctx;
  const log = ctx.logging.module('http');
  const watch = new StartWatch();

  const output = (ext: string) => async (req: ApiRequest, res: ServerResponse) => {
    const name = req.query.get('src');
    if (!name) throw new BadRequestError('missing ?src=NAME of the stream');
    const spec = OUTPUTS[ext];
    if (req.method === 'HEAD') {
      registry.require(name);
      res.writeHead(200, { 'content-type': spec.contentType, 'cache-control': 'no-cache' });
      res.end();
      return;
    }
    const consumer = spec.create(res);
    consumer.remoteAddress = req.raw.socket.remoteAddress;
    consumer.userAgent = req.raw.headers['user-agent'];
    res.once('close', () => consumer.close());
    await attachConsumer(registry, name, consumer);
    watch.watch(
      consumer,
      START_TIMEOUT_MS,
      () => new TimeoutError(`stream "${name}": nothing to send within ${START_TIMEOUT_MS / 1000} s`),
    );
    consumer.play();
    await consumer.done;
  };

  for (const ext of Object.keys(OUTPUTS)) http.route('GET', `/api/stream.${ext}`, output(ext));
  for (const ext of Object.keys(INGEST_KINDS)) {
    http.route('POST', `/api/stream.${ext}`, (req, res) => ingest(registry, log, req, res, ext));
  }

  return {
    name: 'http-media',
    async start() {},
    close() {
      watch.close();
    },
  };
}
