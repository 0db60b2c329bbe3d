/**
 * RFC 6716 3.2 frame splitting, and decoding of packets over 60 ms frame by frame (the libopus
 * build overruns a buffer when it decodes them whole).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OpusDecoder, OpusEncoder } from '../../../src/audio/opus.ts';
import { singleFramePacket, splitOpusFrames } from '../../../src/audio/opus-frames.ts';
import { opusHeapStats } from '../../../src/audio/opus-wasm.ts';
import { opusPacketDuration } from '../../../src/codecs/opus/toc.ts';
import { ParseError } from '../../../src/core/errors.ts';
import { hex } from '../codecs/fixtures.ts';
import { chunks, concat, sine } from './helpers.ts';

const sizes = (frames: Uint8Array[]) => frames.map((f) => f.length);

describe('splitOpusFrames()', () => {
  test('splitOpusFrames() splits codes 0, 1 and 2 (RFC 6716 3.2.2-3.2.4)', () => {
    assert.deepEqual(sizes(splitOpusFrames(hex('f8 0102 03'))), [3]);
    assert.deepEqual(sizes(splitOpusFrames(hex('f8'))), [0], 'code 0 with an empty frame (DTX)');
    assert.deepEqual(
      splitOpusFrames(hex('f9 0102 0304')).map((f) => [...f]),
      [
        [1, 2],
        [3, 4],
      ],
    );
    assert.deepEqual(sizes(splitOpusFrames(hex('fa 02 0102 030405'))), [2, 3]);
    // Two-byte length: 252 + 4 × 1 = 256.
    const long = Buffer.concat([hex('fa fc 01'), Buffer.alloc(256 + 10)]);
    assert.deepEqual(sizes(splitOpusFrames(long)), [256, 10]);
  });

  test('splitOpusFrames() splits code 3 CBR and VBR packets with padding (RFC 6716 3.2.5)', () => {
    // CBR, 3 frames of 2 bytes.
    assert.deepEqual(sizes(splitOpusFrames(hex('fb 03 010203040506'))), [2, 2, 2]);
    // VBR, 3 frames: lengths 1 and 2, the last takes the rest (3).
    assert.deepEqual(
      splitOpusFrames(hex('fb 83 01 02 aa bbbb cccccc')).map((f) => f.length),
      [1, 2, 3],
    );
    // CBR with 2 bytes of padding.
    const padded = splitOpusFrames(hex('fb 42 02 0102 0304 0000'));
    assert.deepEqual(
      padded.map((f) => [...f]),
      [
        [1, 2],
        [3, 4],
      ],
    );
    // Padding length 255 means 254 bytes plus the next length byte.
    const bigPad = Buffer.concat([hex('fb 41 ff 01 0102'), Buffer.alloc(255)]);
    assert.deepEqual(sizes(splitOpusFrames(bigPad)), [2]);
  });

  test('splitOpusFrames() returns views into the packet', () => {
    const packet = hex('f9 0102 0304');
    const [first] = splitOpusFrames(packet);
    assert.equal(first.buffer, packet.buffer);
  });

  const BAD: [string, string][] = [
    ['', 'empty'],
    ['f9 010203', 'code 1 with an odd payload'],
    ['fa', 'code 2 without a length'],
    ['fa fc', 'code 2 without the second length byte'],
    ['fa 05 0102', 'code 2 first frame beyond the end'],
    ['fb', 'code 3 without a count byte'],
    ['fb 00', 'code 3 with 0 frames'],
    ['fb 03 0102', 'code 3 CBR not divisible'],
    ['fb 82 05 01', 'code 3 VBR lengths beyond the end'],
    ['fb 41 05 01', 'padding beyond the end'],
    ['fb 41', 'padding length missing'],
  ];
  for (const [bytes, what] of BAD) {
    test(`splitOpusFrames() throws ParseError for ${what}`, () => {
      assert.throws(() => splitOpusFrames(hex(bytes)), ParseError);
    });
  }

  test('splitOpusFrames() rejects frames over 1275 bytes (R2)', () => {
    assert.throws(() => splitOpusFrames(Buffer.alloc(1277, 0xf8)), ParseError);
  });

  test('singleFramePacket() keeps the config and stereo bit and sets code 0', () => {
    assert.deepEqual([...singleFramePacket(0xff, Uint8Array.of(7, 8))], [0xfc, 7, 8]);
  });
});

describe('OpusDecoder and packets over 60 ms', () => {
  test('OpusDecoder.decode() of a 120 ms code 3 packet equals decoding its six frames one by one', () => {
    const encoder = new OpusEncoder({ channels: 2, bitrate: 32000 });
    const frames = chunks(sine(48000, 440, 6 * 960, 2), 960, 2).map((pcm) => encoder.encode(pcm));
    encoder.free();
    // Build a VBR code 3 packet from the six code 0 packets (all of one config).
    const bodies = frames.map((p) => p.subarray(1));
    assert.ok(frames.every((p) => p[0] === frames[0][0]) && bodies.every((b) => b.length < 252));
    const packet = Buffer.concat([
      Uint8Array.of((frames[0][0] & 0xfc) | 3, 0x80 | 6),
      Uint8Array.from(bodies.slice(0, 5).map((b) => b.length)),
      ...bodies,
    ]);
    assert.equal(opusPacketDuration(packet), 5760);
    const whole = new OpusDecoder();
    const separate = new OpusDecoder();
    const a = whole.decode(packet);
    const b = concat(frames.map((p) => separate.decode(p)));
    assert.equal(a.length, 5760 * 2);
    assert.deepEqual(a, b);
    assert.equal(whole.errors + separate.errors, 0);
    whole.free();
    separate.free();
    assert.equal(opusHeapStats().moduleAborts, 0);
  });
});
