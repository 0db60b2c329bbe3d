/**
 * Seeded mutation fuzzing of the MP4 reader: whatever the bytes, `readMp4()`, `sampleFrame()` and the
 * record parsers may only throw ParseError. A failure prints the seed and case number to replay.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ParseError } from '../../../src/core/errors.ts';
import {
  buildDOps,
  buildEsDescriptor,
  parseAudioSpecificConfig,
  parseDOps,
  parseEsds,
} from '../../../src/formats/mp4/audio-config.ts';
import { buildAvcC, buildHvcC, parseAvcC, parseHvcC } from '../../../src/formats/mp4/avc.ts';
import { box, fullBox, u32 } from '../../../src/formats/mp4/box-writer.ts';
import { sampleFrame } from '../../../src/formats/mp4/frame.ts';
import { initSegment } from '../../../src/formats/mp4/init-segment.ts';
import { readMp4 } from '../../../src/formats/mp4/reader.ts';
import { avc1Entry, avccSample, craftMp4, DEMO_PPS, DEMO_SPS, mp4aEntry, opusEntry } from './craft.ts';

const SEED = 0x6d703466; // 'mp4f'
const DEMO_CASES = 3000;
const CRAFTED_CASES = 3000;
const RECORD_CASES = 3000;
/** The least share of fuzz cases that must be accepted (and, for the demo, rejected). */
const MIN_SHARE = 0.05;
const HEVC_VPS = Buffer.from('QAEMAf//AWAAAAMAkAAAAwAAAwA8lZQJ', 'base64');
const HEVC_SPS = Buffer.from('QgEBAWAAAAMAkAAAAwAAAwA8oAoIDxZZWWSTK8BaAgAAAwACAAADADIQ', 'base64');
const HEVC_PPS = Buffer.from('RAHBcrRiQA==', 'base64');
const DEMO = readFileSync(new URL('../../../assets/demo.mp4', import.meta.url));
/** Values that make sizes and counts lie: 0 (to end), 1 (largesize), tiny, huge, off by one. */
const INTERESTING_U32 = [
  0, 1, 2, 7, 8, 9, 16, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
];
const BOX_TYPES = new Set(
  'ftyp moov mvhd trak tkhd mdia mdhd hdlr minf vmhd smhd dinf dref stbl stsd avc1 avcC hvc1 hvcC mp4a esds Opus dOps stts ctts stss stsc stsz stz2 stco co64 edts elst mdat free udta mvex trex sgpd'.split(
    ' ',
  ),
);

/** xorshift32: small, fast and the same sequence on every run. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** Offsets of the size field of every known box header in `buf[from, to)`. */
function boxStarts(buf: Buffer, from = 0, to = buf.length): number[] {
  const starts: number[] = [];
  for (let i = from; i + 8 <= to; i++) {
    if (BOX_TYPES.has(buf.toString('latin1', i + 4, i + 8))) starts.push(i);
  }
  return starts;
}

/** Applies 1 to 4 random mutations inside `[from, to)` of `buf` in place. */
function mutate(buf: Buffer, from: number, to: number, starts: number[], rand: (n: number) => number): void {
  for (let m = 1 + rand(4); m > 0; m--) {
    const at = from + rand(Math.max(1, to - from - 4));
    switch (rand(5)) {
      case 0:
        buf[at] ^= 1 << rand(8);
        break;
      case 1:
        buf[at] = rand(256);
        break;
      case 2:
        buf.writeUInt32BE(INTERESTING_U32[rand(INTERESTING_U32.length)], at);
        break;
      default: {
        // A box that lies about its size: interesting values or a little more or less than the truth.
        const start = starts[rand(starts.length)];
        const truth = buf.readUInt32BE(start);
        const lie = rand(2) ? INTERESTING_U32[rand(INTERESTING_U32.length)] : truth + rand(33) - 16;
        buf.writeUInt32BE(lie >>> 0, start);
      }
    }
  }
}

/**
 * Reads `buf` and every sample of it; fails on anything thrown that is not a ParseError. Returns
 * true when the input was accepted, so a test can check that the mutations reach past the first box.
 */
function readAll(buf: Buffer, label: string): boolean {
  try {
    const file = readMp4(buf);
    for (const track of file.tracks) for (const s of track.samples) sampleFrame(buf, track, s);
    return true;
  } catch (err) {
    if (!(err instanceof ParseError)) assert.fail(`${label}: ${err instanceof Error ? err.stack : err}`);
    return false;
  }
}

function corpus(): Buffer[] {
  const frames = (n: number, lengthSize = 4) =>
    Array.from({ length: n }, (_, i) =>
      avccSample([Buffer.from([0x65, i]), Buffer.alloc(i % 4, 9)], lengthSize),
    );
  const video = { id: 1, handler: 'vide', timescale: 90000, durations: [3000, 3000, 3000, 3000, 3000] };
  const avcC2 = buildAvcC([DEMO_SPS], [DEMO_PPS]);
  avcC2[4] = 0xfd;
  const hvcC = buildHvcC([HEVC_VPS], [HEVC_SPS], [HEVC_PPS]);
  const audio = [Buffer.from([1, 2, 3]), Buffer.from([4]), Buffer.from([5, 6])];
  return [
    craftMp4([
      {
        ...video,
        sampleEntry: avc1Entry(),
        samples: frames(5),
        sync: [1, 4],
        ctts: { version: 1, offsets: [0, 6000, -3000, 0, 0] },
      },
    ]),
    craftMp4([
      {
        ...video,
        sampleEntry: avc1Entry(640, 360, avcC2),
        samples: frames(5, 2),
        stz2: 8,
        samplesPerChunk: 2,
      },
    ]),
    craftMp4([{ ...video, sampleEntry: avc1Entry(320, 240, hvcC, 'hvc1'), samples: frames(5), co64: true }], {
      largeMdat: true,
    }),
    craftMp4(
      [
        {
          ...video,
          sampleEntry: avc1Entry(),
          samples: frames(5),
          stz2: 4,
          extraTrak: [box('edts', fullBox('elst', 0, 0, u32(1, 1, 2, 3)))],
        },
        {
          id: 2,
          handler: 'soun',
          timescale: 48000,
          sampleEntry: mp4aEntry(),
          samples: audio,
          durations: [1024, 1024, 1024],
        },
        {
          id: 3,
          handler: 'soun',
          timescale: 48000,
          sampleEntry: opusEntry(1),
          samples: audio,
          durations: [960, 960, 960],
          constantSize: false,
        },
      ],
      { mdatToEnd: true },
    ),
    initSegment([
      {
        id: 1,
        codec: { name: 'H264', clockRate: 90000 },
        timescale: 90000,
        avcC: buildAvcC([DEMO_SPS], [DEMO_PPS]),
      },
      { id: 2, codec: { name: 'OPUS', clockRate: 48000, channels: 2 }, timescale: 48000 },
    ]),
  ];
}

describe('mp4 reader fuzz', () => {
  test(`readMp4() throws only ParseError for ${DEMO_CASES} mutations of the demo's moov`, () => {
    const moov = DEMO.indexOf('moov') - 4;
    const moovEnd = moov + DEMO.readUInt32BE(moov);
    const starts = boxStarts(DEMO, moov, moovEnd);
    const work = Buffer.from(DEMO);
    const rand = rng(SEED);
    let accepted = 0;
    for (let i = 0; i < DEMO_CASES; i++) {
      DEMO.copy(work, moov, moov, moovEnd);
      mutate(work, moov, moovEnd, starts, rand);
      if (readAll(work, `seed ${SEED} demo case ${i}`)) accepted++;
    }
    // Both outcomes must be common, or the mutations only ever hit one early check.
    assert.ok(
      accepted > DEMO_CASES * MIN_SHARE && accepted < DEMO_CASES * (1 - MIN_SHARE),
      `${accepted} accepted`,
    );
  });

  test(`readMp4() throws only ParseError for ${CRAFTED_CASES} truncated, bit-flipped or lying small files`, () => {
    const files = corpus();
    for (const f of files) assert.ok(readAll(f, 'unmutated corpus file'));
    let accepted = 0;
    const rand = rng(SEED + 1);
    for (let i = 0; i < CRAFTED_CASES; i++) {
      const original = files[rand(files.length)];
      const label = `seed ${SEED + 1} crafted case ${i}`;
      if (rand(4) === 0) {
        readAll(original.subarray(0, rand(original.length)), label);
        continue;
      }
      const buf = Buffer.from(original);
      mutate(buf, 0, buf.length, boxStarts(buf), rand);
      if (readAll(rand(3) === 0 ? buf.subarray(0, rand(buf.length + 1)) : buf, label)) accepted++;
    }
    assert.ok(accepted > CRAFTED_CASES * MIN_SHARE, `${accepted} accepted`);
  });

  test(`the record parsers throw only ParseError for ${RECORD_CASES} mutated records`, () => {
    const parsers: [Buffer, (b: Buffer) => unknown][] = [
      [buildAvcC([DEMO_SPS], [DEMO_PPS]), parseAvcC],
      [buildHvcC([HEVC_VPS], [HEVC_SPS], [HEVC_PPS]), parseHvcC],
      [buildEsDescriptor(Buffer.from('1190', 'hex')), parseEsds],
      [Buffer.from('f95e004b0020', 'hex'), parseAudioSpecificConfig],
      [buildDOps(2, 312), parseDOps],
    ];
    const rand = rng(SEED + 2);
    for (let i = 0; i < RECORD_CASES; i++) {
      const [record, parse] = parsers[i % parsers.length];
      const buf = Buffer.from(record);
      for (let m = 1 + rand(3); m > 0; m--) buf[rand(buf.length)] = rand(256);
      try {
        parse(buf.subarray(0, rand(buf.length + 1)));
      } catch (err) {
        if (!(err instanceof ParseError)) assert.fail(`seed ${SEED + 2} record case ${i}: ${err}`);
      }
    }
  });
});
