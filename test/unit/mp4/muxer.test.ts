import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError, UnsupportedError } from '../../../src/core/errors.ts';
import { buildAvcC } from '../../../src/formats/mp4/avc.ts';
import { readBoxes } from '../../../src/formats/mp4/box.ts';
import { fragment } from '../../../src/formats/mp4/fragment.ts';
import { initSegment } from '../../../src/formats/mp4/init-segment.ts';
import { readMp4 } from '../../../src/formats/mp4/reader.ts';
import type { Mp4FragmentSample, Mp4TrackInfo } from '../../../src/formats/mp4/types.ts';
import { DEMO_PPS, DEMO_SPS } from './craft.ts';
import { parseFragment } from './fmp4-parse.ts';

const SPROP = `${DEMO_SPS.toString('base64')},${DEMO_PPS.toString('base64')}`;
const HEVC_FMTP = {
  'sprop-vps': 'QAEMAf//AWAAAAMAkAAAAwAAAwA8lZQJ',
  'sprop-sps': 'QgEBAWAAAAMAkAAAAwAAAwA8oAoIDxZZWWSTK8BaAgAAAwACAAADADIQ',
  'sprop-pps': 'RAHBcrRiQA==',
};
const H264: Mp4TrackInfo = {
  id: 1,
  codec: { name: 'H264', clockRate: 90000, fmtp: { 'sprop-parameter-sets': SPROP } },
  timescale: 90000,
  width: 640,
  height: 360,
};
const H265: Mp4TrackInfo = {
  id: 3,
  codec: { name: 'H265', clockRate: 90000, fmtp: HEVC_FMTP },
  timescale: 90000,
  width: 320,
  height: 240,
};
const AAC: Mp4TrackInfo = {
  id: 2,
  codec: { name: 'AAC', clockRate: 44100, channels: 2, fmtp: { config: '1210' } },
  timescale: 44100,
};
const OPUS: Mp4TrackInfo = {
  id: 4,
  codec: { name: 'OPUS', clockRate: 48000, channels: 2 },
  timescale: 48000,
};
const SYNC = 0x02000000;
const NON_SYNC = 0x01010000;

function samples(n: number, step: number, ctos: number[] = []): Mp4FragmentSample[] {
  return Array.from({ length: n }, (_, i) => ({
    data: Buffer.alloc(10 + i, i + 1),
    dts: 1000 + i * step,
    pts: 1000 + i * step + (ctos[i] ?? 0),
    duration: step,
    keyframe: i === 0,
  }));
}

describe('initSegment()', () => {
  test('initSegment() writes ftyp and a moov that readMp4() reads back track by track', () => {
    const init = initSegment([H264, AAC, H265, OPUS]);
    assert.deepEqual(
      readBoxes(init, 0, init.length).map((b) => b.type),
      ['ftyp', 'moov'],
    );
    const file = readMp4(init);
    assert.equal(file.majorBrand, 'iso5');
    assert.equal(file.fragmented, true);
    const [h264, aac, h265, opus] = file.tracks;
    assert.deepEqual(
      file.tracks.map((t) => [t.id, t.codec.name, t.timescale, t.samples.length]),
      [
        [1, 'H264', 90000, 0],
        [2, 'AAC', 44100, 0],
        [3, 'H265', 90000, 0],
        [4, 'OPUS', 48000, 0],
      ],
    );
    assert.deepEqual([h264.width, h264.height, h265.width, h265.height], [640, 360, 320, 240]);
    assert.equal(h264.codec.fmtp?.['sprop-parameter-sets'], SPROP);
    assert.deepEqual(h264.avcC, buildAvcC([DEMO_SPS], [DEMO_PPS]));
    assert.equal(h265.codec.fmtp?.['sprop-sps'], HEVC_FMTP['sprop-sps']);
    assert.deepEqual(
      [aac.codec.clockRate, aac.codec.channels, aac.codec.fmtp?.['config']],
      [44100, 2, '1210'],
    );
    assert.deepEqual([opus.codec.channels, opus.dOps?.length], [2, 11]);
  });

  test('initSegment() prefers the raw records of a track over its fmtp', () => {
    const avcC = buildAvcC([DEMO_SPS], [DEMO_PPS, Buffer.from([0x68, 0xee])]);
    const dOps = Buffer.from('000101380000bb80000000', 'hex');
    const init = initSegment([
      { ...H264, codec: { name: 'H264', clockRate: 90000 }, avcC },
      { ...OPUS, dOps },
    ]);
    const [v, a] = readMp4(init).tracks;
    assert.deepEqual(v.avcC, avcC);
    assert.deepEqual(a.dOps, dOps);
    assert.equal(a.codec.channels, 1);
  });

  test('initSegment() throws BadRequestError for no tracks, duplicate ids, a bad timescale or missing config', () => {
    assert.throws(() => initSegment([]), BadRequestError);
    assert.throws(() => initSegment([H264, { ...AAC, id: 1 }]), BadRequestError);
    assert.throws(() => initSegment([{ ...H264, timescale: 0 }]), BadRequestError);
    assert.throws(() => initSegment([{ ...H264, id: 0 }]), BadRequestError);
    assert.throws(
      () => initSegment([{ ...H264, codec: { name: 'H264', clockRate: 90000 } }]),
      BadRequestError,
    );
    assert.throws(() => initSegment([{ ...AAC, codec: { name: 'AAC', clockRate: 44100 } }]), BadRequestError);
    assert.throws(() => initSegment([{ ...H264, avcC: Buffer.from([1, 2, 3]) }]), BadRequestError);
    assert.throws(() => initSegment([{ ...OPUS, dOps: Buffer.alloc(4) }]), BadRequestError);
    assert.throws(
      () => initSegment([{ ...AAC, audioSpecificConfig: Buffer.from([0x16, 0x90]) }]),
      BadRequestError,
    );
  });

  test('initSegment() writes avc3 for an avcC without parameter sets (they come in-band)', () => {
    const avcC = buildAvcC([DEMO_SPS], [DEMO_PPS]);
    const empty = Buffer.from([...avcC.subarray(0, 5), 0xe0, 0]);
    const init = initSegment([{ ...H264, avcC: empty }]);
    assert.ok(init.includes('avc3'));
    assert.ok(!initSegment([H264]).includes('avc3'));
    assert.deepEqual(readMp4(init).tracks[0].avcC, empty);
  });

  test('initSegment() throws UnsupportedError for a codec it cannot put into MP4', () => {
    assert.throws(
      () => initSegment([{ id: 1, codec: { name: 'PCMA', clockRate: 8000 }, timescale: 8000 }]),
      UnsupportedError,
    );
  });
});

describe('fragment()', () => {
  test('fragment() writes mfhd, tfhd, a 64-bit tfdt and a trun whose data offsets point at each sample', () => {
    const v = samples(5, 3000);
    const a = samples(3, 1024).map((s) => ({ ...s, keyframe: true }));
    const frag = fragment(7, [
      { id: 1, samples: v },
      { id: 2, samples: a },
    ]);
    const parsed = parseFragment(frag);
    assert.equal(parsed.sequence, 7);
    assert.deepEqual(
      parsed.trafs.map((t) => [t.id, t.tfhdFlags, t.tfdtVersion, t.baseDts, t.trunVersion]),
      [
        [1, 0x020000, 1, 1000, 0],
        [2, 0x020000, 1, 1000, 0],
      ],
    );
    assert.deepEqual(
      parsed.trafs[0].samples.map((s) => [s.data, s.duration, s.flags]),
      v.map((s, i) => [s.data, 3000, i === 0 ? SYNC : NON_SYNC]),
    );
    assert.deepEqual(
      parsed.trafs[1].samples.map((s) => [s.data, s.flags]),
      a.map((s) => [s.data, SYNC]),
    );
    const dataBytes = [...v, ...a].reduce((n, s) => n + s.data.length, 0);
    assert.equal(parsed.mdatSize, 8 + dataBytes);
  });

  test('fragment() writes signed composition offsets with trun version 1 when pts differs from dts', () => {
    const ctos = [3000, 9000, -3000, 0];
    const parsed = parseFragment(fragment(1, [{ id: 1, samples: samples(4, 3000, ctos) }]));
    const [traf] = parsed.trafs;
    assert.equal(traf.trunVersion, 1);
    assert.equal(traf.trunFlags & 0x800, 0x800);
    assert.deepEqual(
      traf.samples.map((s) => s.cto),
      ctos,
    );
  });

  test('fragment() leaves out tracks without samples and keeps a tfdt beyond 2^32', () => {
    const big = 2 ** 40 + 5;
    const parsed = parseFragment(
      fragment(2, [
        { id: 1, samples: [] },
        { id: 2, samples: [{ data: Buffer.from([1]), dts: big, duration: 1024, keyframe: true }] },
      ]),
    );
    assert.deepEqual(
      parsed.trafs.map((t) => [t.id, t.baseDts]),
      [[2, big]],
    );
  });

  test('fragment() does not modify the sample data it is given', () => {
    const v = samples(3, 3000);
    const copies = v.map((s) => Buffer.from(s.data));
    fragment(1, [{ id: 1, samples: v }]);
    assert.deepEqual(
      v.map((s) => s.data),
      copies,
    );
  });

  test('fragment() throws BadRequestError for a bad sequence, dts, duration or composition offset', () => {
    const one = (s: Partial<Mp4FragmentSample>) => [
      { id: 1, samples: [{ data: Buffer.alloc(1), dts: 0, duration: 1, keyframe: true, ...s }] },
    ];
    assert.throws(() => fragment(-1, one({})), BadRequestError);
    assert.throws(() => fragment(1, one({ dts: -1 })), BadRequestError);
    assert.throws(() => fragment(1, one({ duration: 1.5 })), BadRequestError);
    assert.throws(() => fragment(1, one({ pts: 2 ** 31 })), BadRequestError);
  });
});
