/**
 * AudioTranscoder: G.711 ↔ Opus round trips keep a tone, output timestamps come from sample
 * counts and stay continuous across gaps, jumps, bad packets and format changes, and random input
 * never makes it throw.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from '../../../src/audio/g711.ts';
import { OpusDecoder, OpusEncoder } from '../../../src/audio/opus.ts';
import { opusHeapStats } from '../../../src/audio/opus-wasm.ts';
import { encodeL16 } from '../../../src/audio/pcm.ts';
import { AudioTranscoder } from '../../../src/audio/transcoder.ts';
import { opusPacketDuration } from '../../../src/codecs/opus/toc.ts';
import { BadRequestError, InvalidStateError, UnsupportedError } from '../../../src/core/errors.ts';
import type { Codec, Frame } from '../../../src/core/media.ts';
import { activeResources, assertNoLeaks } from '../../helpers/leaks.ts';
import { audioFrame, channelOf, chunks, concat, ptsGaps, relError, sine, toneFrequency } from './helpers.ts';

const SEED = 0x5eed;
const PCMA: Codec = { name: 'PCMA', clockRate: 8000, channels: 1 };
const PCMU: Codec = { name: 'PCMU', clockRate: 8000, channels: 1 };
const OPUS: Codec = { name: 'OPUS', clockRate: 48000, channels: 2 };
const L16_8K: Codec = { name: 'L16', clockRate: 8000, channels: 1 };

/** 20 ms frames of `pcm` encoded with `encode`, pts counting samples from `start`. */
function framesOf(
  pcm: Int16Array,
  samples: number,
  encode: (p: Int16Array) => Buffer,
  start = 0,
  channels = 1,
): Frame[] {
  return chunks(pcm, samples, channels).map((c, i) => audioFrame(start + i * samples, encode(c)));
}

/** Pushes every frame, then flushes; returns all output frames. */
function run(t: AudioTranscoder, frames: readonly Frame[]): Frame[] {
  const out: Frame[] = [];
  for (const f of frames) out.push(...t.push(f));
  out.push(...t.flush());
  return out;
}

function withTranscoder<T>(input: Codec, output: Codec, body: (t: AudioTranscoder) => T): T {
  const t = new AudioTranscoder(input, output);
  try {
    return body(t);
  } finally {
    t.close();
  }
}

describe('AudioTranscoder round trips', () => {
  test('AudioTranscoder PCMA 8k → OPUS 48k → PCMA 8k keeps a 440 Hz sine within 2%', () => {
    const input = framesOf(sine(8000, 440, 16000), 160, encodeAlaw, 8000);
    const opus = withTranscoder(PCMA, OPUS, (t) => run(t, input));
    assert.deepEqual(ptsGaps(opus, 960), []);
    assert.equal(opus[0].pts, 48000, 'first input pts 8000 in the 48 kHz clock');
    for (const f of opus) assert.equal(opusPacketDuration(f.data), 960);
    const back = withTranscoder(OPUS, PCMA, (t) => run(t, opus));
    assert.deepEqual(ptsGaps(back, 160), []);
    assert.equal(back[0].pts, 8000);
    for (const f of back) assert.equal(f.data.length, 160);
    const pcm = decodeAlaw(Buffer.concat(back.map((f) => f.data)));
    assert.ok(Math.abs(pcm.length - 16000) <= 160, `${pcm.length} samples for 2 s`);
    const hz = toneFrequency(pcm.subarray(800, 15000), 8000);
    assert.ok(relError(hz, 440) < 0.02, `${hz} Hz`);
  });

  test('AudioTranscoder PCMU 8k → OPUS 48k stereo gives 20 ms packets a browser decodes to the tone', () => {
    const input = framesOf(sine(8000, 1000, 8000), 160, encodeUlaw);
    const out = withTranscoder(PCMU, OPUS, (t) => run(t, input));
    assert.equal(out.length, 50);
    const decoder = new OpusDecoder({ channels: 2 });
    const pcm = concat(out.map((f) => decoder.decode(f.data)));
    decoder.free();
    const hz = toneFrequency(channelOf(pcm, 2).subarray(4800), 48000);
    assert.ok(relError(hz, 1000) < 0.02, `${hz} Hz`);
  });

  test('AudioTranscoder OPUS 48k → PCMU 8k (doorbell talk-back) emits 160-byte packets at the input time', () => {
    const encoder = new OpusEncoder({ channels: 2 });
    const opus = framesOf(sine(48000, 440, 48000, 2), 960, (p) => encoder.encode(p), 96000, 2);
    encoder.free();
    const out = withTranscoder(OPUS, PCMU, (t) => run(t, opus));
    assert.equal(out[0].pts, 16000);
    assert.deepEqual(ptsGaps(out, 160), []);
    assert.ok(out.every((f) => f.data.length === 160 && f.keyframe && f.dts === f.pts));
    const hz = toneFrequency(decodeUlaw(Buffer.concat(out.map((f) => f.data))).subarray(800), 8000);
    assert.ok(relError(hz, 440) < 0.02, `${hz} Hz`);
  });

  test('AudioTranscoder L16 16k stereo → PCMA 16k mono averages the channels', () => {
    const input = framesOf(sine(16000, 440, 3200, 2), 320, encodeL16, 0, 2);
    const out = withTranscoder(
      { name: 'L16', clockRate: 16000, channels: 2 },
      { name: 'PCMA', clockRate: 16000 },
      (t) => run(t, input),
    );
    assert.equal(out.length, 10);
    assert.deepEqual(Buffer.concat(out.map((f) => f.data)), encodeAlaw(sine(16000, 440, 3200)));
  });
});

describe('AudioTranscoder timestamps', () => {
  // L16 → PCMA at the same rate is sample-exact, so every output byte can be checked.
  const tone = sine(8000, 440, 8000);
  const input = framesOf(tone, 160, encodeL16);

  test('AudioTranscoder.push() fills a forward gap with silence so later audio keeps its time', () => {
    const lost = input.filter((_, i) => i < 5 || i >= 10); // 100 ms lost
    const t = new AudioTranscoder(L16_8K, PCMA);
    const out = run(t, lost);
    assert.deepEqual(ptsGaps(out, 160), []);
    assert.equal(out.length, 50);
    const bytes = Buffer.concat(out.map((f) => f.data));
    const expected = encodeAlaw(tone);
    expected.fill(encodeAlaw(Int16Array.of(0))[0], 800, 1600);
    assert.deepEqual(bytes, expected);
    assert.equal(t.stats.gapsFilled, 1);
    assert.equal(t.stats.silenceSamples, 800);
    assert.equal(t.stats.reanchors, 0);
    t.close();
  });

  test('AudioTranscoder.push() re-anchors on a backward jump and a jump beyond maxGapMs, without silence', () => {
    const jumpy = input.slice(0, 30).map((f, i) => {
      if (i < 10) return f;
      if (i < 20) return audioFrame(f.pts - 1000, f.data); // backwards
      return audioFrame(f.pts + 80000, f.data); // 10 s ahead
    });
    const t = new AudioTranscoder(L16_8K, PCMA, { maxGapMs: 500 });
    const out = run(t, jumpy);
    assert.deepEqual(ptsGaps(out, 160), []);
    assert.deepEqual(Buffer.concat(out.map((f) => f.data)), encodeAlaw(tone.subarray(0, 30 * 160)));
    assert.equal(t.stats.reanchors, 2);
    assert.equal(t.stats.gapsFilled, 0);
    t.close();
  });

  test('AudioTranscoder.push() ignores timestamp jitter of up to 2.5 ms without accumulating it', () => {
    const JITTER = [0, 8, -8, 19, 19, 19, -19, 0]; // samples at 8 kHz; 20 = 2.5 ms
    const jittered = input.slice(0, 40).map((f, i) => audioFrame(f.pts + JITTER[i % JITTER.length], f.data));
    const t = new AudioTranscoder(L16_8K, PCMA);
    const out = run(t, jittered);
    assert.equal(out.length, 40);
    assert.deepEqual(Buffer.concat(out.map((f) => f.data)), encodeAlaw(tone.subarray(0, 40 * 160)));
    assert.deepEqual(t.stats, { ...t.stats, gapsFilled: 0, reanchors: 0 });
    t.close();
  });

  test('AudioTranscoder.push() counts and skips bad packets, and their hole is filled with silence', () => {
    const t = new AudioTranscoder(L16_8K, PCMA);
    const frames = input.slice(0, 10).map((f, i) => (i === 3 ? audioFrame(f.pts, Buffer.alloc(0)) : f));
    frames[6] = audioFrame(frames[6].pts, Buffer.alloc(3)); // odd L16 length
    frames[8] = audioFrame(Number.NaN, frames[8].data);
    const out = run(t, frames);
    assert.deepEqual(ptsGaps(out, 160), []);
    assert.equal(out.length, 10, 'holes of frames 3, 6 and 8 filled');
    assert.equal(t.stats.errors, 3);
    assert.equal(t.stats.gapsFilled, 3);
    t.close();
    assert.equal(t.stats.errors, 3, 'counted once after close()');
  });

  test('AudioTranscoder.push() decodes a corrupt Opus packet as silence of its duration', () => {
    const encoder = new OpusEncoder({ channels: 2 });
    const opus = framesOf(sine(48000, 440, 9600, 2), 960, (p) => encoder.encode(p), 0, 2);
    encoder.free();
    opus[4] = audioFrame(opus[4].pts, Buffer.from([0xfe, 0xfb, 1, 2, 3])); // 2 × 20 ms, broken length
    const t = new AudioTranscoder(OPUS, PCMA);
    const out = run(t, opus);
    assert.deepEqual(ptsGaps(out, 160), []);
    assert.equal(t.stats.errors, 1);
    t.close();
  });

  test('resampler state is rebuilt when the sample rate changes mid-stream (voice gateway out-of-range write)', () => {
    // Regression: a source that switches 8 kHz mono → 16 kHz mono → 48 kHz stereo, 1 s each, with
    // each segment's timestamps in its own clock starting at 0. Output stays continuous.
    const segments: Codec[] = [
      { name: 'L16', clockRate: 8000, channels: 1 },
      { name: 'L16', clockRate: 16000, channels: 1 },
      { name: 'L16', clockRate: 48000, channels: 2 },
    ];
    for (const output of [OPUS, PCMA]) {
      const t = new AudioTranscoder(segments[0], output);
      const out: Frame[] = [];
      for (const codec of segments) {
        const rate = codec.clockRate;
        const channels = codec.channels ?? 1;
        for (const f of framesOf(sine(rate, 440, rate, channels), rate / 50, encodeL16, 0, channels)) {
          out.push(...t.push(f, codec));
        }
      }
      out.push(...t.flush());
      t.close();
      const step = output.clockRate / 50;
      assert.deepEqual(ptsGaps(out, step), [], `${output.name}`);
      assert.equal(out.length, 150, `${output.name}: 3 s of 20 ms packets`);
      assert.equal(t.stats.formatChanges, 2);
      assert.equal(t.stats.errors, 0);
    }
  });

  test('AudioTranscoder.push() with a new codec of the same format continues seamlessly (PCMA → PCMU)', () => {
    const t = new AudioTranscoder(PCMA, L16_8K);
    const out = [
      ...t.push(audioFrame(0, encodeAlaw(tone.subarray(0, 160)))),
      ...t.push(audioFrame(160, encodeUlaw(tone.subarray(160, 320))), PCMU),
    ];
    assert.deepEqual(ptsGaps(out, 160), []);
    assert.equal(t.input, PCMU);
    t.close();
  });
});

describe('AudioTranscoder robustness', () => {
  test('AudioTranscoder.push() only counts errors for random frames, codec switches and timestamps (fuzz)', () => {
    const CODECS: Codec[] = [PCMA, PCMU, OPUS, L16_8K, { name: 'L16', clockRate: 44100, channels: 2 }];
    const encoder = new OpusEncoder({ channels: 2 });
    const goodOpus = encoder.encode(sine(48000, 440, 960, 2));
    encoder.free();
    const frameArb = fc.record({
      codec: fc.nat({ max: CODECS.length - 1 }),
      switch: fc.boolean(),
      data: fc.oneof(fc.uint8Array({ maxLength: 700 }), fc.constant(goodOpus)),
      jump: fc.oneof(
        fc.constant(0),
        fc.integer({ min: -100000, max: 100000 }),
        fc.constantFrom(Number.NaN, 1e15),
      ),
    });
    fc.assert(
      fc.property(
        fc.nat({ max: CODECS.length - 1 }),
        fc.constantFrom(OPUS, PCMA, PCMU, L16_8K),
        fc.array(frameArb, { maxLength: 40 }),
        (first, output, steps) => {
          const t = new AudioTranscoder(CODECS[first], output);
          const out: Frame[] = [];
          let pts = 0;
          for (const s of steps) {
            pts += 960 + s.jump;
            const frame = audioFrame(pts, Buffer.from(s.data));
            out.push(...t.push(frame, s.switch ? CODECS[s.codec] : undefined));
          }
          out.push(...t.flush());
          t.close();
          assert.deepEqual(ptsGaps(out, t.frameSamples), []);
          assert.ok(out.every((f) => Number.isFinite(f.pts) && f.data.length > 0));
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
    assert.equal(opusHeapStats().moduleAborts, 0);
  });

  test('new AudioTranscoder() throws UnsupportedError for codecs it cannot handle', () => {
    assert.throws(
      () => new AudioTranscoder({ name: 'AAC', clockRate: 44100, channels: 2 }, OPUS),
      UnsupportedError,
    );
    assert.throws(() => new AudioTranscoder(PCMA, { name: 'OPUS', clockRate: 44100 }), UnsupportedError);
    assert.throws(() => new AudioTranscoder(PCMA, { name: 'H264', clockRate: 90000 }), UnsupportedError);
    assert.throws(
      () => new AudioTranscoder({ name: 'OPUS', clockRate: 48000, channels: 6 }, PCMA),
      UnsupportedError,
    );
    assert.throws(() => new AudioTranscoder(PCMA, OPUS, { packetMs: 25 }), BadRequestError);
    assert.throws(() => new AudioTranscoder(PCMA, OPUS, { maxGapMs: -1 }), BadRequestError);
    const t = new AudioTranscoder(PCMA, PCMU);
    assert.throws(
      () => t.push(audioFrame(0, Buffer.alloc(160)), { name: 'AAC', clockRate: 8000 }),
      UnsupportedError,
    );
    assert.equal(t.input, PCMA, 'the previous input codec is kept');
    t.close();
    assert.equal(opusHeapStats().liveHandles, 0, 'no codec leaked by a failed constructor');
  });

  test('AudioTranscoder.close() is idempotent and push() after it throws InvalidStateError', () => {
    const t = new AudioTranscoder(OPUS, PCMA);
    t.close();
    t.close();
    assert.ok(t.closed);
    assert.throws(() => t.push(audioFrame(0, Buffer.alloc(1))), InvalidStateError);
    assert.throws(() => t.flush(), InvalidStateError);
    assert.equal(opusHeapStats().liveHandles, 0);
  });

  test('AudioTranscoder uses no timers or other handles', async () => {
    const before = activeResources();
    const t = new AudioTranscoder(PCMA, OPUS);
    run(t, framesOf(sine(8000, 440, 1600), 160, encodeAlaw));
    t.close();
    await assertNoLeaks(before);
  });
});
