/**
 * The in-process audio transcoder as the stream's `Transcoder` hook, in front of the one set
 * before it (ffmpeg's): conversions between Opus, G.711 and L16 run in-process and never start a
 * process; anything else (video, AAC) goes on to the next hook. See src/core/stream.ts.
 *
 * - `plan`: a consumer's audio request no track matched (an RTSP reader asking `?audio=pcma` of an
 *   Opus stream, a WebRTC viewer of an L16 source), from the first audio source. The consumer's
 *   order is kept: one that prefers a codec only the next hook makes (AAC for MP4 outputs) goes
 *   there first, and gets the first codec the engine makes only when the next hook declines.
 * - `upgrade`: a request that matched, but not its first choice, when that choice is Opus (a
 *   browser of a G.711 camera: Chromium plays G.711 at 8 kHz, Opus at 48 kHz).
 *
 * One transcoder per stream and output codec (key `audio=opus/48000/1`), shared by every consumer
 * that wants that codec, stopped `idle_timeout` after its last reader like any source. The
 * per-stream policy `#transcode=never` on a source URL turns it off, as for ffmpeg.
 */
import { codecToString, type Media } from '../../core/media.ts';
import type { StreamRegistry } from '../../core/registry.ts';
import type { TranscodePlan, TranscodeRequest, Transcoder } from '../../core/stream.ts';
import { canDecode, outputCodec } from './codecs.ts';
import { AudioTranscodeDriver } from './source.ts';

/** `#transcode=never|auto` on any of the stream's source URLs (the ffmpeg policy's syntax). */
function policyOf(urls: readonly string[]): 'auto' | 'never' | undefined {
  for (const url of urls) {
    const m = /#transcode=(auto|never)(?=#|&|$)/i.exec(url);
    if (m) return m[1].toLowerCase() as 'auto' | 'never';
  }
  return undefined;
}

export class InProcessAudioTranscoder implements Transcoder {
  /** @param next the hook set before this one (ffmpeg's), asked for whatever this one cannot do */
  constructor(
    private readonly registry: StreamRegistry,
    private readonly next?: Transcoder,
  ) {}

  plan(request: TranscodeRequest): TranscodePlan | undefined {
    return (
      this.#plan(request, false, this.next !== undefined) ??
      this.next?.plan(request) ??
      (this.next ? this.#plan(request, false, false) : undefined)
    );
  }

  upgrade(request: TranscodeRequest): TranscodePlan | undefined {
    return this.#plan(request, true, false) ?? this.next?.upgrade?.(request);
  }

  /** @param strict stop at the first codec the engine cannot make (the next hook may) */
  #plan(request: TranscodeRequest, upgrade: boolean, strict: boolean): TranscodePlan | undefined {
    if (policyOf(request.sourceUrls) === 'never') return undefined;
    // Video (or two audio tracks) is one ffmpeg's job, audio included.
    if (request.missing.length !== 1 || request.missing[0].kind !== 'audio') return undefined;
    const wants = request.missing[0].codecs;
    if (wants === 'any') return undefined;
    const source = firstAudio(request.offered());
    if (!source || !canDecode(source)) return undefined;
    for (const want of wants) {
      if (upgrade && want.name !== 'OPUS') continue;
      const output = outputCodec(want, source);
      if (!output && strict) return undefined;
      if (!output) continue;
      const name = codecToString(output).toLowerCase();
      return {
        key: `audio=${name}`,
        url: `audio:${request.stream}#${name}`,
        driver: new AudioTranscodeDriver(this.registry, request.stream, output),
        preferred: true,
      };
    }
    return undefined;
  }
}

function firstAudio(medias: readonly Media[]) {
  return medias.find((m) => m.kind === 'audio')?.codecs[0];
}
