/**
 * Resampler: frequency and amplitude preservation, exact output counts, chunking independence,
 * channel mixing, and state rebuilt on mid-stream format changes (random switches included).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { remix } from '../../../src/audio/pcm.ts';
import { Resampler } from '../../../src/audio/resampler.ts';
import type { PcmFormat } from '../../../src/audio/types.ts';
import { BadRequestError } from '../../../src/core/errors.ts';
import { channelOf, chunks, concat, relError, rms, sine, toneFrequency } from './helpers.ts';

const SEED = 0x5eed;
const TONE = 440;

/** Runs `pcm` through a new resampler in chunks of `chunk` input frames, flushed at the end. */
function resampleAll(pcm: Int16Array, from: PcmFormat, to: PcmFormat, chunk = 160): Int16Array {
  const r = new Resampler(to);
  const parts = chunks(pcm, chunk, from.channels).map((c) => r.process(c, from));
  parts.push(r.flush());
  return concat(parts);
}

/** Output frames a segment of `frames` input frames yields once flushed. */
function expectedFrames(frames: number, from: number, to: number): number {
  return Math.ceil((frames * to) / from);
}

describe('Resampler rate conversion', () => {
  const PAIRS: [number, number][] = [
    [8000, 48000],
    [48000, 8000],
    [16000, 44100],
    [44100, 16000],
    [8000, 16000],
    [48000, 44100],
  ];
  for (const [from, to] of PAIRS) {
    test(`Resampler.process() keeps a 440 Hz sine's frequency within 0.5% from ${from} to ${to} Hz`, () => {
      const out = resampleAll(
        sine(from, TONE, from),
        { sampleRate: from, channels: 1 },
        { sampleRate: to, channels: 1 },
      );
      assert.equal(out.length, expectedFrames(from, from, to));
      const hz = toneFrequency(out, to);
      assert.ok(relError(hz, TONE) < 0.005, `measured ${hz} Hz`);
      // Sample-accurate timing and gain: compare with the ideal sine at the output rate.
      const ideal = sine(to, TONE, to);
      const edge = Math.ceil(to / 100); // skip 10 ms at each end (filter start-up and tail)
      const diff = new Int16Array(to - 2 * edge);
      for (let i = 0; i < diff.length; i++) diff[i] = out[edge + i] - ideal[edge + i];
      const errorRatio = rms(diff) / rms(ideal);
      assert.ok(errorRatio < 0.01, `error ${errorRatio} of the signal`);
    });
  }

  test('Resampler.process() output does not depend on how the input is chunked', () => {
    const from = { sampleRate: 44100, channels: 2 };
    const to = { sampleRate: 16000, channels: 2 };
    const input = sine(44100, 1000, 8000, 2);
    const reference = resampleAll(input, from, to, input.length);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        const r = new Resampler(to);
        const parts: Int16Array[] = [];
        let offset = 0;
        for (let i = 0; offset < input.length; i++) {
          const n = sizes[i % sizes.length] * 2 || 2;
          parts.push(r.process(input.subarray(offset, offset + n), from));
          offset += n;
        }
        parts.push(r.flush());
        assert.deepEqual(concat(parts), reference);
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  test('Resampler.process() keeps a constant signal constant (unity DC gain)', () => {
    const out = resampleAll(
      new Int16Array(8000).fill(5000),
      { sampleRate: 8000, channels: 1 },
      { sampleRate: 48000, channels: 1 },
    );
    for (let i = 600; i < out.length - 600; i++)
      assert.ok(Math.abs(out[i] - 5000) <= 2, `sample ${i}: ${out[i]}`);
  });

  test('Resampler.process() clamps a full-scale square wave to the S16 range', () => {
    const square = Int16Array.from({ length: 4800 }, (_, i) => (Math.floor(i / 24) % 2 ? 32767 : -32768));
    const out = resampleAll(square, { sampleRate: 48000, channels: 1 }, { sampleRate: 44100, channels: 1 });
    assert.ok(
      out.some((v) => v === 32767) && out.some((v) => v === -32768),
      'overshoot is clamped, not wrapped',
    );
  });

  test('Resampler.process() passes samples through unchanged when the formats are equal', () => {
    const input = sine(16000, TONE, 320, 2);
    const r = new Resampler({ sampleRate: 16000, channels: 2 });
    assert.deepEqual(r.process(input, { sampleRate: 16000, channels: 2 }), input);
    assert.equal(r.latency, 0);
    assert.equal(r.flush().length, 0);
  });

  test('Resampler.process() does not modify its input', () => {
    const input = sine(8000, TONE, 800);
    const copy = input.slice();
    resampleAll(input, { sampleRate: 8000, channels: 1 }, { sampleRate: 48000, channels: 2 });
    assert.deepEqual(input, copy);
  });

  test('Resampler output count stays exact over 2 minutes of 44.1 kHz → 48 kHz (no drift)', () => {
    const r = new Resampler({ sampleRate: 48000, channels: 1 });
    const chunk = new Int16Array(4410);
    let out = 0;
    const chunksIn = 1200; // 2 min of 100 ms chunks
    for (let i = 0; i < chunksIn; i++) out += r.process(chunk, { sampleRate: 44100, channels: 1 }).length;
    out += r.flush().length;
    assert.equal(out, chunksIn * 4800);
  });
});

describe('Resampler channel mixing', () => {
  test('remix() averages stereo to mono and duplicates mono to stereo', () => {
    assert.deepEqual([...remix(Int16Array.from([1000, 3000, -10, 10]), 2, 1)], [2000, 0]);
    assert.deepEqual([...remix(Int16Array.from([5, -7]), 1, 2)], [5, 5, -7, -7]);
  });

  test('remix() maps 6 channels to 2 by averaging groups and 2 to 4 by repeating', () => {
    assert.deepEqual([...remix(Int16Array.from([1, 2, 3, 10, 20, 30]), 6, 2)], [2, 20]);
    assert.deepEqual([...remix(Int16Array.from([1, 2]), 2, 4)], [1, 1, 2, 2]);
    assert.equal(remix(Int16Array.from([1, 2, 3]), 2, 1).length, 1, 'a partial frame is dropped');
  });

  test('Resampler.process() turns 8 kHz mono into 48 kHz stereo with equal channels', () => {
    const out = resampleAll(
      sine(8000, TONE, 8000),
      { sampleRate: 8000, channels: 1 },
      { sampleRate: 48000, channels: 2 },
    );
    assert.equal(out.length, 2 * 48000);
    assert.deepEqual(channelOf(out, 2, 0), channelOf(out, 2, 1));
    assert.ok(relError(toneFrequency(channelOf(out, 2), 48000), TONE) < 0.005);
  });

  test('Resampler.process() turns 48 kHz stereo into 8 kHz mono by averaging the channels', () => {
    const left = sine(48000, TONE, 48000);
    const stereo = new Int16Array(2 * 48000);
    for (let i = 0; i < left.length; i++) stereo[2 * i] = left[i]; // right channel silent
    const out = resampleAll(stereo, { sampleRate: 48000, channels: 2 }, { sampleRate: 8000, channels: 1 });
    assert.equal(out.length, 8000);
    assert.ok(relError(rms(out.subarray(100, 7900)), rms(left) / 2) < 0.02, 'half the amplitude');
  });
});

describe('Resampler format changes', () => {
  test('resampler state is rebuilt when the sample rate changes mid-stream (voice gateway out-of-range write)', () => {
    // Regression: gateways that size their history for the first format and keep it after a
    // switch to a higher rate or more channels write past its end. Segments: 8 kHz mono, 16 kHz
    // mono, 48 kHz stereo, then 8 kHz mono again, 1 s each in 20 ms chunks.
    const output = { sampleRate: 48000, channels: 2 };
    const segments: PcmFormat[] = [
      { sampleRate: 8000, channels: 1 },
      { sampleRate: 16000, channels: 1 },
      { sampleRate: 48000, channels: 2 },
      { sampleRate: 8000, channels: 1 },
    ];
    const r = new Resampler(output);
    const parts: Int16Array[] = [];
    for (const format of segments) {
      for (const chunk of chunks(
        sine(format.sampleRate, TONE, format.sampleRate, format.channels),
        format.sampleRate / 50,
        format.channels,
      )) {
        parts.push(r.process(chunk, format));
      }
    }
    parts.push(r.flush());
    const out = concat(parts);
    assert.equal(r.rebuilds, segments.length);
    assert.equal(out.length, 4 * 48000 * 2, 'every segment yields exactly 1 s');
    for (let s = 0; s < segments.length; s++) {
      const second = channelOf(out.subarray(s * 96000, (s + 1) * 96000), 2);
      const hz = toneFrequency(second.subarray(480, 47520), 48000);
      assert.ok(relError(hz, TONE) < 0.005, `segment ${s}: ${hz} Hz`);
    }
  });

  test('Resampler.process() survives random format switches with exact output counts', () => {
    const RATES = [8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000];
    const step = fc.record({
      rate: fc.constantFrom(...RATES),
      channels: fc.integer({ min: 1, max: 6 }),
      frames: fc.integer({ min: 0, max: 3000 }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...RATES),
        fc.integer({ min: 1, max: 2 }),
        fc.array(step, { maxLength: 25 }),
        (outRate, outChannels, steps) => {
          const r = new Resampler({ sampleRate: outRate, channels: outChannels });
          let produced = 0;
          let expected = 0;
          let segment: { format: PcmFormat; frames: number } | undefined;
          for (const s of steps) {
            const format = { sampleRate: s.rate, channels: s.channels };
            if (segment && (segment.format.sampleRate !== s.rate || segment.format.channels !== s.channels)) {
              expected += expectedFrames(segment.frames, segment.format.sampleRate, outRate);
              segment = undefined;
            }
            segment ??= { format, frames: 0 };
            segment.frames += s.frames;
            const out = r.process(sine(s.rate, 300, s.frames, s.channels), format);
            assert.equal(out.length % outChannels, 0);
            produced += out.length / outChannels;
            // Never more than the input so far can yield.
            assert.ok(produced <= expected + expectedFrames(segment.frames, s.rate, outRate));
          }
          if (segment) expected += expectedFrames(segment.frames, segment.format.sampleRate, outRate);
          produced += r.flush().length / outChannels;
          assert.equal(produced, expected);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  test('Resampler.process() rejects a partial frame or a bad format with BadRequestError and stays usable', () => {
    const r = new Resampler({ sampleRate: 48000, channels: 1 });
    assert.throws(() => r.process(new Int16Array(3), { sampleRate: 8000, channels: 2 }), BadRequestError);
    assert.throws(() => r.process(new Int16Array(2), { sampleRate: 0, channels: 1 }), BadRequestError);
    assert.throws(() => r.process(new Int16Array(2), { sampleRate: 8000, channels: 9 }), BadRequestError);
    assert.throws(() => new Resampler({ sampleRate: 8000.5, channels: 1 }), BadRequestError);
    const out = r.process(new Int16Array(800), { sampleRate: 8000, channels: 1 });
    assert.equal(out.length + r.flush().length, 4800);
  });
});
