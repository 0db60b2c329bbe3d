import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  H264Depayloader,
  H264Payloader,
  h264FmtpFromParams,
  joinAvcc,
} from '../../../../src/codecs/h264/index.ts';
import type { RtpOutput } from '../../../../src/codecs/rtp-types.ts';
import { BadRequestError } from '../../../../src/core/errors.ts';
import type { Codec, Frame } from '../../../../src/core/media.ts';
import { H264_SAMPLES, hex } from '../fixtures.ts';
import { depayloadPackets, patterned, pkt, toPackets } from '../rtp-helpers.ts';

const SPS = H264_SAMPLES[0].sps; // 25 bytes, NRI 3
const PPS = H264_SAMPLES[0].pps; // 5 bytes, NRI 3
const IDR = patterned([0x65, 0x88], 300);
const BIG_IDR = patterned([0x65, 0xb8], 5000);
const SLICE = patterned([0x41, 0x9a], 200);
const SLICE2 = patterned([0x01, 0x9e], 150); // NRI 0
const CODEC: Codec = { name: 'H264', clockRate: 90000, payloadType: 96 };

const frame = (pts: number, keyframe: boolean, ...nals: Buffer[]): Frame => ({
  pts,
  dts: pts,
  keyframe,
  data: joinAvcc(nals),
});
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const STAP_SPS_PPS = Buffer.concat([Buffer.from([0x78]), u16(SPS.length), SPS, u16(PPS.length), PPS]);
/** FU-A of `nal` with `chunk` bytes of body per packet: indicator, header (S/E/type), data. */
function fuA(nal: Buffer, chunk: number): Buffer[] {
  const out: Buffer[] = [];
  const body = nal.subarray(1);
  for (let o = 0; o < body.length; o += chunk) {
    const s = o === 0 ? 0x80 : 0;
    const e = o + chunk >= body.length ? 0x40 : 0;
    out.push(
      Buffer.concat([
        Buffer.from([(nal[0] & 0xe0) | 28, s | e | (nal[0] & 0x1f)]),
        body.subarray(o, o + chunk),
      ]),
    );
  }
  return out;
}
const packets = (pts: number, payloads: Buffer[]): RtpOutput[] =>
  payloads.map((payload, i) => ({ payload, timestamp: pts, marker: i === payloads.length - 1 }));

/** One table for both directions: `frames` payload to `packets`, and `packets` depayload to `frames`. */
const ROUND_TRIP: { name: string; mtu?: number; frames: Frame[]; packets: RtpOutput[] }[] = [
  {
    name: 'a keyframe with SPS and PPS in a STAP-A and a single-NAL IDR',
    frames: [frame(0, true, SPS, PPS, IDR)],
    packets: packets(0, [STAP_SPS_PPS, IDR]),
  },
  {
    name: 'a keyframe then a delta frame with two slices',
    frames: [frame(0, true, SPS, PPS, IDR), frame(3600, false, SLICE, SLICE2)],
    packets: [...packets(0, [STAP_SPS_PPS, IDR]), ...packets(3600, [SLICE, SLICE2])],
  },
  {
    name: 'an IDR split into FU-A packets at a 100-byte MTU',
    mtu: 100,
    frames: [frame(90000, true, SPS, PPS, IDR)],
    packets: packets(90000, [STAP_SPS_PPS, ...fuA(IDR, 98)]),
  },
  {
    name: 'a 5000-byte IDR at the default MTU and a delta frame',
    frames: [frame(7, true, SPS, PPS, BIG_IDR), frame(3607, false, SLICE)],
    packets: [...packets(7, [STAP_SPS_PPS, ...fuA(BIG_IDR, 1198)]), ...packets(3607, [SLICE])],
  },
  {
    name: 'parameter sets larger than the MTU are fragmented, not aggregated',
    mtu: 20,
    frames: [frame(0, true, SPS, PPS, SLICE2.subarray(0, 10), hex('6588'))],
    packets: packets(0, [...fuA(SPS, 18), PPS, SLICE2.subarray(0, 10), hex('6588')]),
  },
];

describe('H264Payloader and H264Depayloader round trip', () => {
  for (const c of ROUND_TRIP) {
    test(`payloader.packetize() produces the packets of ${c.name}`, () => {
      const p = new H264Payloader(CODEC, { mtu: c.mtu });
      const before = c.frames.map((f) => Buffer.from(f.data));
      const out = c.frames.flatMap((f) => p.packetize(f));
      assert.deepEqual(out, c.packets);
      for (const o of out) assert.ok(o.payload.length <= (c.mtu ?? 1200));
      assert.deepEqual(
        c.frames.map((f) => f.data),
        before,
        'input not modified',
      );
    });

    test(`depayloader.push() reassembles the frames of ${c.name}`, () => {
      const d = new H264Depayloader(CODEC);
      const before = c.packets.map((p) => Buffer.from(p.payload));
      assert.deepEqual(depayloadPackets(d, toPackets(c.packets, 65530)), c.frames);
      assert.equal(d.dropped, 0);
      assert.equal(d.invalid, 0);
      assert.deepEqual(
        c.packets.map((p) => p.payload),
        before,
        'input not modified',
      );
    });
  }

  test('payloader.payload() returns the payloads of packetize()', () => {
    const p = new H264Payloader(CODEC);
    assert.deepEqual(p.payload(ROUND_TRIP[0].frames[0]), [STAP_SPS_PPS, IDR]);
  });
});

describe('H264Depayloader', () => {
  const keyPackets = (seq: number, ts: number) => [
    pkt(seq, ts, false, STAP_SPS_PPS),
    pkt(seq + 1, ts, true, IDR),
  ];

  test('depayloader.push() splits a STAP-A with SPS, PPS and a slice into one frame', () => {
    const d = new H264Depayloader(CODEC);
    const stap = Buffer.concat([STAP_SPS_PPS, u16(IDR.length), IDR]);
    assert.deepEqual(depayloadPackets(d, [pkt(1, 10, true, stap)]), [frame(10, true, SPS, PPS, IDR)]);
  });

  test('depayloader.push() prepends SPS and PPS from sprop-parameter-sets to an IDR that lacks them', () => {
    const d = new H264Depayloader({ ...CODEC, fmtp: h264FmtpFromParams(SPS, PPS) });
    assert.deepEqual(depayloadPackets(d, [pkt(1, 10, true, IDR)]), [frame(10, true, SPS, PPS, IDR)]);
  });

  test('depayloader.push() drops delta frames until the first keyframe and counts them', () => {
    const d = new H264Depayloader(CODEC);
    const out = depayloadPackets(d, [
      pkt(1, 0, true, SLICE),
      pkt(2, 3000, true, SLICE),
      ...keyPackets(3, 6000),
    ]);
    assert.deepEqual(out, [frame(6000, true, SPS, PPS, IDR)]);
    assert.equal(d.dropped, 2);
  });

  test('depayloader.push() ends a frame on a timestamp change when the marker is missing', () => {
    const d = new H264Depayloader(CODEC);
    const first = d.push(pkt(1, 0, false, STAP_SPS_PPS));
    assert.equal(d.push(pkt(2, 0, false, IDR)), undefined);
    assert.equal(first, undefined);
    assert.deepEqual(d.push(pkt(3, 3000, false, SLICE)), frame(0, true, SPS, PPS, IDR));
  });

  test('depayloader.next() returns the second frame when one packet completes two', () => {
    const d = new H264Depayloader(CODEC);
    d.push(pkt(1, 0, false, STAP_SPS_PPS));
    d.push(pkt(2, 0, false, IDR)); // no marker
    assert.deepEqual(d.push(pkt(3, 3000, true, SLICE)), frame(0, true, SPS, PPS, IDR));
    assert.deepEqual(d.next(), frame(3000, false, SLICE));
    assert.equal(d.next(), undefined);
  });

  test('depayloader.push() carries parameter sets sent with their own marker into the next frame', () => {
    const d = new H264Depayloader(CODEC);
    const out = depayloadPackets(d, [pkt(1, 0, true, SPS), pkt(2, 0, true, PPS), pkt(3, 0, true, IDR)]);
    assert.deepEqual(out, [frame(0, true, SPS, PPS, IDR)]);
    assert.equal(d.dropped, 0);
  });

  test('depayloader.push() drops a frame whose middle FU-A fragment was lost, and waits for a keyframe', () => {
    const d = new H264Depayloader(CODEC);
    const fus = fuA(BIG_IDR, 1198);
    const lossy = [
      pkt(1, 0, false, STAP_SPS_PPS),
      ...fus.map((f, i) => pkt(2 + i, 0, i === fus.length - 1, f)),
    ];
    lossy.splice(3, 1); // lose the second fragment
    const out = depayloadPackets(d, [...lossy, pkt(10, 3000, true, SLICE), ...keyPackets(11, 6000)]);
    assert.deepEqual(out, [frame(6000, true, SPS, PPS, IDR)]);
    assert.equal(d.dropped, 2, 'the broken keyframe and the delta frame after it');
  });

  test('depayloader.push() drops a frame whose FU-A has a middle fragment but no start', () => {
    const d = new H264Depayloader(CODEC);
    const fus = fuA(BIG_IDR, 1198);
    const out = depayloadPackets(d, [pkt(1, 0, false, fus[1]), pkt(2, 0, true, fus[fus.length - 1])]);
    assert.deepEqual(out, []);
    assert.equal(d.dropped, 1);
  });

  test('depayloader.reset() drops the partial frame and the next output starts at a keyframe', () => {
    const d = new H264Depayloader(CODEC);
    depayloadPackets(d, keyPackets(1, 0));
    d.push(pkt(3, 3000, false, SLICE));
    d.reset();
    const out = depayloadPackets(d, [pkt(9, 6000, true, SLICE), ...keyPackets(10, 9000)]);
    assert.deepEqual(out, [frame(9000, true, SPS, PPS, IDR)]);
    assert.equal(d.dropped, 2);
  });

  test('depayloader.push() ignores a duplicated packet and does not treat sequence wrap-around as loss', () => {
    const d = new H264Depayloader(CODEC);
    const out = depayloadPackets(d, [
      pkt(65535, 0, false, STAP_SPS_PPS),
      pkt(65535, 0, false, STAP_SPS_PPS),
      pkt(0, 0, true, IDR),
    ]);
    assert.deepEqual(out, [frame(0, true, SPS, PPS, IDR)]);
    assert.equal(d.dropped, 0);
  });

  for (const [name, payload] of [
    ['an empty payload', Buffer.alloc(0)],
    ['a STAP-A with a size past the end', hex('78 0010 6742')],
    ['a STAP-A without NAL units', hex('78')],
    ['an FU-A without FU header', hex('7c')],
    ['an FU-A with start and end bits', hex('7cc5 0102')],
    ['a STAP-B (interleaved mode)', hex('79 0000 0002 6742')],
  ] as const) {
    test(`depayloader.push() drops and counts ${name} and the frame it belonged to`, () => {
      const d = new H264Depayloader(CODEC);
      const out = depayloadPackets(d, [
        ...keyPackets(1, 0),
        pkt(3, 3000, false, SLICE),
        pkt(4, 3000, true, payload),
      ]);
      assert.deepEqual(out, [frame(0, true, SPS, PPS, IDR)]);
      assert.equal(d.invalid, 1);
      assert.equal(d.dropped, 1);
    });
  }

  test('depayloader.push() ignores reserved NAL types 0, 30 and 31', () => {
    const d = new H264Depayloader(CODEC);
    const out = depayloadPackets(d, [pkt(1, 0, false, hex('1e00')), ...keyPackets(2, 0)]);
    assert.deepEqual(out, [frame(0, true, SPS, PPS, IDR)]);
    assert.equal(d.invalid, 0);
  });
});

describe('H264Payloader', () => {
  test('payloader.packetize() re-sends the latest SPS and PPS before a keyframe that lacks them', () => {
    const p = new H264Payloader(CODEC);
    p.packetize(frame(0, true, SPS, PPS, IDR));
    assert.deepEqual(p.payload(frame(3000, true, IDR)), [STAP_SPS_PPS, IDR]);
    assert.deepEqual(p.payload(frame(6000, false, SLICE)), [SLICE]);
  });

  test('payloader.packetize() takes the parameter sets from sprop-parameter-sets before any are seen', () => {
    const p = new H264Payloader({ ...CODEC, fmtp: h264FmtpFromParams(SPS, PPS) });
    assert.deepEqual(p.payload(frame(0, true, IDR)), [STAP_SPS_PPS, IDR]);
  });

  test('payloader.packetize() with resendParameterSets false and aggregate false sends the frame as it is', () => {
    const p = new H264Payloader(
      { ...CODEC, fmtp: h264FmtpFromParams(SPS, PPS) },
      { resendParameterSets: false, aggregate: false },
    );
    assert.deepEqual(p.payload(frame(0, true, IDR)), [IDR]);
    assert.deepEqual(p.payload(frame(0, true, SPS, PPS, IDR)), [SPS, PPS, IDR]);
  });

  test('new H264Payloader() throws BadRequestError for an MTU too small for an FU-A', () => {
    assert.throws(() => new H264Payloader(CODEC, { mtu: 2 }), BadRequestError);
  });

  test('payloader.packetize() keeps every payload within the MTU and depayloads back for many sizes', () => {
    for (const mtu of [3, 4, 50, 1200]) {
      const p = new H264Payloader(CODEC, { mtu });
      const d = new H264Depayloader(CODEC);
      let seq = 0;
      for (const size of [1, 2, 3, 4, 49, 50, 51, 1199, 1200, 1201, 3000]) {
        const f = frame(size, true, SPS, PPS, patterned([0x65], size));
        const out = p.packetize(f);
        for (const o of out) assert.ok(o.payload.length <= mtu, `mtu ${mtu} size ${size}`);
        assert.deepEqual(depayloadPackets(d, toPackets(out, seq)), [f], `mtu ${mtu} size ${size}`);
        seq += out.length;
      }
    }
  });
});
