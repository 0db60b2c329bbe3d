/**
 * Regressions of the audio crash classes of voice and media gateways: a native codec object freed
 * twice (a second `opus_decoder_destroy` on a stale pointer) or used after its free, and a sample
 * rate or channel count that changes mid-stream (a resampler whose filter state was sized for the
 * old rate). src/audio wraps libopus (WebAssembly) and resamples in TypeScript.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeUlaw } from '../../src/audio/g711.ts';
import { OpusDecoder, OpusEncoder } from '../../src/audio/opus.ts';
import { opusHeapStats } from '../../src/audio/opus-wasm.ts';
import { Resampler } from '../../src/audio/resampler.ts';
import { AudioTranscoder } from '../../src/audio/transcoder.ts';
import { InvalidStateError } from '../../src/core/errors.ts';
import type { Codec } from '../../src/core/media.ts';

function tone(samples: number, channels: number, rate: number, hz = 440): Int16Array {
  const out = new Int16Array(samples * channels);
  for (let i = 0; i < samples; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 8000);
    for (let c = 0; c < channels; c++) out[i * channels + c] = v;
  }
  return out;
}

test('OpusDecoder.free() and OpusEncoder.free() twice release the native handle once, and any call after free() throws InvalidStateError instead of touching freed memory (the "codec object freed twice" crash)', () => {
  const live = opusHeapStats().liveHandles;
  const enc = new OpusEncoder({ channels: 2 });
  const dec = new OpusDecoder({ channels: 2 });
  const packet = enc.encode(tone(960, 2, 48000));
  assert.equal(dec.decode(packet).length, 960 * 2);
  assert.equal(opusHeapStats().liveHandles, live + 2);
  enc.free();
  enc.free();
  dec.free();
  dec.free();
  assert.equal(opusHeapStats().liveHandles, live, 'each handle freed exactly once');
  assert.equal(dec.freed, true);
  assert.throws(() => dec.decode(packet), InvalidStateError);
  assert.throws(() => enc.encode(tone(960, 2, 48000)), InvalidStateError);
  // A thousand create/free cycles, half of them freed twice, leave the count where it was.
  for (let i = 0; i < 1000; i++) {
    const d = new OpusDecoder();
    d.decode(packet);
    d.free();
    if (i % 2) d.free();
  }
  assert.equal(opusHeapStats().liveHandles, live);
});

test('AudioTranscoder.close() twice frees its codecs once; push() after it throws InvalidStateError', () => {
  const live = opusHeapStats().liveHandles;
  const t = new AudioTranscoder(
    { name: 'PCMU', clockRate: 8000 },
    { name: 'OPUS', clockRate: 48000, channels: 2 },
  );
  const ulaw = encodeUlaw(tone(160, 1, 8000));
  for (let i = 0; i < 5; i++) t.push({ pts: i * 160, dts: i * 160, keyframe: true, data: Buffer.from(ulaw) });
  t.close();
  t.close();
  assert.equal(opusHeapStats().liveHandles, live);
  assert.throws(
    () => t.push({ pts: 800, dts: 800, keyframe: true, data: Buffer.from(ulaw) }),
    InvalidStateError,
  );
});

test('Resampler.process() with the input rate and channel count changing mid-stream (8 -> 16 -> 48 -> 44.1 kHz, mono <-> stereo) never throws and keeps the output rate and length', () => {
  const r = new Resampler({ sampleRate: 48000, channels: 2 });
  const segments: [number, number][] = [
    [8000, 1],
    [16000, 1],
    [48000, 2],
    [44100, 2],
    [8000, 2],
    [48000, 1],
  ];
  let inSeconds = 0;
  let outSamples = 0;
  for (const [rate, channels] of segments) {
    for (let chunk = 0; chunk < 10; chunk++) {
      const frames = Math.round(rate / 50) + (chunk % 3); // 20 ms, and odd sizes
      const out = r.process(tone(frames, channels, rate), { sampleRate: rate, channels });
      assert.equal(out.length % 2, 0, 'whole stereo frames');
      outSamples += out.length / 2;
      inSeconds += frames / rate;
    }
  }
  outSamples += r.flush().length / 2;
  assert.equal(r.rebuilds, segments.length);
  assert.ok(
    Math.abs(outSamples - inSeconds * 48000) < 48 * segments.length,
    `${outSamples} samples for ${inSeconds} s`,
  );
});

test('AudioTranscoder.push() with the input codec changing mid-stream (PCMU 8 kHz -> L16 16 kHz stereo -> OPUS 48 kHz) keeps 20 ms packets with continuous timestamps', () => {
  const out: Codec = { name: 'PCMA', clockRate: 8000 };
  const t = new AudioTranscoder({ name: 'PCMU', clockRate: 8000 }, out);
  const frames = [];
  let pts = 0;
  for (let i = 0; i < 20; i++, pts += 160)
    frames.push(...t.push({ pts, dts: pts, keyframe: true, data: encodeUlaw(tone(160, 1, 8000)) }));
  const l16: Codec = { name: 'L16', clockRate: 16000, channels: 2 };
  for (let i = 0; i < 20; i++) {
    const pcm = tone(320, 2, 16000);
    const be = Buffer.alloc(pcm.length * 2);
    for (let k = 0; k < pcm.length; k++) be.writeInt16BE(pcm[k], k * 2);
    frames.push(...t.push({ pts: 50_000 + i * 320, dts: 50_000 + i * 320, keyframe: true, data: be }, l16));
  }
  const enc = new OpusEncoder({ channels: 2 });
  const opus: Codec = { name: 'OPUS', clockRate: 48000, channels: 2 };
  for (let i = 0; i < 20; i++)
    frames.push(
      ...t.push({ pts: i * 960, dts: i * 960, keyframe: true, data: enc.encode(tone(960, 2, 48000)) }, opus),
    );
  enc.free();
  frames.push(...t.flush());
  t.close();
  assert.ok(frames.length >= 55, `${frames.length} packets`);
  for (const f of frames) assert.equal(f.data.length, 160, '20 ms of PCMA');
  for (let i = 1; i < frames.length; i++)
    assert.equal(frames[i].pts - frames[i - 1].pts, 160, 'continuous output timestamps');
  assert.equal(t.stats.formatChanges, 2);
});
