/** Signal generators and measurements for the audio tests. */
import type { Frame } from '../../../src/core/media.ts';

/** `seconds` of a sine at `hz`, `channels` identical channels, amplitude `amp`, interleaved. */
export function sine(
  rate: number,
  hz: number,
  samples: number,
  channels = 1,
  amp = 10000,
  phase = 0,
): Int16Array {
  const out = new Int16Array(samples * channels);
  for (let i = 0; i < samples; i++) {
    const v = Math.round(amp * Math.sin(2 * Math.PI * hz * (i / rate) + phase));
    for (let c = 0; c < channels; c++) out[i * channels + c] = v;
  }
  return out;
}

/** Channel `channel` of interleaved PCM. */
export function channelOf(pcm: Int16Array, channels: number, channel = 0): Int16Array {
  const out = new Int16Array(Math.floor(pcm.length / channels));
  for (let i = 0; i < out.length; i++) out[i] = pcm[i * channels + channel];
  return out;
}

export function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Frequency of a (mono) tone in Hz from its rising zero crossings, linearly interpolated between
 * samples: (crossings - 1) periods between the first and the last crossing.
 */
export function toneFrequency(pcm: Int16Array, rate: number): number {
  let first = -1;
  let last = -1;
  let periods = 0;
  for (let i = 1; i < pcm.length; i++) {
    if (pcm[i - 1] < 0 && pcm[i] >= 0) {
      const t = i - 1 + -pcm[i - 1] / (pcm[i] - pcm[i - 1]);
      if (first < 0) first = t;
      else periods++;
      last = t;
    }
  }
  return periods > 0 ? (periods * rate) / (last - first) : 0;
}

/** Root mean square of a signal. */
export function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const v of pcm) sum += v * v;
  return pcm.length ? Math.sqrt(sum / pcm.length) : 0;
}

/** Relative error `|measured - expected| / expected`. */
export function relError(measured: number, expected: number): number {
  return Math.abs(measured - expected) / expected;
}

/** An audio frame (keyframe, dts = pts). */
export function audioFrame(pts: number, data: Buffer): Frame {
  return { pts, dts: pts, keyframe: true, data };
}

/** Interleaved PCM cut into chunks of `samples` per channel. */
export function chunks(pcm: Int16Array, samples: number, channels = 1): Int16Array[] {
  const out: Int16Array[] = [];
  const size = samples * channels;
  for (let i = 0; i < pcm.length; i += size) out.push(pcm.subarray(i, i + size));
  return out;
}

/** Asserts that frame pts advance by exactly `step` each; returns the first gap found, if any. */
export function ptsGaps(frames: readonly Frame[], step: number): string[] {
  const gaps: string[] = [];
  for (let i = 1; i < frames.length; i++) {
    if (frames[i].pts !== frames[i - 1].pts + step)
      gaps.push(`#${i}: ${frames[i - 1].pts} -> ${frames[i].pts}`);
  }
  return gaps;
}
