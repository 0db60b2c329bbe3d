/**
 * `ffmpeg:INPUT#...` sources: ffmpeg reads INPUT, converts it as the options say and publishes the
 * result back to the gateway's RTSP server (`-f rtsp {output}`, as go2rtc does), where the
 * source's connection adopts it. See args.ts for the URL and exec/driver.ts for supervision.
 *
 * From the API (unless `api.allow_exec`), only network inputs and stream names are allowed:
 * `#raw=`, inline `#input=` templates, files and other URL schemes are config-only, since they
 * make ffmpeg open anything on the gateway's machine.
 */
import { BadRequestError, UnsupportedError } from '../../core/errors.ts';
import type { SourceContext, SourceDriver, SourceFactory } from '../../core/source.ts';
import { ChildSourceDriver } from '../exec/driver.ts';
import {
  buildFfmpegArgs,
  configOnlyReason,
  type FfmpegSpec,
  parseFfmpegUrl,
  type ResolvedInput,
  streamQuery,
  validateCodecs,
} from './args.ts';
import type { FfmpegContext } from './context.ts';

/** ffmpeg must publish within this long of its start, and never go this long without a frame, ms. */
export const FFMPEG_TIMEOUT_MS = 10_000;

/** The `ffmpeg:` scheme's factory for one gateway. */
export function ffmpegSourceFactory(ctx: FfmpegContext): SourceFactory {
  return (url: string, source: SourceContext): SourceDriver => {
    const spec = parseFfmpegUrl(url);
    validateCodecs(spec, ctx.templates);
    if (!source.fromConfig && !ctx.allowExec) {
      const reason = configOnlyReason(spec, ctx.templates);
      if (reason) {
        throw new BadRequestError(
          `"ffmpeg:" sources with ${reason} may only be defined in the config file (or with api.allow_exec: true)`,
        );
      }
    }
    if (spec.inputKind === 'name' && spec.input === source.streamName) {
      throw new BadRequestError(`ffmpeg: stream "${source.streamName}" cannot read itself`);
    }
    return new ChildSourceDriver(
      {
        argv: [],
        mode: 'publish',
        owner: `ffmpeg:${source.streamName}`,
        what: 'ffmpeg',
        timeoutMs: FFMPEG_TIMEOUT_MS,
      },
      {
        loopback: ctx.loopback,
        log: ctx.log,
        prepare: async () => {
          await ctx.binary.check();
          const input = resolveInput(spec, source, ctx);
          return buildFfmpegArgs(spec, input, ctx.binary.bin, ctx.templates);
        },
      },
    );
  };
}

/**
 * Where ffmpeg reads from, decided at each start: a name is a stream when one exists then (read
 * back from the RTSP server), else a file relative to the working directory (config only).
 */
export function resolveInput(spec: FfmpegSpec, source: SourceContext, ctx: FfmpegContext): ResolvedInput {
  if (spec.inputKind === 'url') return { kind: 'url', value: spec.input };
  if (spec.inputKind === 'file') return { kind: 'file', value: spec.input };
  if (ctx.registry.get(spec.input)) {
    const url = ctx.loopback.url(spec.input, streamQuery(spec));
    if (!url) {
      throw new UnsupportedError(
        `ffmpeg: reading stream "${spec.input}" needs the RTSP server, which is off (rtsp.listen is "")`,
      );
    }
    return { kind: 'stream', value: url };
  }
  if (!source.fromConfig && !ctx.allowExec) {
    throw new BadRequestError(
      `ffmpeg: no stream "${spec.input}" (files may only be read from the config file)`,
    );
  }
  return { kind: 'file', value: spec.input };
}
