/**
 * In-process Opus: encode → decode keeps a tone, corrupt packets give counted silence, free() is
 * idempotent, use after free throws InvalidStateError, create/free cycles leave memory flat, and
 * random packets never make the decoder throw.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { OPUS_FRAME_SIZES, OpusDecoder, OpusEncoder } from '../../../src/audio/opus.ts';
import { opusHeapStats } from '../../../src/audio/opus-wasm.ts';
import { opusPacketDuration } from '../../../src/codecs/opus/toc.ts';
import { BadRequestError, InvalidStateError } from '../../../src/core/errors.ts';
import { channelOf, chunks, concat, relError, rms, sine, toneFrequency } from './helpers.ts';

const SEED = 0x5eed;
const RATE = 48000;
const FRAME = 960;

/** Encodes `pcm` in 20 ms frames and decodes every packet; returns packets and decoded PCM. */
function roundTrip(
  pcm: Int16Array,
  channels: 1 | 2,
  bitrate?: number,
): { packets: Buffer[]; decoded: Int16Array } {
  const encoder = new OpusEncoder({ channels, bitrate });
  const decoder = new OpusDecoder({ channels });
  try {
    const packets = chunks(pcm, FRAME, channels).map((frame) => encoder.encode(frame));
    const decoded = concat(packets.map((p) => decoder.decode(p)));
    assert.equal(decoder.errors, 0);
    return { packets, decoded };
  } finally {
    encoder.free();
    decoder.free();
  }
}

describe('Opus encode and decode', () => {
  test('OpusEncoder.encode() → OpusDecoder.decode() keeps a 440 Hz sine within 2% (stereo and mono)', () => {
    for (const channels of [2, 1] as const) {
      const { packets, decoded } = roundTrip(sine(RATE, 440, RATE, channels), channels);
      assert.equal(packets.length, 50);
      for (const p of packets) assert.equal(opusPacketDuration(p), FRAME);
      assert.equal(decoded.length, RATE * channels);
      const left = channelOf(decoded, channels).subarray(FRAME); // skip the codec's start-up
      assert.ok(
        relError(toneFrequency(left, RATE), 440) < 0.02,
        `${channels} ch: ${toneFrequency(left, RATE)} Hz`,
      );
      assert.ok(relError(rms(left), 10000 / Math.SQRT2) < 0.1, `level kept: ${rms(left)}`);
    }
  });

  test('OpusEncoder.encode() accepts every frame size from 2.5 to 60 ms and rejects others', () => {
    const encoder = new OpusEncoder({ channels: 1 });
    const decoder = new OpusDecoder({ channels: 1 });
    for (const size of OPUS_FRAME_SIZES) {
      const packet = encoder.encode(sine(RATE, 440, size));
      assert.equal(opusPacketDuration(packet), size);
      assert.equal(decoder.decode(packet).length, size);
    }
    assert.throws(() => encoder.encode(new Int16Array(100)), BadRequestError);
    assert.throws(() => encoder.encode(new Int16Array(4800)), BadRequestError, '100 ms frames are refused');
    encoder.free();
    decoder.free();
  });

  test('OpusEncoder.setBitrate() changes the packet size', () => {
    const low = roundTrip(sine(RATE, 440, RATE / 2, 2), 2, 12000).packets;
    const high = roundTrip(sine(RATE, 440, RATE / 2, 2), 2, 128000).packets;
    const bytes = (ps: Buffer[]) => ps.reduce((n, p) => n + p.length, 0);
    assert.ok(bytes(high) > 3 * bytes(low), `${bytes(high)} vs ${bytes(low)} bytes`);
    const encoder = new OpusEncoder();
    assert.equal(encoder.bitrate, 64000);
    encoder.setBitrate(24000);
    assert.equal(encoder.bitrate, 24000);
    assert.throws(() => encoder.setBitrate(1000), BadRequestError);
    encoder.free();
  });

  test('new OpusEncoder() and new OpusDecoder() reject bad options with BadRequestError', () => {
    assert.throws(() => new OpusEncoder({ channels: 3 as 1 }), BadRequestError);
    assert.throws(() => new OpusEncoder({ bitrate: 600000 }), BadRequestError);
    assert.throws(() => new OpusEncoder({ complexity: 11 }), BadRequestError);
    assert.throws(() => new OpusDecoder({ channels: 0 as 1 }), BadRequestError);
    assert.equal(opusHeapStats().liveHandles, 0, 'nothing allocated for rejected options');
  });

  test('OpusDecoder.decode() mixes a stereo stream to mono when created with 1 channel', () => {
    const { packets } = roundTrip(sine(RATE, 440, RATE / 5, 2), 2);
    const mono = new OpusDecoder({ channels: 1 });
    const out = concat(packets.map((p) => mono.decode(p)));
    mono.free();
    assert.equal(out.length, RATE / 5);
    assert.ok(relError(toneFrequency(out.subarray(FRAME), RATE), 440) < 0.02);
  });
});

describe('Opus bad packets', () => {
  test('OpusDecoder.decode() returns an empty result and counts an error for an unreadable TOC', () => {
    const decoder = new OpusDecoder();
    assert.equal(
      decoder.decode(new Uint8Array(0)).length,
      0,
      'empty packet (would be 120 ms of concealment)',
    );
    assert.equal(decoder.decode(Uint8Array.of(0xfb, 0x00)).length, 0, 'code 3 with 0 frames');
    assert.equal(decoder.decode(Uint8Array.of(0x1b, 0x03)).length, 0, '3 × 60 ms exceeds 120 ms');
    assert.equal(decoder.errors, 3);
    decoder.free();
  });

  test('OpusDecoder.decode() returns silence of the TOC duration and counts an error for a corrupt packet', () => {
    const decoder = new OpusDecoder({ channels: 2 });
    // Code 2 (two frames of different sizes) whose first length byte exceeds the packet.
    const corrupt = Uint8Array.of(0xfe, 0xfb, 1, 2, 3);
    const out = decoder.decode(corrupt);
    assert.equal(out.length, 2 * 960 * 2, 'two 20 ms frames of stereo silence');
    assert.ok(out.every((v) => v === 0));
    assert.equal(decoder.errors, 1);
    const oversized = new Uint8Array(5000);
    oversized[0] = 0xfc;
    assert.equal(decoder.decode(oversized).length, 960 * 2, 'over 4000 bytes: silence');
    assert.equal(decoder.errors, 2);
    decoder.free();
  });

  test('OpusDecoder.decode() only counts errors for random and mutated packets (fuzz)', () => {
    const { packets } = roundTrip(sine(RATE, 440, RATE / 5, 2), 2);
    const decoder = new OpusDecoder();
    const check = (packet: Uint8Array) => {
      const copy = Uint8Array.from(packet);
      const out = decoder.decode(packet);
      assert.deepEqual(packet, copy, 'input not modified');
      let duration = 0;
      try {
        duration = opusPacketDuration(packet);
      } catch {
        assert.equal(out.length, 0);
        return;
      }
      assert.equal(out.length, duration * 2);
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), check), { seed: SEED, numRuns: 1500 });
    // Multi-frame packets up to 120 ms, the ones that overran libopus' buffer when decoded whole.
    const longPacket = fc
      .tuple(fc.integer({ min: 0, max: 31 }), fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 400 }))
      .map(([config, stereo, body]) => Uint8Array.of((config << 3) | (stereo ? 4 : 0) | 3, ...body));
    fc.assert(fc.property(longPacket, check), { seed: SEED, numRuns: 3000 });
    fc.assert(
      fc.property(
        fc.constantFrom(...packets),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (packet, edits) => {
          const mutated = Uint8Array.from(packet);
          for (const [at, value] of edits) mutated[at % mutated.length] = value;
          check(mutated);
        },
      ),
      { seed: SEED, numRuns: 1500 },
    );
    // The decoder is still healthy afterwards and the WebAssembly module never trapped.
    const before = decoder.errors;
    for (const p of packets) assert.equal(decoder.decode(p).length, 1920);
    assert.equal(decoder.errors, before);
    assert.equal(opusHeapStats().moduleAborts, 0);
    decoder.free();
  });
});

describe('Opus lifecycle', () => {
  test('OpusDecoder.free() twice is a no-op (codec object freed twice)', () => {
    // Regression: voice gateways crash when a session teardown and an error path both destroy
    // the same libopus decoder; the second opus_decoder_destroy() frees a stale pointer.
    const before = opusHeapStats().liveHandles;
    const decoder = new OpusDecoder();
    const encoder = new OpusEncoder();
    assert.equal(opusHeapStats().liveHandles, before + 2);
    decoder.free();
    decoder.free();
    encoder.free();
    encoder.free();
    assert.ok(decoder.freed && encoder.freed);
    assert.equal(opusHeapStats().liveHandles, before);
    // The heap is intact: new codecs work.
    const { decoded } = roundTrip(sine(RATE, 440, 4 * FRAME, 2), 2);
    assert.equal(decoded.length, 4 * FRAME * 2);
  });

  test('OpusDecoder.decode() and OpusEncoder.encode() after free() throw InvalidStateError', () => {
    const decoder = new OpusDecoder();
    const encoder = new OpusEncoder();
    const packet = encoder.encode(new Int16Array(FRAME * 2));
    decoder.free();
    encoder.free();
    assert.throws(() => decoder.decode(packet), InvalidStateError);
    assert.throws(() => encoder.encode(new Int16Array(FRAME * 2)), InvalidStateError);
    assert.throws(() => encoder.setBitrate(32000), InvalidStateError);
  });

  test('10,000 Opus decoder and encoder create/free cycles leave memory flat', () => {
    const CYCLES = 10000;
    const cycle = () => {
      const decoder = new OpusDecoder();
      const encoder = new OpusEncoder({ channels: 1 });
      decoder.free();
      encoder.free();
    };
    for (let i = 0; i < 100; i++) cycle(); // load the module and warm up
    const heap0 = opusHeapStats();
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < CYCLES; i++) cycle();
    const heap1 = opusHeapStats();
    const rssGrowth = process.memoryUsage().rss - rss0;
    assert.equal(heap1.liveHandles, heap0.liveHandles);
    // Each pair holds ~250 KiB of WebAssembly memory: a leak would grow the heap by ~2.4 GiB.
    assert.equal(heap1.heapBytes, heap0.heapBytes, 'WebAssembly heap did not grow');
    assert.ok(rssGrowth < 64 * 1024 * 1024, `rss grew by ${rssGrowth} bytes`);
  });
});
