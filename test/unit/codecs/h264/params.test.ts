import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildAvcC,
  ensureParameterSets,
  H264ParameterSets,
  h264CodecString,
  h264FmtpFromParams,
  isH264Keyframe,
  joinAvcc,
  parseAvcC,
  parseH264Sps,
  parseSpropParameterSets,
  splitAvcc,
} from '../../../../src/codecs/h264/index.ts';
import { ParseError } from '../../../../src/core/errors.ts';
import type { Frame } from '../../../../src/core/media.ts';
import { AVCC_HIGH_360, AVCC_MAIN_1080, H264_SAMPLES, hex } from '../fixtures.ts';

const SPS = H264_SAMPLES[0].sps;
const PPS = H264_SAMPLES[0].pps;
const IDR = hex('65888400ffee');
const SLICE = hex('419a2233');
const AUD = hex('09f0');
const SEI = hex('06050102');
const keyframe = (...nals: Buffer[]): Frame => ({ pts: 0, dts: 0, keyframe: true, data: joinAvcc(nals) });

describe('parseH264Sps', () => {
  for (const s of H264_SAMPLES) {
    test(`parseH264Sps() reads ${s.name}`, () => {
      const before = Buffer.from(s.sps);
      const sps = parseH264Sps(s.sps);
      assert.equal(sps.width, s.width);
      assert.equal(sps.height, s.height);
      assert.equal(sps.profileIdc, s.profileIdc);
      assert.equal(sps.levelIdc, s.levelIdc);
      assert.equal(sps.chromaFormatIdc, s.chromaFormatIdc);
      assert.equal(sps.fps, s.fps);
      assert.equal(sps.frameMbsOnly, true);
      assert.deepEqual(s.sps, before, 'input not modified');
    });
  }

  test('parseH264Sps() throws ParseError for a NAL unit that is not an SPS', () => {
    assert.throws(() => parseH264Sps(PPS), /not an SPS/);
  });

  test('parseH264Sps() throws ParseError for every truncation before the cropping fields end', () => {
    const sps = H264_SAMPLES[1].sps;
    // The main 1080p SPS ends its size fields within the first 12 bytes; the VUI follows.
    for (let n = 0; n < 10; n++)
      assert.throws(() => parseH264Sps(sps.subarray(0, n)), ParseError, `length ${n}`);
  });

  test('parseH264Sps() keeps the size and drops fps when only the VUI is truncated', () => {
    const sps = parseH264Sps(H264_SAMPLES[1].sps.subarray(0, 14));
    assert.equal(sps.width, 1920);
    assert.equal(sps.height, 1080);
    assert.equal(sps.fps, undefined);
  });
});

describe('H.264 fmtp and codec string', () => {
  for (const s of H264_SAMPLES) {
    test(`h264CodecString() returns ${s.codec} for ${s.name}`, () => {
      assert.equal(h264CodecString(s.sps), s.codec);
    });
  }

  test('h264FmtpFromParams() and parseSpropParameterSets() round-trip the parameter sets', () => {
    const fmtp = h264FmtpFromParams(SPS, PPS);
    assert.deepEqual(fmtp, {
      'packetization-mode': '1',
      'profile-level-id': '42c01f',
      'sprop-parameter-sets': 'Z0LAH9kAUAW7ARAAAAMAEAAAAwMg8YMkgA==,aMuDyyA=',
    });
    assert.deepEqual(parseSpropParameterSets(fmtp['sprop-parameter-sets']), { sps: SPS, pps: PPS });
  });

  test('parseSpropParameterSets() skips empty entries and throws ParseError on non-base64', () => {
    assert.deepEqual(parseSpropParameterSets(' aMuDyyA=, '), { pps: PPS });
    assert.throws(() => parseSpropParameterSets('Z0LA*H9k,aMuDyyA='), ParseError);
  });
});

describe('avcC', () => {
  test('buildAvcC() writes the same bytes as ffmpeg for main and high profile', () => {
    assert.deepEqual(buildAvcC(H264_SAMPLES[1].sps, H264_SAMPLES[1].pps), AVCC_MAIN_1080);
    assert.deepEqual(buildAvcC(H264_SAMPLES[3].sps, H264_SAMPLES[3].pps), AVCC_HIGH_360);
  });

  test('parseAvcC() reads back the parameter sets and the high-profile extension', () => {
    const c = parseAvcC(AVCC_HIGH_360);
    assert.deepEqual(c.sps, [H264_SAMPLES[3].sps]);
    assert.deepEqual(c.pps, [H264_SAMPLES[3].pps]);
    assert.equal(c.lengthSize, 4);
    assert.equal(c.profileIdc, 100);
    assert.equal(c.levelIdc, 30);
    assert.equal(c.chromaFormat, 1);
    assert.equal(c.bitDepthLuma, 8);
    assert.deepEqual(c.spsExt, []);
    assert.equal(parseAvcC(AVCC_MAIN_1080).chromaFormat, undefined);
  });

  test('parseAvcC() throws ParseError on every truncation of a record', () => {
    for (let n = 0; n < AVCC_MAIN_1080.length; n++) {
      assert.throws(() => parseAvcC(AVCC_MAIN_1080.subarray(0, n)), ParseError, `length ${n}`);
    }
  });
});

describe('parameter sets before keyframes', () => {
  test('ensureParameterSets() prepends SPS and PPS to a keyframe without them', () => {
    assert.deepEqual(splitAvcc(ensureParameterSets(keyframe(IDR), SPS, PPS).data), [SPS, PPS, IDR]);
  });

  test('ensureParameterSets() keeps a leading access unit delimiter first', () => {
    assert.deepEqual(splitAvcc(ensureParameterSets(keyframe(AUD, SEI, IDR), SPS, PPS).data), [
      AUD,
      SPS,
      PPS,
      SEI,
      IDR,
    ]);
  });

  test('ensureParameterSets() adds only the missing PPS and keeps the in-band SPS in front of it', () => {
    const inband = hex('6742c0280000');
    assert.deepEqual(splitAvcc(ensureParameterSets(keyframe(inband, IDR), SPS, PPS).data), [
      inband,
      PPS,
      IDR,
    ]);
  });

  test('ensureParameterSets() returns the same frame when nothing is missing or it is not a keyframe', () => {
    const full = keyframe(SPS, PPS, IDR);
    assert.equal(ensureParameterSets(full, SPS, PPS), full);
    const delta: Frame = { pts: 0, dts: 0, keyframe: false, data: joinAvcc([SLICE]) };
    assert.equal(ensureParameterSets(delta, SPS, PPS), delta);
    const bare = keyframe(IDR);
    assert.equal(ensureParameterSets(bare), bare);
  });

  test('H264ParameterSets.fromFmtp() seeds the tracker and ensure() prefers parameter sets seen in-band later', () => {
    const t = H264ParameterSets.fromFmtp(h264FmtpFromParams(SPS, PPS));
    assert.deepEqual([t.sps, t.pps], [SPS, PPS]);
    const newSps = H264_SAMPLES[1].sps;
    t.ensure(keyframe(newSps, PPS, IDR));
    assert.deepEqual(t.sps, newSps);
    assert.deepEqual(splitAvcc(t.ensure(keyframe(IDR)).data), [newSps, PPS, IDR]);
  });

  test('H264ParameterSets stores copies, not views of the frames it saw', () => {
    const t = new H264ParameterSets();
    const data = joinAvcc([SPS]);
    t.observeAll(splitAvcc(data));
    data.fill(0);
    assert.deepEqual(t.sps, SPS);
  });

  test('H264ParameterSets.fromFmtp() ignores a malformed sprop-parameter-sets', () => {
    const t = H264ParameterSets.fromFmtp({ 'sprop-parameter-sets': '%%%' });
    assert.equal(t.sps, undefined);
  });

  test('isH264Keyframe() is true only for frames with an IDR slice', () => {
    assert.equal(isH264Keyframe(joinAvcc([SPS, PPS, IDR])), true);
    assert.equal(isH264Keyframe(joinAvcc([SPS, PPS, SLICE])), false);
  });
});
