import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError, ParseError } from '../../../src/core/errors.ts';
import {
  buildDOps,
  buildEsDescriptor,
  parseAudioSpecificConfig,
  parseDOps,
  parseEsds,
} from '../../../src/formats/mp4/audio-config.ts';
import {
  avcCFromFmtp,
  buildAvcC,
  buildHvcC,
  h264Fmtp,
  h265Fmtp,
  hvcCFromFmtp,
  parseAvcC,
  parseHvcC,
  withLengthSize4,
} from '../../../src/formats/mp4/avc.ts';
import { DEMO_PPS, DEMO_SPS } from './craft.ts';

// VPS, SPS and PPS of a 320x240 libx265 (Main, level 2) encode; the hvcC header x265 wrote for them.
const HEVC_VPS = Buffer.from('QAEMAf//AWAAAAMAkAAAAwAAAwA8lZQJ', 'base64');
const HEVC_SPS = Buffer.from('QgEBAWAAAAMAkAAAAwAAAwA8oAoIDxZZWWSTK8BaAgAAAwACAAADADIQ', 'base64');
const HEVC_PPS = Buffer.from('RAHBcrRiQA==', 'base64');
const X265_HVCC_HEADER = Buffer.from('0101600000009000000000003cf000fcfdf8f800000f', 'hex');

/** Every strict prefix of `buf` must make `parse` throw ParseError and nothing else. */
function assertPrefixesThrow(buf: Buffer, parse: (b: Buffer) => unknown): void {
  for (let n = 0; n < buf.length; n++) {
    try {
      parse(buf.subarray(0, n));
    } catch (err) {
      assert.ok(err instanceof ParseError, `prefix ${n}: ${err}`);
    }
  }
}

describe('mp4 avcC / hvcC', () => {
  const cases = [
    { name: 'one SPS and one PPS', sps: [DEMO_SPS], pps: [DEMO_PPS] },
    {
      name: 'two of each',
      sps: [DEMO_SPS, DEMO_SPS.subarray(0, 6)],
      pps: [DEMO_PPS, Buffer.from([0x68, 1])],
    },
  ];
  for (const c of cases) {
    test(`parseAvcC() reads back buildAvcC() with ${c.name}`, () => {
      const rec = buildAvcC(c.sps, c.pps);
      const config = parseAvcC(rec);
      assert.deepEqual(config.sps, c.sps);
      assert.deepEqual(config.pps, c.pps);
      assert.equal(config.nalLengthSize, 4);
      assert.deepEqual([config.profile, config.compatibility, config.level], [0x4d, 0x40, 0x1e]);
    });
  }

  test('parseAvcC() reads the length size and rejects 3-byte lengths', () => {
    const rec = buildAvcC([DEMO_SPS], [DEMO_PPS]);
    rec[4] = 0xfd;
    assert.equal(parseAvcC(rec).nalLengthSize, 2);
    assert.equal(parseAvcC(withLengthSize4(rec, 'avcC')).nalLengthSize, 4);
    assert.equal(rec[4], 0xfd, 'withLengthSize4() copies');
    rec[4] = 0xfe;
    assert.throws(() => parseAvcC(rec), ParseError);
  });

  test('parseAvcC() throws only ParseError for every truncation', () => {
    assertPrefixesThrow(buildAvcC([DEMO_SPS], [DEMO_PPS]), parseAvcC);
  });

  test('h264Fmtp() gives packetization-mode 1, profile-level-id and sprop-parameter-sets', () => {
    assert.deepEqual(h264Fmtp(parseAvcC(buildAvcC([DEMO_SPS], [DEMO_PPS]))), {
      'packetization-mode': '1',
      'profile-level-id': '4d401e',
      'sprop-parameter-sets': `${DEMO_SPS.toString('base64')},${DEMO_PPS.toString('base64')}`,
    });
  });

  test('avcCFromFmtp() sorts sprop-parameter-sets into SPS and PPS by NAL type', () => {
    const fmtp = { 'sprop-parameter-sets': `${DEMO_PPS.toString('base64')},${DEMO_SPS.toString('base64')}` };
    assert.deepEqual(avcCFromFmtp(fmtp), buildAvcC([DEMO_SPS], [DEMO_PPS]));
    assert.throws(() => avcCFromFmtp({}), BadRequestError);
  });

  test('buildHvcC() copies the general profile/tier/level from the SPS as x265 does', () => {
    const rec = buildHvcC([HEVC_VPS], [HEVC_SPS], [HEVC_PPS]);
    assert.deepEqual(rec.subarray(0, X265_HVCC_HEADER.length), X265_HVCC_HEADER);
    const config = parseHvcC(rec);
    assert.deepEqual([config.vps, config.sps, config.pps], [[HEVC_VPS], [HEVC_SPS], [HEVC_PPS]]);
    assert.deepEqual(hvcCFromFmtp(h265Fmtp(config)), rec);
  });

  test('parseHvcC() throws only ParseError for every truncation', () => {
    assertPrefixesThrow(buildHvcC([HEVC_VPS], [HEVC_SPS], [HEVC_PPS]), parseHvcC);
  });

  test('buildHvcC() throws BadRequestError without VPS, SPS or PPS', () => {
    assert.throws(() => buildHvcC([], [HEVC_SPS], [HEVC_PPS]), BadRequestError);
    assert.throws(() => buildHvcC([HEVC_VPS], [HEVC_SPS.subarray(0, 10)], [HEVC_PPS]), BadRequestError);
  });
});

describe('mp4 esds / AudioSpecificConfig / dOps', () => {
  test('parseEsds() reads back buildEsDescriptor()', () => {
    const asc = Buffer.from('1190', 'hex');
    assert.deepEqual(parseEsds(buildEsDescriptor(asc)), { objectType: 0x40, decoderSpecificInfo: asc });
  });

  test('parseEsds() reads 4-byte descriptor sizes and skips optional ES fields', () => {
    // As written by QuickTime: sizes as 80 80 80 xx, URL flag set with a 2-byte URL.
    const asc = Buffer.from('1210', 'hex');
    const dsi = Buffer.from([0x05, 0x80, 0x80, 0x80, 2, ...asc]);
    const dc = Buffer.from([
      0x04,
      0x80,
      0x80,
      0x80,
      13 + dsi.length,
      0x40,
      0x15,
      ...Buffer.alloc(11),
      ...dsi,
    ]);
    const es = Buffer.from([0x03, 0x80, 0x80, 0x80, 3 + 3 + dc.length, 0, 1, 0x40, 2, 0x61, 0x62, ...dc]);
    assert.deepEqual(parseEsds(es).decoderSpecificInfo, asc);
  });

  test('parseEsds() throws only ParseError for every truncation', () => {
    assertPrefixesThrow(buildEsDescriptor(Buffer.from('1190', 'hex')), parseEsds);
  });

  const ascCases = [
    { hex: '1210', want: { objectType: 2, sampleRate: 44100, channels: 2 } },
    { hex: '1190', want: { objectType: 2, sampleRate: 48000, channels: 2 } },
    { hex: '1408', want: { objectType: 2, sampleRate: 16000, channels: 1 } },
    { hex: '2b8a0800', want: { objectType: 5, sampleRate: 22050, channels: 1 } },
    // escape: object type 31 + 6 bits (42 = 32 + 10), explicit 24-bit frequency 9600
    { hex: 'f95e004b0020', want: { objectType: 42, sampleRate: 9600, channels: 1 } },
  ];
  for (const c of ascCases) {
    test(`parseAudioSpecificConfig() reads ${c.hex}`, () => {
      assert.deepEqual(parseAudioSpecificConfig(Buffer.from(c.hex, 'hex')), c.want);
    });
  }

  test('parseAudioSpecificConfig() throws ParseError for a reserved frequency index or short input', () => {
    assert.throws(() => parseAudioSpecificConfig(Buffer.from('1690', 'hex')), ParseError);
    assert.throws(() => parseAudioSpecificConfig(Buffer.from('12', 'hex')), ParseError);
  });

  test('parseDOps() reads back buildDOps()', () => {
    assert.deepEqual(parseDOps(buildDOps(2, 312)), {
      channels: 2,
      preSkip: 312,
      inputSampleRate: 48000,
      mappingFamily: 0,
    });
    assertPrefixesThrow(buildDOps(1), parseDOps);
  });

  test('buildDOps() throws BadRequestError for more than 2 channels', () => {
    assert.throws(() => buildDOps(6), BadRequestError);
  });
});
