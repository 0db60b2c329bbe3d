/**
 * G.711 A-law / µ-law: known code points of the ITU-T G.191 reference, round-trip error bounds over
 * every 16-bit sample, and agreement with ffmpeg's pcm_alaw / pcm_mulaw (when ffmpeg is present):
 * decoding bit-exact, encoding equal except one code apart at some decision boundaries, where
 * ffmpeg rounds and G.191 truncates.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import {
  alawFromSample,
  decodeAlaw,
  decodeUlaw,
  encodeAlaw,
  encodeUlaw,
  sampleFromAlaw,
  sampleFromUlaw,
  ulawFromSample,
} from '../../../src/audio/g711.ts';

/** Every S16 value once, ascending. */
function allSamples(): Int16Array {
  const all = new Int16Array(65536);
  for (let i = 0; i < all.length; i++) all[i] = i - 32768;
  return all;
}

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

/** Converts raw audio with ffmpeg between `from` and `to` (s16le, alaw, mulaw), 8 kHz mono. */
function ffmpegConvert(input: Uint8Array, from: string, to: string): Buffer {
  const args = ['-hide_banner', '-loglevel', 'error', '-f', from, '-ar', '8000', '-ac', '1', '-i', 'pipe:0'];
  const run = spawnSync('ffmpeg', [...args, '-f', to, 'pipe:1'], { input, maxBuffer: 1 << 22 });
  assert.equal(run.status, 0, run.stderr.toString());
  return run.stdout;
}

function pcmBytes(pcm: Int16Array): Buffer {
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

/**
 * Compares our codec with ffmpeg's over every code and every sample: decoded values must be equal;
 * encoded codes may differ only at decision boundaries, by one quantization level, and rarely.
 */
function compareWithFfmpeg(
  format: 'alaw' | 'mulaw',
  encode: (pcm: Int16Array) => Buffer,
  decode: (data: Uint8Array) => Int16Array,
): void {
  const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const ffDecoded = ffmpegConvert(codes, format, 's16le');
  assert.ok(ffDecoded.equals(pcmBytes(decode(codes))), 'decoders differ');
  const all = allSamples();
  const ours = encode(all);
  const theirs = ffmpegConvert(pcmBytes(all), 's16le', format);
  const oursBack = decode(ours);
  const theirsBack = decode(theirs);
  let differing = 0;
  for (let i = 0; i < all.length; i++) {
    if (ours[i] === theirs[i]) continue;
    differing++;
    // Adjacent levels straddle the sample: it lies between the two reconstructions.
    const lo = Math.min(oursBack[i], theirsBack[i]);
    const hi = Math.max(oursBack[i], theirsBack[i]);
    assert.ok(lo <= all[i] && all[i] <= hi, `sample ${all[i]}: ${ours[i]} vs ffmpeg ${theirs[i]}`);
  }
  assert.ok(differing < all.length * 0.02, `${differing} codes differ from ffmpeg`);
}

describe('G.711 A-law', () => {
  // [sample, code] pairs from G.711 Table 1 / the reference implementation.
  const KNOWN: [number, number][] = [
    [0, 0xd5],
    [-1, 0x55],
    [8, 0xd5],
    [32767, 0xaa],
    [-32768, 0x2a],
    [1000, 0xfa],
    [-1000, 0x7a],
  ];
  test('encodeAlaw() gives the reference code points', () => {
    for (const [sample, code] of KNOWN) assert.equal(alawFromSample(sample), code, `sample ${sample}`);
    assert.deepEqual(
      [...encodeAlaw(Int16Array.from(KNOWN.map((k) => k[0])))],
      KNOWN.map((k) => k[1]),
    );
  });

  test('decodeAlaw() gives the reference values', () => {
    assert.equal(sampleFromAlaw(0xd5), 8);
    assert.equal(sampleFromAlaw(0x55), -8);
    assert.equal(sampleFromAlaw(0xaa), 32256);
    assert.equal(sampleFromAlaw(0x2a), -32256);
    assert.deepEqual([...decodeAlaw(Buffer.from([0xd5, 0x2a]))], [8, -32256]);
  });

  test('decodeAlaw(encodeAlaw(x)) is within half a quantization step of x for every sample', () => {
    const all = allSamples();
    const back = decodeAlaw(encodeAlaw(all));
    for (let i = 0; i < all.length; i++) {
      const x = all[i];
      const mag = Math.min(Math.abs(x), 32256);
      // Step 16 below 512 (segments 0 and 1), then doubling: half a step is mag/32 at most.
      const bound = Math.max(8, mag / 32) + 1 + Math.abs(Math.abs(x) - mag);
      assert.ok(Math.abs(back[i] - x) <= bound, `sample ${x} -> ${back[i]}`);
    }
  });

  test('every A-law code decodes and re-encodes to itself', () => {
    for (let code = 0; code < 256; code++) assert.equal(alawFromSample(sampleFromAlaw(code)), code);
  });

  test('A-law agrees with ffmpeg pcm_alaw over every code and sample', {
    skip: !hasFfmpeg && 'no ffmpeg',
  }, () => {
    compareWithFfmpeg('alaw', encodeAlaw, decodeAlaw);
  });
});

describe('G.711 µ-law', () => {
  const KNOWN: [number, number][] = [
    [0, 0xff],
    [-1, 0x7f], // G.191 uses the one's complement: -1 is "negative zero"
    [-4, 0x7f],
    [-5, 0x7e],
    [32767, 0x80],
    [-32768, 0x00],
    [1000, 0xce],
    [-1000, 0x4e],
  ];
  test('encodeUlaw() gives the reference code points', () => {
    for (const [sample, code] of KNOWN) assert.equal(ulawFromSample(sample), code, `sample ${sample}`);
    assert.deepEqual(
      [...encodeUlaw(Int16Array.from(KNOWN.map((k) => k[0])))],
      KNOWN.map((k) => k[1]),
    );
  });

  test('decodeUlaw() gives the reference values', () => {
    assert.equal(sampleFromUlaw(0xff), 0);
    assert.equal(sampleFromUlaw(0x7f), 0);
    assert.equal(sampleFromUlaw(0x80), 32124);
    assert.equal(sampleFromUlaw(0x00), -32124);
    assert.deepEqual([...decodeUlaw(Buffer.from([0xff, 0x00]))], [0, -32124]);
  });

  test('decodeUlaw(encodeUlaw(x)) is within half a quantization step of x for every sample', () => {
    const all = allSamples();
    const back = decodeUlaw(encodeUlaw(all));
    for (let i = 0; i < all.length; i++) {
      const x = all[i];
      const mag = Math.min(Math.abs(x), 32124);
      // µ-law steps are (mag + 132) / 16.5 at most; half of that, plus the clip above 32124.
      const bound = (mag + 132) / 32 + 2 + Math.abs(Math.abs(x) - mag);
      assert.ok(Math.abs(back[i] - x) <= bound, `sample ${x} -> ${back[i]}`);
    }
  });

  test('every µ-law code except 0x7f (negative zero) re-encodes to itself', () => {
    for (let code = 0; code < 256; code++) {
      if (code === 0x7f) continue;
      assert.equal(ulawFromSample(sampleFromUlaw(code)), code);
    }
  });

  test('µ-law agrees with ffmpeg pcm_mulaw over every code and sample', {
    skip: !hasFfmpeg && 'no ffmpeg',
  }, () => {
    compareWithFfmpeg('mulaw', encodeUlaw, decodeUlaw);
  });
});

describe('G.711 buffers', () => {
  test('encodeAlaw() and encodeUlaw() read a subarray view without touching its neighbours', () => {
    const backing = Int16Array.from([1, 2, 3, 1000, -1000, 7]);
    const view = backing.subarray(3, 5);
    assert.deepEqual([...encodeAlaw(view)], [0xfa, 0x7a]);
    assert.deepEqual([...encodeUlaw(view)], [0xce, 0x4e]);
    assert.deepEqual([...backing], [1, 2, 3, 1000, -1000, 7]);
  });

  test('empty input gives empty output', () => {
    assert.equal(encodeAlaw(new Int16Array(0)).length, 0);
    assert.equal(decodeUlaw(new Uint8Array(0)).length, 0);
  });
});
