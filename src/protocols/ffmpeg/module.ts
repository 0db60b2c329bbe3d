/**
 * The ffmpeg module: registers the `ffmpeg:` and `exec:` source schemes and the stream's
 * transcoder hook, from the `ffmpeg:` config section (`bin`, `transcode`, templates) and
 * `api.allow_exec`. It owns no listener and no process of its own: every child belongs to a
 * source connection, which a stream's runner starts and stops; at shutdown it waits for them.
 */
import type { GatewayContext, GatewayModule, ModuleFactory } from '../../module.ts';
import { ChildProcessSupervisor } from '../../process/child.ts';
import { execSourceFactory } from '../exec/source.ts';
import { rtspLoopback } from '../rtsp/server/loopback.ts';
import { ffmpegBinary } from './binary.ts';
import type { FfmpegContext } from './context.ts';
import { ffmpegSourceFactory } from './source.ts';
import { mergeTemplates } from './templates.ts';
import { FfmpegTranscoder } from './transcoder.ts';

/** The shared context of the ffmpeg features of one gateway (also used by the snapshots). */
export function ffmpegContext(ctx: GatewayContext): FfmpegContext {
  const config = ctx.config.ffmpeg;
  return {
    binary: ffmpegBinary(config.bin),
    templates: mergeTemplates(config.templates),
    registry: ctx.registry,
    loopback: rtspLoopback(ctx.registry),
    log: ctx.logging.module('ffmpeg'),
    allowExec: ctx.config.api.allowExec,
    transcode: config.transcode,
  };
}

export const createFfmpegModule: ModuleFactory = (ctx: GatewayContext): GatewayModule => {
  const ffmpeg = ffmpegContext(ctx);
  ctx.schemes.register('ffmpeg', ffmpegSourceFactory(ffmpeg));
  ctx.schemes.register(
    'exec',
    execSourceFactory({ loopback: ffmpeg.loopback, log: ctx.logging.module('exec') }),
    { configOnly: !ffmpeg.allowExec },
  );
  ctx.registry.hooks.transcoder = new FfmpegTranscoder(ffmpeg);
  return {
    name: 'ffmpeg',
    async start() {},
    /**
     * The streams are closed by now, so every child got its first signal: wait for them to exit
     * (SIGKILL after the kill timeout), so that none outlives the gateway.
     */
    close: () => ChildProcessSupervisor.stopAll(),
  };
};
