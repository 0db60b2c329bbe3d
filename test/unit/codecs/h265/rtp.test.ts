import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  H265Depayloader,
  H265Payloader,
  h265FmtpFromParams,
  joinAvcc,
} from '../../../../src/codecs/h265/index.ts';
import type { RtpOutput } from '../../../../src/codecs/rtp-types.ts';
import { BadRequestError, UnsupportedError } from '../../../../src/core/errors.ts';
import type { Codec, Frame } from '../../../../src/core/media.ts';
import { H265_SAMPLES, hex } from '../fixtures.ts';
import { depayloadPackets, patterned, pkt, toPackets } from '../rtp-helpers.ts';

const { vps: VPS, sps: SPS, pps: PPS } = H265_SAMPLES[0];
const IDR = patterned([0x26, 0x01], 400); // IDR_W_RADL, TID 1
const BIG_IDR = patterned([0x28, 0x01], 6000); // IDR_N_LP
const TRAIL = patterned([0x02, 0x01], 300); // TRAIL_R
const SEI = hex('4e01050102'); // PREFIX_SEI
const CODEC: Codec = { name: 'H265', clockRate: 90000, payloadType: 97 };

const frame = (pts: number, keyframe: boolean, ...nals: Buffer[]): Frame => ({
  pts,
  dts: pts,
  keyframe,
  data: joinAvcc(nals),
});
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const AP_PARAMS = Buffer.concat([
  hex('6001'),
  u16(VPS.length),
  VPS,
  u16(SPS.length),
  SPS,
  u16(PPS.length),
  PPS,
]);
/** FU packets of `nal` with `chunk` bytes of body each: payload header (type 49), FU header, data. */
function fu(nal: Buffer, chunk: number): Buffer[] {
  const out: Buffer[] = [];
  const body = nal.subarray(2);
  const type = (nal[0] >> 1) & 0x3f;
  for (let o = 0; o < body.length; o += chunk) {
    const s = o === 0 ? 0x80 : 0;
    const e = o + chunk >= body.length ? 0x40 : 0;
    out.push(
      Buffer.concat([
        Buffer.from([(nal[0] & 0x81) | (49 << 1), nal[1], s | e | type]),
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
    name: 'a keyframe with VPS, SPS and PPS in an AP and a single-NAL IDR',
    frames: [frame(0, true, VPS, SPS, PPS, IDR)],
    packets: packets(0, [AP_PARAMS, IDR]),
  },
  {
    name: 'a keyframe with SEI and a delta frame',
    frames: [frame(0, true, VPS, SPS, PPS, SEI, IDR), frame(3000, false, TRAIL)],
    packets: [...packets(0, [AP_PARAMS, SEI, IDR]), ...packets(3000, [TRAIL])],
  },
  {
    // The AP (82 bytes) still fits 150 bytes; only the IDR is fragmented.
    name: 'an IDR split into FUs at a 150-byte MTU',
    mtu: 150,
    frames: [frame(0, true, VPS, SPS, PPS, IDR)],
    packets: packets(0, [AP_PARAMS, ...fu(IDR, 147)]),
  },
  {
    name: 'a 6000-byte IDR at the default MTU',
    frames: [frame(123, true, VPS, SPS, PPS, BIG_IDR)],
    packets: packets(123, [AP_PARAMS, ...fu(BIG_IDR, 1197)]),
  },
];

describe('H265Payloader and H265Depayloader round trip', () => {
  for (const c of ROUND_TRIP) {
    test(`payloader.packetize() produces the packets of ${c.name}`, () => {
      const p = new H265Payloader(CODEC, { mtu: c.mtu });
      const out = c.frames.flatMap((f) => p.packetize(f));
      assert.deepEqual(out, c.packets);
      for (const o of out) assert.ok(o.payload.length <= (c.mtu ?? 1200));
    });

    test(`depayloader.push() reassembles the frames of ${c.name}`, () => {
      const d = new H265Depayloader(CODEC);
      const before = c.packets.map((p) => Buffer.from(p.payload));
      assert.deepEqual(depayloadPackets(d, toPackets(c.packets, 65534)), c.frames);
      assert.equal(d.dropped, 0);
      assert.equal(d.invalid, 0);
      assert.deepEqual(
        c.packets.map((p) => p.payload),
        before,
        'input not modified',
      );
    });
  }
});

describe('H265Depayloader', () => {
  const keyPackets = (seq: number, ts: number) => [
    pkt(seq, ts, false, AP_PARAMS),
    pkt(seq + 1, ts, true, IDR),
  ];

  test('depayloader.push() splits an AP with parameter sets and a slice into one frame', () => {
    const d = new H265Depayloader(CODEC);
    const ap = Buffer.concat([AP_PARAMS, u16(IDR.length), IDR]);
    assert.deepEqual(depayloadPackets(d, [pkt(1, 10, true, ap)]), [frame(10, true, VPS, SPS, PPS, IDR)]);
  });

  test('depayloader.push() prepends the sprop parameter sets to an IRAP frame that lacks them', () => {
    const d = new H265Depayloader({ ...CODEC, fmtp: h265FmtpFromParams(VPS, SPS, PPS) });
    assert.deepEqual(depayloadPackets(d, [pkt(1, 10, true, IDR)]), [frame(10, true, VPS, SPS, PPS, IDR)]);
  });

  test('depayloader.push() drops a frame with a lost FU fragment and the delta frames until the next IRAP', () => {
    const d = new H265Depayloader(CODEC);
    const fus = fu(BIG_IDR, 1197);
    const lossy = [pkt(1, 0, false, AP_PARAMS), ...fus.map((f, i) => pkt(2 + i, 0, i === fus.length - 1, f))];
    lossy.splice(2, 1); // lose the first fragment
    const out = depayloadPackets(d, [...lossy, pkt(20, 3000, true, TRAIL), ...keyPackets(21, 6000)]);
    assert.deepEqual(out, [frame(6000, true, VPS, SPS, PPS, IDR)]);
    assert.equal(d.dropped, 2);
  });

  for (const [name, payload] of [
    ['a one-byte payload', hex('02')],
    ['an AP with a size past the end', hex('6001 0010 4001')],
    ['an AP with a one-byte NAL unit', hex('6001 0001 40')],
    ['an FU without FU header', hex('6201')],
    ['an FU with start and end bits', hex('6201d3 0102')],
    ['a PACI packet', hex('6401 0000')],
  ] as const) {
    test(`depayloader.push() drops and counts ${name} and the frame it belonged to`, () => {
      const d = new H265Depayloader(CODEC);
      const out = depayloadPackets(d, [
        ...keyPackets(1, 0),
        pkt(3, 3000, false, TRAIL),
        pkt(4, 3000, true, payload),
      ]);
      assert.deepEqual(out, [frame(0, true, VPS, SPS, PPS, IDR)]);
      assert.equal(d.invalid, 1);
      assert.equal(d.dropped, 1);
    });
  }

  // Regression: ffmpeg's H.265 RTP muxer (`-c copy` from a raw .hevc file) keeps the leading zero of
  // the next 4-byte start code at the end of each NAL unit; found by comparing depayloaded slices
  // with the source stream.
  test('depayloader.push() trims trailing zero bytes from NAL units', () => {
    const d = new H265Depayloader({ ...CODEC, fmtp: h265FmtpFromParams(VPS, SPS, PPS) });
    const fus = fu(Buffer.concat([IDR, hex('00')]), 200);
    const out = depayloadPackets(
      d,
      fus.map((f, i) => pkt(i, 0, i === fus.length - 1, f)),
    );
    assert.deepEqual(out, [frame(0, true, VPS, SPS, PPS, IDR)]);
  });

  test('new H265Depayloader() throws UnsupportedError when the SDP announces DONL', () => {
    assert.throws(
      () => new H265Depayloader({ ...CODEC, fmtp: { 'sprop-max-don-diff': '2' } }),
      UnsupportedError,
    );
  });
});

describe('H265Payloader', () => {
  test('payloader.packetize() re-sends VPS, SPS and PPS before an IRAP frame that lacks them', () => {
    const p = new H265Payloader({ ...CODEC, fmtp: h265FmtpFromParams(VPS, SPS, PPS) });
    assert.deepEqual(p.payload(frame(0, true, IDR)), [AP_PARAMS, IDR]);
    assert.deepEqual(p.payload(frame(1, false, TRAIL)), [TRAIL]);
  });

  test('payloader.packetize() gives an AP the lowest TID and the OR of the F bits', () => {
    const p = new H265Payloader(CODEC);
    const vps = hex('4003aa'); // TID 3
    const sps = hex('c202bb'); // F set, TID 2
    const [ap] = p.payload(frame(0, false, vps, sps));
    assert.deepEqual(ap.subarray(0, 2), hex('e002'));
  });

  test('new H265Payloader() throws BadRequestError for an MTU too small for an FU', () => {
    assert.throws(() => new H265Payloader(CODEC, { mtu: 3 }), BadRequestError);
  });

  test('payloader.packetize() keeps every payload within the MTU and depayloads back for many sizes', () => {
    for (const mtu of [4, 5, 100, 1200]) {
      const p = new H265Payloader(CODEC, { mtu });
      const d = new H265Depayloader(CODEC);
      let seq = 100;
      for (const size of [2, 3, 4, 5, 99, 100, 101, 1199, 1200, 1201, 4000]) {
        const f = frame(size, true, VPS, SPS, PPS, patterned([0x26, 0x01], size));
        const out = p.packetize(f);
        for (const o of out) assert.ok(o.payload.length <= mtu, `mtu ${mtu} size ${size}`);
        assert.deepEqual(depayloadPackets(d, toPackets(out, seq)), [f], `mtu ${mtu} size ${size}`);
        seq += out.length;
      }
    }
  });
});
