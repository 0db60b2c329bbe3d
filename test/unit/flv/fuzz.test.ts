/**
 * Fuzzing of the FLV layer. Seeded mutations of whole files (FlvMuxer output with every codec and,
 * when ffmpeg is there, ffmpeg's): lying DataSize, PreviousTagSize and timestamps, damaged
 * sequence headers, dropped tags, garbage, truncation, bit flips. FlvDemuxer never throws, its
 * events stay well-formed and can be muxed again; the tag-body parsers and AMF0 get random bytes
 * and may only throw ParseError. A failure prints the seed and case number to replay.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { splitAvcc } from '../../../src/codecs/avcc.ts';
import { ParseError, UnsupportedError } from '../../../src/core/errors.ts';
import { isVideo, type Media } from '../../../src/core/media.ts';
import { decodeAmf0All } from '../../../src/formats/flv/amf0.ts';
import { parseAudioTagBody } from '../../../src/formats/flv/audio-tag.ts';
import { FlvDemuxer } from '../../../src/formats/flv/demuxer.ts';
import { FlvMuxer } from '../../../src/formats/flv/muxer.ts';
import { FlvTagReader } from '../../../src/formats/flv/tag-reader.ts';
import { parseVideoTagBody } from '../../../src/formats/flv/video-tag.ts';
import { TsMuxer } from '../../../src/formats/ts/muxer.ts';
import { mutate, randInt, xorshift } from '../codecs/fixtures.ts';
import {
  demuxChunked,
  type Event,
  lavfiInputs,
  makeFile,
  needTools,
  remux,
  SYNTHETIC_MEDIAS,
  syntheticInterleaved,
} from '../ts/media-helpers.ts';

const SEED = 0x666c7666; // 'flvf'
const SYNTHETIC_CASES = 2000;
const FFMPEG_CASES = 1000;
const PARSER_RUNS = 2000;
const INTERESTING_U24 = [0, 1, 4, 5, 11, 0x7f, 0xff, 0xffff, 0x7fffff, 0xffffff];

type Rand = () => number;

/** Offsets of the tags (their header) in an FLV file with a 13-byte header. */
function tagOffsets(buf: Buffer): number[] {
  const list: number[] = [];
  for (let o = 13; o + 11 <= buf.length; o += 15 + buf.readUIntBE(o + 1, 3)) list.push(o);
  return list;
}

/** One FLV-aware mutation of `input`. */
function mutateFlv(input: Buffer, rand: Rand): Buffer {
  const tags = tagOffsets(input);
  const buf = Buffer.from(input);
  const tag = tags[randInt(rand, tags.length)] ?? 13;
  const size = tag + 4 <= buf.length ? buf.readUIntBE(tag + 1, 3) : 0;
  const u24 = () => INTERESTING_U24[randInt(rand, INTERESTING_U24.length)];
  switch (randInt(rand, 9)) {
    case 0: // DataSize
      if (tag + 4 <= buf.length)
        buf.writeUIntBE(rand() < 0.5 ? u24() : Math.max(0, size + randInt(rand, 21) - 10), tag + 1, 3);
      return buf;
    case 1: // PreviousTagSize
      if (tag + 15 + size <= buf.length) buf.writeUInt32BE(u24(), tag + 11 + size);
      return buf;
    case 2: // timestamp and extension
      if (tag + 8 <= buf.length) buf.writeUInt32BE(Math.floor(rand() * 2 ** 32), tag + 4);
      return buf;
    case 3: // the first bytes of the body: frame type, codec, packet type, composition time, FourCC
      for (let n = 1 + randInt(rand, 3); n > 0; n--) {
        const at = tag + 11 + randInt(rand, Math.min(12, Math.max(1, size)));
        if (at < buf.length)
          buf[at] =
            rand() < 0.5 ? randInt(rand, 256) : [0x17, 0x27, 0x1c, 0x9c, 0xaf, 0x90, 0x00][randInt(rand, 7)];
      }
      return buf;
    case 4: // a whole tag dropped
      return Buffer.concat([buf.subarray(0, tag), buf.subarray(Math.min(buf.length, tag + 15 + size))]);
    case 5: {
      // garbage
      const junk = Buffer.alloc(1 + randInt(rand, 200));
      for (let i = 0; i < junk.length; i++)
        junk[i] = rand() < 0.2 ? [8, 9, 18, 0][randInt(rand, 4)] : randInt(rand, 256);
      return Buffer.concat([buf.subarray(0, tag), junk, buf.subarray(tag)]);
    }
    case 6: // bit flips in the sequence headers and metadata (the first tags)
      for (let n = 1 + randInt(rand, 4); n > 0; n--) {
        const at = 13 + randInt(rand, Math.min(buf.length - 13, 400));
        if (at < buf.length) buf[at] ^= 1 << randInt(rand, 8);
      }
      return buf;
    case 7:
      return buf.subarray(0, randInt(rand, buf.length));
    default:
      return mutate(input, rand);
  }
}

/** Cases per demuxer counter that went above 0, to see that the damage paths ran. */
const totals: Record<string, number> = {};

/** Demuxes `buf`, checks the events and muxes them again. Returns the events. */
function check(buf: Buffer, seed: number): Event[] {
  const demuxer = new FlvDemuxer();
  const events = demuxChunked(demuxer, buf, seed, 1500);
  for (const [k, v] of Object.entries(demuxer.stats)) if (v > 0) totals[k] = (totals[k] ?? 0) + 1;
  const tracksAt = events.findIndex((e) => e.type === 'tracks');
  assert.ok(tracksAt <= 0, 'the tracks event comes first');
  assert.ok(events.filter((e) => e.type === 'tracks').length <= 1, 'at most one tracks event');
  const medias: Media[] = tracksAt === 0 ? (events[0] as { medias: Media[] }).medias : [];
  for (const e of events) {
    if (e.type !== 'frame') continue;
    const media = medias[e.track];
    assert.ok(media, `frame of track ${e.track} of ${medias.length}`);
    assert.ok(Number.isFinite(e.frame.pts) && Number.isFinite(e.frame.dts), 'finite times');
    if (isVideo(media.codecs[0])) assert.ok(splitAvcc(e.frame.data).length > 0, 'valid AVCC');
  }
  if (medias.length > 0) {
    demuxChunked(
      new FlvDemuxer(),
      remux(events, (m) => new FlvMuxer(m)),
      seed,
      5000,
    );
    try {
      remux(events, (m) => new TsMuxer(m));
    } catch (err) {
      if (!(err instanceof UnsupportedError)) throw err; // G.711, or an AAC config ADTS cannot express
    }
  }
  return events;
}

function fuzz(input: Buffer, cases: number, seed: number): number {
  const rand = xorshift(seed);
  let withFrames = 0;
  for (let i = 0; i < cases; i++) {
    let buf = mutateFlv(input, rand);
    if (rand() < 0.3) buf = mutateFlv(buf, rand);
    try {
      if (check(buf, seed + i).some((e) => e.type === 'frame')) withFrames++;
    } catch (err) {
      assert.fail(`seed ${seed} case ${i}: ${err instanceof Error ? err.stack : err}`);
    }
  }
  return withFrames;
}

describe('FlvDemuxer fuzzing', () => {
  test('FlvDemuxer.push() never throws on mutated FlvMuxer output and keeps most files readable', () => {
    const m = new FlvMuxer(SYNTHETIC_MEDIAS);
    const file = Buffer.concat([m.header(), ...syntheticInterleaved(15).map(([t, f]) => m.frame(t, f))]);
    const withFrames = fuzz(file, SYNTHETIC_CASES, SEED);
    assert.ok(withFrames > SYNTHETIC_CASES / 2, `${withFrames} of ${SYNTHETIC_CASES} cases still had frames`);
    for (const k of ['invalidTags', 'framesDropped', 'garbageBytes', 'previousTagSizeErrors']) {
      assert.ok(
        (totals[k] ?? 0) > 10,
        `only ${totals[k] ?? 0} cases counted ${k}: ${JSON.stringify(totals)}`,
      );
    }
  });

  describe('on ffmpeg output', { skip: needTools('libx264', 'aac') }, () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'mediagate-flvfuzz-'));
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('FlvDemuxer.push() never throws on mutated H.264 + AAC FLV from ffmpeg', () => {
      const args = [
        ...lavfiInputs(44100, 0.6),
        '-c:v',
        'libx264',
        '-g',
        '5',
        '-bf',
        '2',
        '-c:a',
        'aac',
        '-f',
        'flv',
      ];
      const withFrames = fuzz(makeFile(dir, 'a.flv', args), FFMPEG_CASES, SEED + 7);
      assert.ok(withFrames > FFMPEG_CASES / 2, `${withFrames} of ${FFMPEG_CASES} cases still had frames`);
    });
  });
});

/** Runs `parse` and lets only ParseError out. */
function onlyParseError(parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
}

describe('FLV parser fuzzing', () => {
  const params = { seed: SEED, numRuns: PARSER_RUNS };
  /** Bodies that start like real tags more often than random bytes would. */
  const body = fc
    .tuple(
      fc.constantFrom(0x17, 0x27, 0x57, 0x12, 0x90, 0x91, 0x93, 0xaf, 0x72, 0x82, 0x91, 0x9f),
      fc.uint8Array({ maxLength: 40 }),
    )
    .map(([b0, rest]) => Buffer.concat([Buffer.from([b0]), rest]));

  test('parseVideoTagBody(), parseAudioTagBody() and decodeAmf0All() throw only ParseError on random bytes', () => {
    fc.assert(
      fc.property(body, fc.constantFrom(1, 2, 4), (b, lengthSize) => {
        onlyParseError(() => parseVideoTagBody(b, 0, lengthSize));
        onlyParseError(() => parseAudioTagBody(b, 0, 44100));
      }),
      params,
    );
    const amf = fc
      .uint8Array({ maxLength: 60 })
      .map((b) => Buffer.concat([Buffer.from([2, 0, 1, 0x41]), Buffer.from(b)]));
    fc.assert(
      fc.property(amf, (b) => onlyParseError(() => decodeAmf0All(b))),
      params,
    );
  });

  test('FlvTagReader.push() never throws on random tags', () => {
    const tags = fc.array(fc.tuple(fc.constantFrom(8, 9, 18, 7), body, fc.nat()), { maxLength: 12 });
    fc.assert(
      fc.property(tags, (list) => {
        const r = new FlvTagReader({ maxWaitSeconds: 0.1 });
        for (const [type, b, ts] of list) r.push(type, b, ts);
        r.flush();
      }),
      params,
    );
  });
});
