/**
 * The audio module: in-process audio transcoding in front of the stream's transcoder hook (see
 * src/audio/engine/hook.ts; registered after the ffmpeg module so that ffmpeg's hook is the one
 * it falls back to), and two-way audio's API, `POST /api/streams?dst=NAME&src=...` (api.ts).
 * WebRTC viewers and RTSP readers talk through `talk.ts` without anything from here.
 */
import { InProcessAudioTranscoder } from '../../audio/engine/hook.ts';
import { streamsGuard } from '../../auth/setup.ts';
import type { GatewayContext, GatewayModule, ModuleFactory } from '../../module.ts';
import { BackchannelPlayers } from './api.ts';

export const createAudioModule: ModuleFactory = (ctx: GatewayContext): GatewayModule => {
  const registry = ctx.registry;
  registry.hooks.transcoder = new InProcessAudioTranscoder(registry, registry.hooks.transcoder);
  const players = new BackchannelPlayers(
    registry,
    streamsGuard(ctx.config, ctx.auth),
    ctx.logging.module('audio'),
  );
  ctx.http.route('POST', '/api/streams', (req, res) => players.handle(req, res));
  return {
    name: 'audio',
    async start() {},
    close() {
      players.closeAll();
    },
  };
};
