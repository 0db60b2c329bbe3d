import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ParseError } from '../../../src/core/errors.ts';
import { buildAvcC } from '../../../src/formats/mp4/avc.ts';
import { box, fourcc, fullBox, u32 } from '../../../src/formats/mp4/box-writer.ts';
import { rescaleTime, sampleFrame, trackFrames } from '../../../src/formats/mp4/frame.ts';
import { readMp4 } from '../../../src/formats/mp4/reader.ts';
import type { Mp4Track } from '../../../src/formats/mp4/types.ts';
import { avc1Entry, avccSample, type CraftTrack, craftMp4, DEMO_PPS, DEMO_SPS, opusEntry } from './craft.ts';

const DEMO = readFileSync(new URL('../../../assets/demo.mp4', import.meta.url));
const DEMO_FPS = 25;
const DEMO_SECONDS = 10;
const H264_NAL_IDR = 5;

/** The NAL unit types of 4-byte-length AVCC data; fails if the lengths do not end exactly at the end. */
function nalTypes(data: Buffer): number[] {
  const types: number[] = [];
  let at = 0;
  while (at < data.length) {
    const len = data.readUInt32BE(at);
    types.push(data[at + 4] & 0x1f);
    at += 4 + len;
  }
  assert.equal(at, data.length);
  return types;
}

function videoTrack(samples: Buffer[], extra: Partial<CraftTrack> = {}): CraftTrack {
  return {
    id: 1,
    handler: 'vide',
    timescale: 90000,
    sampleEntry: avc1Entry(),
    samples,
    durations: samples.map(() => 3000),
    ...extra,
  };
}

const tiny = (n: number, len = 5) =>
  Array.from({ length: n }, (_, i) => avccSample([Buffer.alloc(len, i + 1)]));

describe('readMp4() of assets/demo.mp4', () => {
  const file = readMp4(DEMO);
  const [video, audio] = file.tracks as [Mp4Track, Mp4Track];

  test('readMp4() reads the brands, the movie duration and two tracks', () => {
    assert.equal(file.majorBrand, 'isom');
    assert.equal(file.duration / file.timescale, DEMO_SECONDS);
    assert.equal(file.fragmented, false);
    assert.deepEqual(
      file.tracks.map((t) => t.kind),
      ['video', 'audio'],
    );
    assert.deepEqual(file.skipped, []);
  });

  test('readMp4() gives H.264 640x360 with fmtp and a 4-byte-length avcC', () => {
    assert.equal(video.codec.name, 'H264');
    assert.equal(video.codec.clockRate, 90000);
    assert.equal(video.codec.fmtp?.['packetization-mode'], '1');
    assert.equal(video.codec.fmtp?.['profile-level-id'], '4d401e');
    assert.match(video.codec.fmtp?.['sprop-parameter-sets'] ?? '', /^Z[^,]+,aO/);
    assert.deepEqual([video.width, video.height], [640, 360]);
    assert.equal(video.nalLengthSize, 4);
    assert.equal((video.avcC?.[4] ?? 0) & 3, 3);
  });

  test('readMp4() gives 250 video samples with increasing dts and a keyframe every 25', () => {
    assert.equal(video.samples.length, DEMO_FPS * DEMO_SECONDS);
    for (let i = 1; i < video.samples.length; i++) assert.ok(video.samples[i].dts > video.samples[i - 1].dts);
    const keys = video.samples.flatMap((s, i) => (s.keyframe ? [i] : []));
    assert.deepEqual(
      keys,
      Array.from({ length: DEMO_SECONDS }, (_, i) => i * DEMO_FPS),
    );
    assert.ok(video.samples.every((s) => s.pts === s.dts && s.duration === video.timescale / DEMO_FPS));
    assert.equal(video.duration / video.timescale, DEMO_SECONDS);
  });

  test('readMp4() gives Opus 48 kHz mono with 20 ms packets', () => {
    assert.deepEqual(audio.codec, { name: 'OPUS', clockRate: 48000, channels: 1 });
    assert.equal(audio.timescale, 48000);
    assert.ok(audio.samples.length >= 500);
    assert.ok(audio.samples.every((s) => s.keyframe));
    assert.ok(
      audio.samples.slice(0, -1).every((s) => s.duration === 960),
      'all but the last packet',
    );
    assert.equal(audio.dOps?.readUInt16BE(2), 312, 'libopus pre-skip');
  });

  test('readMp4() does not modify its input', () => {
    const copy = Buffer.from(DEMO);
    readMp4(copy);
    assert.ok(copy.equals(DEMO));
  });

  test('sampleFrame() returns a view of the file with times in the codec clock rate', () => {
    const frame = sampleFrame(DEMO, video, video.samples[DEMO_FPS]);
    assert.equal(frame.pts, 90000);
    assert.equal(frame.dts, 90000);
    assert.equal(frame.keyframe, true);
    assert.equal(frame.data.buffer, DEMO.buffer);
    assert.ok(nalTypes(frame.data).includes(H264_NAL_IDR));
    const a = sampleFrame(DEMO, audio, audio.samples[50]);
    assert.equal(a.pts, 50 * 960);
  });

  test('trackFrames() yields one frame per sample, each AVCC ending exactly at the sample end', () => {
    let n = 0;
    for (const frame of trackFrames(DEMO, video)) {
      nalTypes(frame.data);
      n++;
    }
    assert.equal(n, video.samples.length);
  });
});

describe('readMp4() of crafted files', () => {
  test('readMp4() applies ctts version 1 with negative offsets', () => {
    const offsets = [0, 6000, -3000, -3000, 3000];
    const file = readMp4(craftMp4([videoTrack(tiny(5), { ctts: { version: 1, offsets } })]));
    assert.deepEqual(
      file.tracks[0].samples.map((s) => s.pts - s.dts),
      offsets,
    );
  });

  test('readMp4() applies ctts version 0', () => {
    const offsets = [3000, 9000, 0, 0, 6000];
    const file = readMp4(craftMp4([videoTrack(tiny(5), { ctts: { version: 0, offsets } })]));
    assert.deepEqual(
      file.tracks[0].samples.map((s) => s.pts),
      [3000, 12000, 6000, 9000, 18000],
    );
  });

  test('readMp4() marks only the stss samples as keyframes, or all of them without stss', () => {
    const withStss = readMp4(craftMp4([videoTrack(tiny(4), { sync: [1, 3] })])).tracks[0];
    assert.deepEqual(
      withStss.samples.map((s) => s.keyframe),
      [true, false, true, false],
    );
    const without = readMp4(craftMp4([videoTrack(tiny(4))])).tracks[0];
    assert.ok(without.samples.every((s) => s.keyframe));
  });

  const layouts: { name: string; extra: Partial<CraftTrack> }[] = [
    { name: 'stz2 with 4-bit sizes', extra: { stz2: 4 } },
    { name: 'stz2 with 8-bit sizes', extra: { stz2: 8 } },
    { name: 'stz2 with 16-bit sizes', extra: { stz2: 16 } },
    { name: 'a constant stsz sample_size', extra: { constantSize: true } },
    { name: 'co64 chunk offsets', extra: { co64: true } },
    {
      name: '3 samples per chunk and a shorter last chunk (two stsc entries)',
      extra: { samplesPerChunk: 3 },
    },
  ];
  for (const l of layouts) {
    test(`readMp4() resolves sample offsets and sizes from ${l.name}`, () => {
      const samples = l.extra.constantSize
        ? tiny(7, 6)
        : tiny(7, 1).map((s, i) => s.subarray(0, 4 + 1 + (i % 3)));
      const file = craftMp4([videoTrack(samples, l.extra)]);
      const track = readMp4(file).tracks[0];
      assert.deepEqual(
        track.samples.map((s) => file.subarray(s.offset, s.offset + s.size)),
        samples,
      );
      assert.deepEqual(
        track.samples.map((s) => s.dts),
        [0, 3000, 6000, 9000, 12000, 15000, 18000],
      );
    });
  }

  test('readMp4() finds the data of two interleaved tracks', () => {
    const v = tiny(3);
    const a = [Buffer.from([1, 2]), Buffer.from([3]), Buffer.from([4, 5, 6])];
    const buf = craftMp4([
      videoTrack(v),
      {
        id: 2,
        handler: 'soun',
        timescale: 48000,
        sampleEntry: opusEntry(2),
        samples: a,
        durations: [960, 960, 960],
      },
    ]);
    const file = readMp4(buf);
    assert.deepEqual(file.tracks[1].codec, { name: 'OPUS', clockRate: 48000, channels: 2 });
    assert.deepEqual(
      file.tracks[1].samples.map((s) => sampleFrame(buf, file.tracks[1], s).data),
      a,
    );
  });

  test('sampleFrame() rewrites 2-byte NAL lengths to 4 bytes and the track avcC says 4', () => {
    const avcC = buildAvcC([DEMO_SPS], [DEMO_PPS]);
    avcC[4] = 0xfd;
    const nals = [Buffer.from([0x65, 1, 2, 3]), Buffer.from([0x06, 9])];
    const buf = craftMp4([videoTrack([avccSample(nals, 2)], { sampleEntry: avc1Entry(640, 360, avcC) })]);
    const track = readMp4(buf).tracks[0];
    assert.equal(track.nalLengthSize, 2);
    assert.equal((track.avcC?.[4] ?? 0) & 3, 3);
    assert.deepEqual(sampleFrame(buf, track, track.samples[0]).data, avccSample(nals, 4));
  });

  test('sampleFrame() throws ParseError when a 2-byte NAL length runs past the sample', () => {
    const avcC = buildAvcC([DEMO_SPS], [DEMO_PPS]);
    avcC[4] = 0xfd;
    const buf = craftMp4([
      videoTrack([Buffer.from([0, 9, 0x65])], { sampleEntry: avc1Entry(640, 360, avcC) }),
    ]);
    const track = readMp4(buf).tracks[0];
    assert.throws(() => sampleFrame(buf, track, track.samples[0]), ParseError);
  });

  test('readMp4() skips unknown boxes and edit lists and reads largesize and size-0 mdat', () => {
    const elst = fullBox('elst', 0, 0, u32(1, 9000, 3000, 0x10000));
    const track = videoTrack(tiny(2), {
      extraStbl: [box('sgpd', Buffer.alloc(9)), box('zzzz')],
      extraTrak: [box('edts', elst), box('udta', box('name', Buffer.from('x')))],
    });
    for (const opts of [
      { largeMdat: true },
      { mdatToEnd: true },
      { extraTop: [box('free', Buffer.alloc(3))] },
    ]) {
      const buf = craftMp4([track], opts);
      assert.equal(readMp4(buf).tracks[0].samples.length, 2, JSON.stringify(opts));
    }
  });

  test('readMp4() lists tracks it cannot read in skipped', () => {
    const buf = craftMp4([
      videoTrack(tiny(1)),
      { ...videoTrack(tiny(1)), id: 2, handler: 'text', sampleEntry: box('tx3g', Buffer.alloc(8)) },
      { ...videoTrack(tiny(1)), id: 3, sampleEntry: box('mp4v', Buffer.alloc(78)) },
    ]);
    const file = readMp4(buf);
    assert.deepEqual(
      file.tracks.map((t) => t.id),
      [1],
    );
    assert.deepEqual(file.skipped, [
      { id: 2, format: 'text' },
      { id: 3, format: 'mp4v' },
    ]);
  });

  const broken: { name: string; buf: () => Buffer }[] = [
    { name: 'there is no moov', buf: () => box('ftyp', fourcc('isom'), u32(0)) },
    {
      name: 'a sample lies past the end of the input',
      buf: () => craftMp4([videoTrack(tiny(3))]).subarray(0, -1),
    },
    {
      name: 'stts covers fewer samples than stsz',
      buf: () => craftMp4([videoTrack(tiny(3), { durations: [1, 1] })], { mdatToEnd: true }),
    },
    {
      name: 'the chunks hold fewer samples than stsz',
      buf: () => craftMp4([videoTrack(tiny(3), { samplesPerChunk: 2, co64: true })]),
    },
  ];
  for (const b of broken) {
    test(`readMp4() throws ParseError when ${b.name}`, () => {
      let buf = b.buf();
      if (b.name.startsWith('the chunks')) {
        // Claim 1 sample per chunk: 2 chunks then hold 2 of the 3 samples.
        const at = buf.indexOf('stsc') + 12;
        buf = Buffer.from(buf);
        buf.writeUInt32BE(1, at + 4);
        buf.writeUInt32BE(1, at + 16);
      }
      assert.throws(() => readMp4(buf), ParseError);
    });
  }
});

describe('rescaleTime()', () => {
  test('rescaleTime() converts between timescales without losing precision on large values', () => {
    assert.equal(rescaleTime(512, 12800, 90000), 3600);
    assert.equal(rescaleTime(-1024, 12800, 90000), -7200);
    assert.equal(rescaleTime(2 ** 50 * 12800 + 512, 12800, 90000), 2 ** 50 * 90000 + 3600);
    assert.equal(rescaleTime(1, 3, 2), 1);
    assert.equal(rescaleTime(7, 48000, 48000), 7);
  });
});
