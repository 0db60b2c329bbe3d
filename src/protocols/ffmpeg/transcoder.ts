/**
 * Automatic transcoding: the `Transcoder` hook of every stream (see src/core/stream.ts). When a
 * consumer asks for codecs no source offers (an H.265 camera and a Chromium WebRTC viewer, AAC and
 * WebRTC), it plans one ffmpeg that reads the stream back from the RTSP server (only the kinds it
 * converts, in the codecs the sources offer, so it never reads its own output) and publishes the
 * missing codecs to a private path. The stream keeps it as a hidden source, shared by every
 * consumer its tracks fit, and stops it like any source when its last reader leaves.
 *
 * Policy: `ffmpeg.transcode: auto | never` for every stream, and `#transcode=never` (or `auto`)
 * on any source URL of a stream for that stream.
 */
import type { MediaRequest } from '../../core/consumer.ts';
import { UnsupportedError } from '../../core/errors.ts';
import type { Codec, Media, MediaKind } from '../../core/media.ts';
import type { TranscodePlan, TranscodeRequest, Transcoder } from '../../core/stream.ts';
import { ChildSourceDriver } from '../exec/driver.ts';
import { buildFfmpegArgs, type FfmpegSpec } from './args.ts';
import type { FfmpegContext } from './context.ts';
import { FFMPEG_TIMEOUT_MS } from './source.ts';

/** A codec ffmpeg can make, as the name of its template. */
export interface Target {
  kind: MediaKind;
  template: string;
}

/** Query names of the RTSP server (`?video=h265`) by codec. */
const QUERY_NAMES: Partial<Record<Codec['name'], string>> = {
  H264: 'h264',
  H265: 'h265',
  AAC: 'aac',
  OPUS: 'opus',
  PCMA: 'pcma',
  PCMU: 'pcmu',
  L16: 'l16',
};

/** `#transcode=never|auto` on any of the stream's source URLs; undefined when none says. */
export function streamPolicy(urls: readonly string[]): 'auto' | 'never' | undefined {
  for (const url of urls) {
    const m = /#transcode=(auto|never)(?=#|&|$)/i.exec(url);
    if (m) return m[1].toLowerCase() as 'auto' | 'never';
  }
  return undefined;
}

/** The template that makes `codec`, or undefined when ffmpeg cannot make it for us. */
export function templateFor(codec: Codec): string | undefined {
  switch (codec.name) {
    case 'H264':
      return 'h264';
    case 'H265':
      return 'h265';
    case 'OPUS':
      return 'opus';
    case 'AAC':
      return 'aac';
    case 'PCMA':
    case 'PCMU': {
      const base = codec.name.toLowerCase();
      return codec.clockRate === 16000 || codec.clockRate === 48000 ? `${base}/${codec.clockRate}` : base;
    }
    default:
      return undefined;
  }
}

/**
 * What to make for the missing requests: per request, the first codec of its list ffmpeg can
 * make, when the sources offer something of that kind to make it from.
 */
export function planTargets(missing: readonly MediaRequest[], offered: readonly Media[]): Target[] {
  const targets: Target[] = [];
  for (const request of missing) {
    if (request.codecs === 'any') continue; // nothing of this kind at all: nothing to convert
    if (!offered.some((m) => m.kind === request.kind)) continue;
    if (targets.some((t) => t.kind === request.kind)) continue;
    for (const codec of request.codecs) {
      const template = templateFor(codec);
      if (template) {
        targets.push({ kind: request.kind, template });
        break;
      }
    }
  }
  return targets;
}

/** The RTSP query that reads the kinds of `targets` in the codecs the sources offer: `video=h265`. */
export function inputQuery(targets: readonly Target[], offered: readonly Media[]): string {
  const parts: string[] = [];
  for (const kind of ['video', 'audio'] as const) {
    if (!targets.some((t) => t.kind === kind)) continue;
    const names = offered
      .filter((m) => m.kind === kind)
      .map((m) => QUERY_NAMES[m.codecs[0]?.name])
      .filter((n): n is string => n !== undefined);
    if (names.length === 0) throw new UnsupportedError(`the sources offer no ${kind} ffmpeg can read back`);
    parts.push(`${kind}=${[...new Set(names)].join(',')}`);
  }
  return parts.join('&');
}

export class FfmpegTranscoder implements Transcoder {
  constructor(private readonly ctx: FfmpegContext) {}

  plan(request: TranscodeRequest): TranscodePlan | undefined {
    const policy = streamPolicy(request.sourceUrls) ?? this.ctx.transcode;
    if (policy === 'never') return undefined;
    const targets = planTargets(request.missing, request.offered());
    if (targets.length === 0) return undefined;
    const key = targets.map((t) => `${t.kind}=${t.template}`).join('&');
    const spec: FfmpegSpec = {
      input: request.stream,
      inputKind: 'name',
      video: targets.filter((t) => t.kind === 'video').map((t) => t.template),
      audio: targets.filter((t) => t.kind === 'audio').map((t) => t.template),
      raw: [],
      ignored: [],
    };
    const ctx = this.ctx;
    // Fallback for a restart while a source is down: what they offered when this was planned.
    const planned = request.offered();
    const driver = new ChildSourceDriver(
      {
        argv: [],
        mode: 'publish',
        owner: `transcode:${request.stream}`,
        what: 'ffmpeg transcoder',
        timeoutMs: FFMPEG_TIMEOUT_MS,
      },
      {
        loopback: ctx.loopback,
        log: ctx.log,
        prepare: async () => {
          await ctx.binary.check();
          // The codecs of the sources now: a reconnected camera may have changed them.
          const url = ctx.loopback.url(
            request.stream,
            inputQuery(targets, [...request.offered(), ...planned]),
          );
          if (!url)
            throw new UnsupportedError('transcoding needs the RTSP server, which is off (rtsp.listen is "")');
          return buildFfmpegArgs(spec, { kind: 'stream', value: url }, ctx.binary.bin, ctx.templates);
        },
      },
    );
    return { key, url: `ffmpeg:${request.stream}#${key.replace(/&/g, '#')}`, driver };
  }
}
