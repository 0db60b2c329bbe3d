/**
 * S16 PCM helpers: format checks, concatenation, channel up/down-mix and the L16 wire form
 * (RFC 3551 4.5.11: big-endian). Pure functions; results are new arrays unless documented.
 */
import { BadRequestError } from '../core/errors.ts';
import type { PcmFormat } from './types.ts';

/** Highest sample rate accepted, Hz. */
export const MAX_SAMPLE_RATE = 384000;
/** Highest channel count accepted. */
export const MAX_CHANNELS = 8;
const L16_BYTES = 2;

/** Throws `BadRequestError` unless the rate is an integer in 1..384000 Hz and channels in 1..8. */
export function checkPcmFormat(format: PcmFormat, what = 'PCM format'): void {
  const { sampleRate, channels } = format;
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) {
    throw new BadRequestError(
      `${what}: sample rate ${sampleRate} is not an integer in 1..${MAX_SAMPLE_RATE}`,
    );
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new BadRequestError(`${what}: channel count ${channels} is not an integer in 1..${MAX_CHANNELS}`);
  }
}

/** True when both formats have the same rate and channel count. */
export function sameFormat(a: PcmFormat, b: PcmFormat): boolean {
  return a.sampleRate === b.sampleRate && a.channels === b.channels;
}

/** `16000/2`: the short form used in messages. */
export function formatToString(format: PcmFormat): string {
  return `${format.sampleRate}/${format.channels}`;
}

/** Joins PCM chunks; returns the only non-empty chunk itself (no copy) when there is one. */
export function concatPcm(parts: readonly Int16Array[]): Int16Array {
  const nonEmpty = parts.filter((p) => p.length > 0);
  if (nonEmpty.length === 0) return new Int16Array(0);
  if (nonEmpty.length === 1) return nonEmpty[0];
  let total = 0;
  for (const p of nonEmpty) total += p.length;
  const out = new Int16Array(total);
  let offset = 0;
  for (const p of nonEmpty) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Converts interleaved PCM from `from` to `to` channels. Mono is duplicated to every channel; any
 * other N→M averages, for each output channel, the input channels that map onto it (input channel
 * i goes to output floor(i·M/N)); upmixing N→M with N > 1 copies input floor(j·N/M) to output j.
 * Returns the input itself when the counts are equal. Trailing samples that do not fill a whole
 * input frame are ignored.
 */
export function remix(pcm: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return pcm;
  const frames = Math.floor(pcm.length / from);
  const out = new Int16Array(frames * to);
  if (to < from) {
    // Group sizes differ by at most one when `from` is not a multiple of `to`.
    const firstOf = new Int32Array(to + 1);
    for (let j = 0; j <= to; j++) firstOf[j] = Math.ceil((j * from) / to);
    for (let f = 0; f < frames; f++) {
      const inBase = f * from;
      const outBase = f * to;
      for (let j = 0; j < to; j++) {
        let sum = 0;
        for (let i = firstOf[j]; i < firstOf[j + 1]; i++) sum += pcm[inBase + i];
        out[outBase + j] = Math.round(sum / (firstOf[j + 1] - firstOf[j]));
      }
    }
    return out;
  }
  const sourceOf = new Int32Array(to);
  for (let j = 0; j < to; j++) sourceOf[j] = Math.floor((j * from) / to);
  for (let f = 0; f < frames; f++) {
    const inBase = f * from;
    const outBase = f * to;
    for (let j = 0; j < to; j++) out[outBase + j] = pcm[inBase + sourceOf[j]];
  }
  return out;
}

/** L16 payload (big-endian S16, RFC 3551 4.5.11) to PCM; a trailing odd byte is ignored. */
export function decodeL16(data: Uint8Array): Int16Array {
  const count = Math.floor(data.length / L16_BYTES);
  const out = new Int16Array(count);
  for (let i = 0; i < count; i++) out[i] = (data[2 * i] << 8) | data[2 * i + 1];
  return out;
}

/** PCM to an L16 payload (big-endian S16). */
export function encodeL16(pcm: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(pcm.length * L16_BYTES);
  for (let i = 0; i < pcm.length; i++) {
    const s = pcm[i];
    out[2 * i] = (s >> 8) & 0xff;
    out[2 * i + 1] = s & 0xff;
  }
  return out;
}

/** Rounds and clamps to the S16 range. */
export function toS16(value: number): number {
  const r = Math.round(value);
  return Math.min(32767, Math.max(-32768, r));
}
