/**
 * Fuzz tests with fixed seeds: parsers may only throw ParseError; depayloaders never throw (they
 * drop and count bad packets) and only emit well-formed frames. Inputs are mutations of valid
 * inputs (seeded xorshift) plus random bytes (fast-check, fixed seed).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseAdtsHeader } from '../../../../src/codecs/aac/adts.ts';
import { parseAudioSpecificConfig } from '../../../../src/codecs/aac/config.ts';
import { AacDepayloader } from '../../../../src/codecs/aac/depayloader.ts';
import { aacFmtp } from '../../../../src/codecs/aac/fmtp.ts';
import { AacPayloader } from '../../../../src/codecs/aac/payloader.ts';
import { joinAvcc, splitAnnexB, splitAvcc } from '../../../../src/codecs/avcc.ts';
import { PcmDepayloader } from '../../../../src/codecs/g711/rtp.ts';
import { parseAvcC } from '../../../../src/codecs/h264/avcc-record.ts';
import { H264Depayloader } from '../../../../src/codecs/h264/depayloader.ts';
import { parseSpropParameterSets } from '../../../../src/codecs/h264/fmtp.ts';
import { H264NalType, h264NalType } from '../../../../src/codecs/h264/nal.ts';
import { H264Payloader } from '../../../../src/codecs/h264/payloader.ts';
import { parseH264Sps } from '../../../../src/codecs/h264/sps.ts';
import { H265Depayloader } from '../../../../src/codecs/h265/depayloader.ts';
import { parseHvcC } from '../../../../src/codecs/h265/hvcc-record.ts';
import { isH265IrapNal } from '../../../../src/codecs/h265/nal.ts';
import { H265Payloader } from '../../../../src/codecs/h265/payloader.ts';
import { parseH265Sps } from '../../../../src/codecs/h265/sps.ts';
import { OpusDepayloader } from '../../../../src/codecs/opus/rtp.ts';
import { opusPacketDuration } from '../../../../src/codecs/opus/toc.ts';
import type { Depayloader, RtpInput } from '../../../../src/codecs/rtp-types.ts';
import { ParseError } from '../../../../src/core/errors.ts';
import type { Frame } from '../../../../src/core/media.ts';
import {
  AVCC_HIGH_360,
  AVCC_MAIN_1080,
  H264_SAMPLES,
  H265_SAMPLES,
  HVCC_MAIN_720,
  HVCC_MAIN10_1080,
  hex,
  mutate,
  randInt,
  randomBytes,
  xorshift,
} from '../fixtures.ts';
import { depayloadPackets, patterned, toPackets } from '../rtp-helpers.ts';

const MUTATIONS = 3000;
const RANDOM_RUNS = 1000;
const SEED = 0x5eed;

/** Calls `parse` and fails the test if it throws anything but ParseError. */
function onlyParseError(parse: () => unknown, input: Uint8Array): void {
  try {
    parse();
  } catch (err) {
    if (!(err instanceof ParseError)) {
      assert.fail(
        `threw ${(err as Error)?.name}: ${(err as Error)?.message} for input ${Buffer.from(input).toString('hex')}`,
      );
    }
  }
}

const PARSERS: { name: string; parse: (b: Buffer) => unknown; seeds: Buffer[] }[] = [
  { name: 'parseH264Sps()', parse: parseH264Sps, seeds: H264_SAMPLES.map((s) => s.sps) },
  { name: 'parseH265Sps()', parse: parseH265Sps, seeds: H265_SAMPLES.map((s) => s.sps) },
  { name: 'parseAvcC()', parse: parseAvcC, seeds: [AVCC_MAIN_1080, AVCC_HIGH_360] },
  { name: 'parseHvcC()', parse: parseHvcC, seeds: [HVCC_MAIN_720, HVCC_MAIN10_1080] },
  {
    name: 'parseAudioSpecificConfig()',
    parse: parseAudioSpecificConfig,
    seeds: [hex('1190'), hex('178012c008'), hex('f84640'), hex('eb098800')],
  },
  {
    name: 'parseAdtsHeader()',
    parse: (b) => parseAdtsHeader(b),
    seeds: [hex('fff150802b3ffc'), hex('fff050802b3ffc0000')],
  },
  { name: 'opusPacketDuration()', parse: opusPacketDuration, seeds: [hex('fb03ff'), hex('f8')] },
  {
    name: 'splitAvcc()',
    parse: (b) => splitAvcc(b),
    seeds: [joinAvcc([H264_SAMPLES[0].sps, H264_SAMPLES[0].pps])],
  },
  { name: 'splitAnnexB()', parse: splitAnnexB, seeds: [hex('00000001 6742 000001 68ce 00')] },
  {
    name: 'parseSpropParameterSets()',
    parse: (b) => parseSpropParameterSets(b.toString('latin1')),
    seeds: [Buffer.from('Z0LAH9kA,aMuDyyA=')],
  },
];

describe('parser fuzzing', () => {
  for (const p of PARSERS) {
    test(`${p.name} throws only ParseError on ${MUTATIONS} mutated inputs`, () => {
      const rand = xorshift(SEED);
      for (let i = 0; i < MUTATIONS; i++) {
        const input = mutate(p.seeds[i % p.seeds.length], rand);
        const copy = Buffer.from(input);
        onlyParseError(() => p.parse(input), input);
        assert.deepEqual(input, copy, 'input not modified');
      }
    });

    test(`${p.name} throws only ParseError on random bytes`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          onlyParseError(() => p.parse(Buffer.from(bytes)), bytes);
        }),
        { seed: SEED, numRuns: RANDOM_RUNS },
      );
    });
  }
});

/** Checks a video frame: valid AVCC, keyframe flag matching its NAL units. */
function checkVideoFrame(f: Frame, isKeyNal: (nal: Buffer) => boolean): void {
  const nals = splitAvcc(f.data);
  assert.ok(nals.length > 0);
  assert.equal(f.keyframe, nals.some(isKeyNal));
  assert.equal(f.pts, f.dts);
}

/** Damages a packet stream: mutated payloads, lost, duplicated and reordered packets, flipped markers. */
function damage(packets: RtpInput[], rand: () => number): RtpInput[] {
  const out: RtpInput[] = [];
  for (const p of packets) {
    const r = rand();
    if (r < 0.05) continue; // lost
    const q = { ...p };
    if (r < 0.2) q.payload = mutate(p.payload, rand);
    else if (r < 0.25) q.marker = !q.marker;
    else if (r < 0.28) q.timestamp += randInt(rand, 3000);
    out.push(q);
    if (rand() < 0.03) out.push({ ...q }); // duplicate
  }
  if (out.length > 2 && rand() < 0.2) {
    const i = randInt(rand, out.length - 1);
    [out[i], out[i + 1]] = [out[i + 1], out[i]];
  }
  return out;
}

function fuzzDepayloader(
  make: () => Depayloader,
  streams: RtpInput[][],
  check: (f: Frame) => void,
  iterations: number,
): void {
  const rand = xorshift(SEED);
  for (let i = 0; i < iterations; i++) {
    const d = make();
    const packets = damage(streams[i % streams.length], rand);
    let frames: Frame[] = [];
    try {
      frames = depayloadPackets(d, packets);
      if (rand() < 0.1) d.reset();
    } catch (err) {
      assert.fail(`depayloader threw ${(err as Error).name}: ${(err as Error).message}`);
    }
    for (const f of frames) check(f);
    assert.ok(d.dropped >= 0 && d.invalid >= 0);
  }
}

describe('depayloader fuzzing', () => {
  const GOP_SIZE = 4;
  const h264Stream = (mtu: number): RtpInput[] => {
    const p = new H264Payloader(undefined, { mtu });
    const { sps, pps } = H264_SAMPLES[2];
    const frames: Frame[] = [];
    for (let i = 0; i < GOP_SIZE; i++) {
      const nals =
        i === 0
          ? [sps, pps, patterned([0x65, 0x88], 3000)]
          : [patterned([0x41, 0x9a], 700), patterned([0x01, 0x9e], 20)];
      frames.push({ pts: i * 3000, dts: i * 3000, keyframe: i === 0, data: joinAvcc(nals) });
    }
    return toPackets(
      frames.flatMap((f) => p.packetize(f)),
      65500,
    );
  };
  const h265Stream = (mtu: number): RtpInput[] => {
    const p = new H265Payloader(undefined, { mtu });
    const { vps, sps, pps } = H265_SAMPLES[0];
    const frames: Frame[] = [];
    for (let i = 0; i < GOP_SIZE; i++) {
      const nals = i === 0 ? [vps, sps, pps, patterned([0x26, 0x01], 3000)] : [patterned([0x02, 0x01], 700)];
      frames.push({ pts: i * 3000, dts: i * 3000, keyframe: i === 0, data: joinAvcc(nals) });
    }
    return toPackets(
      frames.flatMap((f) => p.packetize(f)),
      65500,
    );
  };

  test(`H264Depayloader never throws and emits valid AVCC frames on ${MUTATIONS} damaged streams`, () => {
    const isIdr = (n: Buffer) => h264NalType(n) === H264NalType.IDR;
    fuzzDepayloader(
      () => new H264Depayloader(),
      [h264Stream(1200), h264Stream(300)],
      (f) => checkVideoFrame(f, isIdr),
      MUTATIONS,
    );
  });

  test(`H265Depayloader never throws and emits valid AVCC frames on ${MUTATIONS} damaged streams`, () => {
    fuzzDepayloader(
      () => new H265Depayloader(),
      [h265Stream(1200), h265Stream(300)],
      (f) => checkVideoFrame(f, isH265IrapNal),
      MUTATIONS,
    );
  });

  test(`AacDepayloader never throws on ${MUTATIONS} damaged streams`, () => {
    const codec = { name: 'AAC' as const, clockRate: 48000, fmtp: aacFmtp(hex('1190')) };
    const p = new AacPayloader(codec, 400);
    const stream = toPackets(
      [300, 1000, 50, 2000].flatMap((size, i) =>
        p.packetize({ pts: i * 1024, dts: i * 1024, keyframe: true, data: patterned([0x21], size) }),
      ),
    );
    fuzzDepayloader(
      () => new AacDepayloader(codec),
      [stream],
      (f) => assert.ok(f.data.length > 0),
      MUTATIONS,
    );
  });

  test(`OpusDepayloader and PcmDepayloader never throw on ${MUTATIONS} damaged streams`, () => {
    const stream = toPackets(
      [0, 960, 1920].map((ts) => ({ payload: hex('fb03aabbcc'), timestamp: ts, marker: true })),
    );
    fuzzDepayloader(
      () => new OpusDepayloader(),
      [stream],
      (f) => opusPacketDuration(f.data),
      MUTATIONS,
    );
    fuzzDepayloader(
      () => new PcmDepayloader(),
      [stream],
      (f) => assert.ok(f.data.length > 0),
      MUTATIONS,
    );
  });

  test('H264Depayloader never throws on streams of random payloads', () => {
    const rand = xorshift(SEED + 1);
    for (let i = 0; i < 300; i++) {
      const d = new H264Depayloader();
      for (let s = 0; s < 20; s++) {
        d.push({
          payload: randomBytes(rand, 40),
          timestamp: randInt(rand, 3) * 3000,
          marker: rand() < 0.3,
          sequenceNumber: s,
        });
        while (d.next()) {}
      }
    }
  });
});
