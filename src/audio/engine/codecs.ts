/**
 * Which codecs the in-process audio transcoder can read and make, and the exact output codec for
 * what a consumer asked. Pure.
 */
import { OPUS_CLOCK_RATE } from '../../codecs/opus/toc.ts';
import type { Codec, CodecName } from '../../core/media.ts';

/** Codecs `AudioTranscoder` decodes and encodes. */
export const ENGINE_CODECS: ReadonlySet<CodecName> = new Set<CodecName>(['OPUS', 'PCMA', 'PCMU', 'L16']);

/** Highest sample rate taken for G.711 and L16, Hz (the resampler's range). */
const MAX_RATE = 48000;
/** G.711 rates a consumer may ask for (RFC 3551 PCMA/8000, and the 16 kHz variant some cameras use). */
const G711_RATES = new Set([8000, 16000]);
const DEFAULT_G711_RATE = 8000;
/** L16 without a rate in the request (an RTSP `?audio=l16`): wideband speech, 640 bytes per 20 ms. */
const DEFAULT_L16_RATE = 16000;

/** True when the in-process transcoder can decode `codec` (a source's). */
export function canDecode(codec: Codec): boolean {
  if (!ENGINE_CODECS.has(codec.name)) return false;
  if (codec.name === 'OPUS') return codec.clockRate === OPUS_CLOCK_RATE;
  const channels = codec.channels ?? 1;
  return (
    Number.isInteger(codec.clockRate) &&
    codec.clockRate > 0 &&
    codec.clockRate <= MAX_RATE &&
    channels >= 1 &&
    channels <= 2
  );
}

/**
 * The codec to make for a consumer that asked for `want` (rates of 0 mean any) from a source in
 * `source`, or undefined when the engine cannot make it. Opus keeps the source's channel count
 * (1 or 2); G.711 is mono at 8000 Hz unless 16000 was asked; L16 keeps an asked rate up to 48 kHz.
 */
export function outputCodec(want: Codec, source: Codec): Codec | undefined {
  switch (want.name) {
    case 'OPUS':
      return { name: 'OPUS', clockRate: OPUS_CLOCK_RATE, channels: (source.channels ?? 1) >= 2 ? 2 : 1 };
    case 'PCMA':
    case 'PCMU':
      return {
        name: want.name,
        clockRate: G711_RATES.has(want.clockRate) ? want.clockRate : DEFAULT_G711_RATE,
        channels: 1,
      };
    case 'L16': {
      const rate = want.clockRate > 0 && want.clockRate <= MAX_RATE ? want.clockRate : DEFAULT_L16_RATE;
      return { name: 'L16', clockRate: rate, channels: want.channels === 2 ? 2 : 1 };
    }
    default:
      return undefined;
  }
}

/** Same codec name, clock rate and channel count (defaults: 2 for Opus, else 1). */
export function sameAudioCodec(a: Codec, b: Codec): boolean {
  const channels = (c: Codec) => c.channels ?? (c.name === 'OPUS' ? 2 : 1);
  return a.name === b.name && a.clockRate === b.clockRate && channels(a) === channels(b);
}
