import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildHvcC,
  ensureH265ParameterSets,
  H265ParameterSets,
  h265CodecString,
  h265CodecStringFromSps,
  h265FmtpFromParams,
  hvcCParameterSets,
  isH265Keyframe,
  joinAvcc,
  parseH265Sprop,
  parseH265Sps,
  parseHvcC,
  splitAvcc,
} from '../../../../src/codecs/h265/index.ts';
import { ParseError } from '../../../../src/core/errors.ts';
import type { Frame } from '../../../../src/core/media.ts';
import { H265_SAMPLES, HVCC_MAIN_720, HVCC_MAIN10_1080, hex } from '../fixtures.ts';

const { vps: VPS, sps: SPS, pps: PPS } = H265_SAMPLES[0];
const IDR = hex('2601af0911'); // IDR_W_RADL
const CRA = hex('2a01af0911'); // CRA_NUT
const TRAIL = hex('0201d00911');
const AUD = hex('460150');
const keyframe = (...nals: Buffer[]): Frame => ({ pts: 0, dts: 0, keyframe: true, data: joinAvcc(nals) });

describe('parseH265Sps', () => {
  for (const s of H265_SAMPLES) {
    test(`parseH265Sps() reads ${s.name}`, () => {
      const before = Buffer.from(s.sps);
      const sps = parseH265Sps(s.sps);
      assert.equal(sps.width, s.width);
      assert.equal(sps.height, s.height);
      assert.equal(sps.profileIdc, s.profileIdc);
      assert.equal(sps.levelIdc, s.levelIdc);
      assert.equal(sps.tierFlag, 0);
      assert.equal(sps.chromaFormatIdc, s.chromaFormatIdc);
      assert.equal(sps.bitDepthLuma, s.bitDepth);
      assert.equal(sps.maxSubLayers, 1);
      assert.deepEqual(s.sps, before, 'input not modified');
    });

    test(`h265CodecStringFromSps() returns ${s.codec} for ${s.name}`, () => {
      assert.equal(h265CodecStringFromSps(s.sps), s.codec);
    });
  }

  test('parseH265Sps() throws ParseError for a NAL unit that is not an SPS', () => {
    assert.throws(() => parseH265Sps(VPS), /not an SPS/);
  });

  test('parseH265Sps() throws ParseError for every truncation before the bit depths', () => {
    for (let n = 0; n < 24; n++)
      assert.throws(() => parseH265Sps(SPS.subarray(0, n)), ParseError, `length ${n}`);
  });

  test('parseH265Sps() reads sub-layer profile fields when there are several sub-layers', () => {
    // The main 720p SPS with sps_max_sub_layers_minus1 = 1 and no sub-layer profile or level: 2 flag
    // bits and 14 reserved bits (two zero bytes) go after general_level_idc (0x5d at offset 17).
    const nal = Buffer.from(SPS);
    nal[2] = 0x03; // vps 0, max_sub_layers_minus1 1, nesting 1
    const sps = parseH265Sps(
      Buffer.concat([nal.subarray(0, 18), Buffer.from([0x00, 0x00]), nal.subarray(18)]),
    );
    assert.equal(sps.maxSubLayers, 2);
    assert.equal(sps.levelIdc, 93);
    assert.equal(sps.width, 1280);
    assert.equal(sps.height, 720);
  });
});

describe('hvcC', () => {
  test('buildHvcC() writes the same bytes as ffmpeg for Main and Main 10', () => {
    assert.deepEqual(buildHvcC(VPS, SPS, PPS), HVCC_MAIN_720);
    const m10 = H265_SAMPLES[3];
    assert.deepEqual(buildHvcC(m10.vps, m10.sps, m10.pps), HVCC_MAIN10_1080);
  });

  test('parseHvcC() reads back the profile, level and parameter sets', () => {
    const c = parseHvcC(HVCC_MAIN10_1080);
    assert.equal(c.profileIdc, 2);
    assert.equal(c.levelIdc, 120);
    assert.equal(c.bitDepthLuma, 10);
    assert.equal(c.chromaFormat, 1);
    assert.equal(c.lengthSize, 4);
    assert.equal(c.numTemporalLayers, 1);
    assert.equal(c.temporalIdNested, true);
    assert.equal(h265CodecString(c), 'hvc1.2.4.L120.90');
    const m10 = H265_SAMPLES[3];
    assert.deepEqual(hvcCParameterSets(c), { vps: m10.vps, sps: m10.sps, pps: m10.pps });
    assert.deepEqual(
      c.arrays.map((a) => [a.type, a.complete]),
      [
        [32, true],
        [33, true],
        [34, true],
      ],
    );
  });

  test('parseHvcC() throws ParseError on every truncation of a record', () => {
    for (let n = 0; n < HVCC_MAIN_720.length; n++) {
      assert.throws(() => parseHvcC(HVCC_MAIN_720.subarray(0, n)), ParseError, `length ${n}`);
    }
  });
});

describe('H.265 fmtp and codec string', () => {
  test('h265FmtpFromParams() and parseH265Sprop() round-trip the parameter sets', () => {
    const fmtp = h265FmtpFromParams(VPS, SPS, PPS);
    assert.deepEqual(Object.keys(fmtp), [
      'profile-id',
      'tier-flag',
      'level-id',
      'sprop-vps',
      'sprop-sps',
      'sprop-pps',
    ]);
    assert.equal(fmtp['profile-id'], '1');
    assert.equal(fmtp['level-id'], '93');
    assert.deepEqual(parseH265Sprop(fmtp), { vps: VPS, sps: SPS, pps: PPS });
  });

  test('h265CodecString() writes tier H, profile space letters and keeps one constraint byte when all are zero', () => {
    const ptl = {
      profileSpace: 1,
      tierFlag: 1,
      profileIdc: 1,
      profileCompatibilityFlags: 0x60000000,
      constraintIndicatorFlags: Buffer.alloc(6),
      levelIdc: 150,
    };
    assert.equal(h265CodecString(ptl, 'hev1'), 'hev1.A1.6.H150.0');
  });
});

describe('H.265 parameter sets before keyframes', () => {
  test('ensureH265ParameterSets() prepends VPS, SPS and PPS to an IRAP frame after its delimiter', () => {
    assert.deepEqual(splitAvcc(ensureH265ParameterSets(keyframe(AUD, CRA), VPS, SPS, PPS).data), [
      AUD,
      VPS,
      SPS,
      PPS,
      CRA,
    ]);
  });

  test('ensureH265ParameterSets() returns the frame itself when it has them or is not a keyframe', () => {
    const full = keyframe(VPS, SPS, PPS, IDR);
    assert.equal(ensureH265ParameterSets(full, VPS, SPS, PPS), full);
    const delta: Frame = { pts: 0, dts: 0, keyframe: false, data: joinAvcc([TRAIL]) };
    assert.equal(ensureH265ParameterSets(delta, VPS, SPS, PPS), delta);
  });

  test('H265ParameterSets.fromFmtp() seeds VPS, SPS and PPS', () => {
    const t = H265ParameterSets.fromFmtp(h265FmtpFromParams(VPS, SPS, PPS));
    assert.deepEqual([t.vps, t.sps, t.pps], [VPS, SPS, PPS]);
    assert.deepEqual(splitAvcc(t.ensure(keyframe(IDR)).data), [VPS, SPS, PPS, IDR]);
  });

  test('isH265Keyframe() is true for IDR and CRA and false for trailing pictures', () => {
    assert.equal(isH265Keyframe(joinAvcc([IDR])), true);
    assert.equal(isH265Keyframe(joinAvcc([CRA])), true);
    assert.equal(isH265Keyframe(joinAvcc([VPS, SPS, PPS, TRAIL])), false);
  });
});
