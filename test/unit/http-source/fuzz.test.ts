/**
 * Fuzzing of the HTTP body readers and content detection with fast-check and fixed seeds: random
 * bytes and mutated valid bodies, in random pieces. The readers never throw (damage is counted),
 * detection never throws, and what comes out stays well-formed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildAdtsHeader } from '../../../src/codecs/aac/adts.ts';
import { avccToAnnexB } from '../../../src/codecs/avcc.ts';
import type { DemuxEvent } from '../../../src/formats/ts/track-gate.ts';
import { AnnexBReader } from '../../../src/protocols/http/source/annexb.ts';
import { detectContent } from '../../../src/protocols/http/source/detect.ts';
import { AdtsReader, type MediaReader, MjpegReader } from '../../../src/protocols/http/source/readers.ts';
import { syntheticVideo } from '../ts/media-helpers.ts';

const SEED = 0x68747470; // 'http'
const RUNS = 800;

function mjpegBody(): Buffer {
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(300, 7), Buffer.from([0xff, 0xd9])]);
  const part = (withLength: boolean) =>
    Buffer.concat([
      Buffer.from(
        `--b\r\nContent-Type: image/jpeg\r\n${withLength ? `Content-Length: ${jpeg.length}\r\n` : ''}\r\n`,
      ),
      jpeg,
      Buffer.from('\r\n'),
    ]);
  return Buffer.concat([part(true), part(false), part(true), part(false)]);
}

const VALID: [string, () => MediaReader, Buffer][] = [
  ['MJPEG', () => new MjpegReader('b', () => 0, { maxPartBytes: 2000 }), mjpegBody()],
  [
    'H.264 Annex B',
    () => new AnnexBReader('H264', () => 0, { maxAccessUnitBytes: 4000 }),
    Buffer.concat(syntheticVideo(12, 4).map((f) => avccToAnnexB(f.data))),
  ],
  [
    'ADTS',
    () => new AdtsReader(),
    Buffer.concat(
      Array.from({ length: 10 }, (_, i) =>
        Buffer.concat([
          buildAdtsHeader({ objectType: 2, sampleRate: 44100, channelConfig: 2 }, 40 + i),
          Buffer.alloc(40 + i, i),
        ]),
      ),
    ),
  ],
];

function check(events: DemuxEvent[]): void {
  let tracks = 0;
  for (const e of events) {
    if (e.type === 'tracks') tracks++;
    else {
      assert.equal(tracks, 1, 'frames come after exactly one tracks event');
      assert.equal(e.track, 0);
      assert.ok(Number.isFinite(e.frame.dts) && e.frame.data.length > 0);
    }
  }
}

function run(make: () => MediaReader, body: Buffer, cuts: number[]): void {
  const reader = make();
  const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const events: DemuxEvent[] = [];
  let from = 0;
  for (const to of [...points, body.length]) {
    events.push(...reader.push(body.subarray(from, to)));
    from = to;
  }
  events.push(...reader.flush());
  check(events);
}

describe('HTTP body readers fuzz', () => {
  for (const [name, make, valid] of VALID) {
    test(`the ${name} reader never throws on random bytes in random pieces`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) =>
          run(make, Buffer.from(bytes), cuts),
        ),
        { seed: SEED, numRuns: RUNS },
      );
    });

    test(`the ${name} reader never throws on mutated valid bodies`, () => {
      const mutation = fc.record({
        at: fc.nat({ max: valid.length - 1 }),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
        replace: fc.boolean(),
      });
      fc.assert(
        fc.property(
          fc.array(mutation, { minLength: 1, maxLength: 5 }),
          fc.array(fc.nat(), { maxLength: 6 }),
          (ms, cuts) => {
            let buf = Buffer.from(valid);
            for (const m of ms) {
              const end = m.replace ? m.at + m.bytes.length : m.at;
              buf = Buffer.concat([buf.subarray(0, m.at), Buffer.from(m.bytes), buf.subarray(end)]);
            }
            run(make, buf, cuts);
          },
        ),
        { seed: SEED + 1, numRuns: RUNS },
      );
    });
  }

  test('detectContent() never throws on random content types and bytes', () => {
    fc.assert(
      fc.property(
        fc.option(fc.string({ maxLength: 80 })),
        fc.uint8Array({ maxLength: 1000 }),
        fc.boolean(),
        (type, bytes, ended) => {
          const d = detectContent(type ?? undefined, Buffer.from(bytes), ended);
          assert.ok(d === undefined || d === 'more' || typeof d.kind === 'string');
          if (ended) assert.notEqual(d, 'more');
        },
      ),
      { seed: SEED + 2, numRuns: RUNS * 2 },
    );
  });
});
