/**
 * Fuzzing of the MPEG-TS layer. Seeded mutations of whole streams (TsMuxer output and, when ffmpeg
 * is there, ffmpeg's): bit flips, truncation, dropped, repeated and swapped packets, garbage and
 * lying lengths. Whatever the bytes, TsDemuxer never throws, its events stay well-formed, and what
 * it emits can be muxed again. The header parsers get random bytes and may only throw ParseError.
 * A failure prints the seed and case number to replay.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { splitAvcc } from '../../../src/codecs/avcc.ts';
import { ParseError } from '../../../src/core/errors.ts';
import { isVideo } from '../../../src/core/media.ts';
import { TsDemuxer } from '../../../src/formats/ts/demuxer.ts';
import { TsMuxer } from '../../../src/formats/ts/muxer.ts';
import { parseTsPacket, TS_PACKET_SIZE } from '../../../src/formats/ts/packet.ts';
import { parsePesHeader } from '../../../src/formats/ts/pes.ts';
import { parsePmt, parsePsiSection } from '../../../src/formats/ts/psi.ts';
import { SectionAssembler } from '../../../src/formats/ts/section.ts';
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
} from './media-helpers.ts';

const SEED = 0x7473667a; // 'tsfz'
const SYNTHETIC_CASES = 2000;
const FFMPEG_CASES = 1000;
const PARSER_RUNS = 2000;
const INTERESTING_U16 = [0, 1, 5, 8, 9, 0xff, 0x100, 0x7fff, 0xffff];

type Rand = () => number;

/** The packets of `buf` (whole ones only). */
function packets(buf: Buffer): Buffer[] {
  const list: Buffer[] = [];
  for (let o = 0; o + TS_PACKET_SIZE <= buf.length; o += TS_PACKET_SIZE)
    list.push(buf.subarray(o, o + TS_PACKET_SIZE));
  return list;
}

/** One TS-aware mutation of `input`. */
function mutateTs(input: Buffer, rand: Rand): Buffer {
  const list = packets(input).map((p) => Buffer.from(p));
  const pick = () => randInt(rand, list.length);
  switch (randInt(rand, 8)) {
    case 0: // drop packets
      for (let n = 1 + randInt(rand, 3); n > 0; n--) list.splice(pick(), 1);
      break;
    case 1: // repeat or swap packets
      if (rand() < 0.5) list.splice(pick(), 0, list[pick()]);
      else {
        const [a, b] = [pick(), pick()];
        [list[a], list[b]] = [list[b], list[a]];
      }
      break;
    case 2: {
      // lie in a PES_packet_length or PES_header_data_length of a unit start
      const starts = list.filter((p) => p[1] & 0x40 && (((p[1] & 0x1f) << 8) | p[2]) >= 0x100);
      const p = starts[randInt(rand, Math.max(1, starts.length))];
      if (p) {
        const at = (p[3] & 0x20 ? 5 + p[4] : 4) + (rand() < 0.5 ? 4 : 8);
        if (at + 1 < p.length) p.writeUInt16BE(INTERESTING_U16[randInt(rand, INTERESTING_U16.length)], at);
      }
      break;
    }
    case 3: {
      // lie in a header byte: PID, flags, counter, adaptation field length, pointer field
      const p = list[pick()];
      if (p) p[1 + randInt(rand, 4)] = [0x00, 0xff, 0xb7, 0xb8, 0x47, randInt(rand, 256)][randInt(rand, 6)];
      break;
    }
    case 4: {
      // garbage between packets
      const junk = Buffer.alloc(1 + randInt(rand, 400));
      for (let i = 0; i < junk.length; i++) junk[i] = rand() < 0.1 ? 0x47 : randInt(rand, 256);
      list.splice(pick(), 0, junk);
      break;
    }
    case 5: // bit flips anywhere
      for (let n = 1 + randInt(rand, 8); n > 0; n--) {
        const p = list[pick()];
        if (p) p[randInt(rand, p.length)] ^= 1 << randInt(rand, 8);
      }
      break;
    case 6: // truncation
      return Buffer.concat(list).subarray(0, randInt(rand, input.length));
    default:
      return mutate(input, rand);
  }
  return Buffer.concat(list);
}

/** Totals of the demuxer counters over all cases, to see that the damage paths ran. */
const totals: Record<string, number> = {};

/** Demuxes `buf` and checks the events; muxes them again and demuxes that. Returns the events. */
function check(buf: Buffer, seed: number): Event[] {
  const demuxer = new TsDemuxer();
  const events = demuxChunked(demuxer, buf, seed, 2000);
  for (const [k, v] of Object.entries(demuxer.stats)) if (v > 0) totals[k] = (totals[k] ?? 0) + 1;
  const tracksAt = events.findIndex((e) => e.type === 'tracks');
  assert.ok(tracksAt <= 0, 'the tracks event comes first');
  assert.ok(events.filter((e) => e.type === 'tracks').length <= 1, 'at most one tracks event');
  const medias = tracksAt === 0 ? (events[0] as { medias: (typeof SYNTHETIC_MEDIAS)[number][] }).medias : [];
  for (const e of events) {
    if (e.type !== 'frame') continue;
    const media = medias[e.track];
    assert.ok(media, `frame of track ${e.track} of ${medias.length}`);
    assert.ok(Number.isFinite(e.frame.pts) && Number.isFinite(e.frame.dts), 'finite times');
    assert.ok(e.frame.data.length > 0, 'non-empty frame');
    if (isVideo(media.codecs[0])) assert.ok(splitAvcc(e.frame.data).length > 0, 'valid AVCC');
  }
  if (medias.length > 0) {
    const again = remux(events, (m) => new TsMuxer(m));
    demuxChunked(new TsDemuxer(), again, seed + 1, 5000);
  }
  return events;
}

function fuzz(input: Buffer, cases: number, seed: number): { withFrames: number } {
  const rand = xorshift(seed);
  let withFrames = 0;
  for (let i = 0; i < cases; i++) {
    let buf = mutateTs(input, rand);
    if (rand() < 0.3) buf = mutateTs(buf, rand);
    try {
      if (check(buf, seed + i).some((e) => e.type === 'frame')) withFrames++;
    } catch (err) {
      assert.fail(`seed ${seed} case ${i}: ${err instanceof Error ? err.stack : err}`);
    }
  }
  return { withFrames };
}

describe('TsDemuxer fuzzing', () => {
  test('TsDemuxer.push() never throws on mutated TsMuxer output and keeps most streams readable', () => {
    const input = syntheticInterleaved(15);
    const m = new TsMuxer(SYNTHETIC_MEDIAS);
    const stream = Buffer.concat([m.header(), ...input.map(([t, f]) => m.frame(t, f))]);
    const { withFrames } = fuzz(stream, SYNTHETIC_CASES, SEED);
    assert.ok(withFrames > SYNTHETIC_CASES / 2, `${withFrames} of ${SYNTHETIC_CASES} cases still had frames`);
    // Every kind of damage the demuxer counts was hit by some case.
    for (const k of [
      'garbageBytes',
      'droppedPackets',
      'continuityErrors',
      'psiErrors',
      'pesDropped',
      'framesDropped',
    ]) {
      assert.ok(
        (totals[k] ?? 0) > 10,
        `only ${totals[k] ?? 0} cases counted ${k}: ${JSON.stringify(totals)}`,
      );
    }
  });

  describe('on ffmpeg output', { skip: needTools('libx264', 'libx265', 'aac', 'libopus') }, () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'mediagate-tsfuzz-'));
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('TsDemuxer.push() never throws on mutated H.264 + AAC and H.265 + Opus from ffmpeg', () => {
      const h264 = makeFile(dir, 'a.ts', [
        ...lavfiInputs(44100, 0.6),
        ...['-c:v', 'libx264', '-g', '5', '-bf', '2', '-c:a', 'aac', '-f', 'mpegts'],
      ]);
      const h265 = makeFile(dir, 'b.ts', [
        ...lavfiInputs(48000, 0.6),
        ...[
          '-c:v',
          'libx265',
          '-x265-params',
          'log-level=error',
          '-g',
          '5',
          '-c:a',
          'libopus',
          '-f',
          'mpegts',
        ],
      ]);
      for (const [i, file] of [h264, h265].entries()) {
        const { withFrames } = fuzz(file, FFMPEG_CASES, SEED + 1000003 * (i + 1));
        assert.ok(withFrames > FFMPEG_CASES / 2, `${withFrames} of ${FFMPEG_CASES} cases still had frames`);
      }
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

describe('TS parser fuzzing', () => {
  const params = { seed: SEED, numRuns: PARSER_RUNS };

  test('parseTsPacket() and parsePesHeader() throw only ParseError on random bytes', () => {
    const packet = fc.uint8Array({ minLength: 180, maxLength: 200 }).map((b) => {
      const buf = Buffer.from(b);
      if (buf.length > 0) buf[0] = 0x47;
      return buf;
    });
    fc.assert(
      fc.property(packet, (buf) => onlyParseError(() => parseTsPacket(buf, 0))),
      params,
    );
    const pes = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.concat([Buffer.from([0, 0, 1]), b]));
    fc.assert(
      fc.property(pes, (buf) => onlyParseError(() => parsePesHeader(buf))),
      params,
    );
  });

  test('SectionAssembler.push(), parsePsiSection() and parsePmt() throw only ParseError on random bytes', () => {
    const payloads = fc.array(fc.tuple(fc.uint8Array({ maxLength: 184 }), fc.boolean()), { maxLength: 6 });
    fc.assert(
      fc.property(payloads, (list) => {
        const a = new SectionAssembler();
        for (const [bytes, start] of list) {
          onlyParseError(() => {
            for (const s of a.push(Buffer.from(bytes), start))
              onlyParseError(() => parsePmt(parsePsiSection(s).body));
          });
        }
      }),
      params,
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => onlyParseError(() => parsePmt(Buffer.from(b)))),
      params,
    );
  });
});
