/**
 * The MPEG-TS building blocks: packets and adaptation fields, PES headers, PSI sections and their
 * reassembly, CRC-32/MPEG-2, timestamp unwrapping and the track gate.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../../src/core/errors.ts';
import type { Codec, Frame } from '../../../src/core/media.ts';
import { crc32Mpeg2 } from '../../../src/formats/ts/crc32.ts';
import { packetize, parseTsPacket, TS_PACKET_SIZE } from '../../../src/formats/ts/packet.ts';
import { buildPesHeader, parsePesHeader } from '../../../src/formats/ts/pes.ts';
import { buildPat, buildPmt, parsePat, parsePmt, parsePsiSection } from '../../../src/formats/ts/psi.ts';
import { SectionAssembler } from '../../../src/formats/ts/section.ts';
import { AudioTimeline, rescale, TimestampUnwrapper } from '../../../src/formats/ts/timestamp.ts';
import { type DemuxEvent, TrackGate } from '../../../src/formats/ts/track-gate.ts';

/** The payload bytes of a run of packets, in order. */
function payloads(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let o = 0; o < data.length; o += TS_PACKET_SIZE) {
    const p = parseTsPacket(data, o);
    parts.push(data.subarray(p.payloadStart, p.payloadEnd));
  }
  return Buffer.concat(parts);
}

describe('TS packets', () => {
  test('packetize() then parseTsPacket() round-trips payloads of every length around packet boundaries', () => {
    for (const length of [0, 1, 170, 175, 176, 177, 182, 183, 184, 185, 366, 367, 368, 369, 1000]) {
      for (const options of [
        {},
        { randomAccess: true },
        { pcr: 2 ** 33 - 1, randomAccess: true },
        { pcr: 0 },
      ]) {
        const payload = Buffer.alloc(length, 0x5a);
        const { data, cc } = packetize(0x101, payload, 14, options);
        assert.equal(data.length % TS_PACKET_SIZE, 0);
        const count = data.length / TS_PACKET_SIZE;
        assert.equal(cc, (14 + count) % 16);
        assert.deepEqual(payloads(data), payload, `length ${length} ${JSON.stringify(options)}`);
        const first = parseTsPacket(data, 0);
        assert.equal(first.pid, 0x101);
        assert.equal(first.unitStart, true);
        assert.equal(first.continuityCounter, 14);
        assert.equal(first.randomAccess, 'randomAccess' in options);
        assert.equal(first.pcr, 'pcr' in options ? options.pcr : undefined);
        if (count > 1) assert.equal(parseTsPacket(data, TS_PACKET_SIZE).unitStart, false);
      }
    }
  });

  test('parseTsPacket() throws ParseError on a bad sync byte, a short buffer and an oversized adaptation field', () => {
    const { data } = packetize(0x100, Buffer.alloc(10), 0);
    assert.throws(() => parseTsPacket(data.subarray(0, 187), 0), ParseError);
    const bad = Buffer.from(data);
    bad[0] = 0x48;
    assert.throws(() => parseTsPacket(bad, 0), ParseError);
    const af = Buffer.from(data);
    af[4] = 184; // the field cannot be longer than the packet
    assert.throws(() => parseTsPacket(af, 0), /adaptation_field_length 184/);
  });
});

describe('PES headers', () => {
  test('buildPesHeader() then parsePesHeader() keeps 33-bit PTS and DTS', () => {
    for (const [pts, dts] of [
      [0, undefined],
      [2 ** 33 - 1, 2 ** 33 - 3600],
      [126000, 122400],
      [2 ** 32 + 5, undefined],
    ] as [number, number | undefined][]) {
      const h = buildPesHeader(0xe0, 100, pts, dts);
      const p = parsePesHeader(Buffer.concat([h, Buffer.alloc(100)]));
      assert.equal(p.pts, pts);
      assert.equal(p.dts, dts);
      assert.equal(p.headerSize, h.length);
      assert.equal(p.packetLength, h.length - 6 + 100);
    }
  });

  test('buildPesHeader() writes PES_packet_length 0 for packets over 65535 bytes and takes times modulo 2^33', () => {
    const h = buildPesHeader(0xe0, 70000, -1);
    const p = parsePesHeader(h);
    assert.equal(p.packetLength, 0);
    assert.equal(p.pts, 2 ** 33 - 1);
  });

  test('parsePesHeader() throws ParseError on a missing start code, an unsupported stream id and an overrunning header', () => {
    const h = buildPesHeader(0xc0, 10, 90000);
    assert.throws(() => parsePesHeader(h.subarray(0, 8)), ParseError);
    assert.throws(() => parsePesHeader(Buffer.concat([Buffer.from([1]), h.subarray(1)])), /start_code/);
    const padding = Buffer.from(h);
    padding[3] = 0xbe;
    assert.throws(() => parsePesHeader(padding), /stream_id 0xbe/);
    const long = Buffer.from(h);
    long[8] = 200;
    assert.throws(() => parsePesHeader(long), ParseError);
  });
});

describe('PSI', () => {
  test('crc32Mpeg2() gives the CRC-32/MPEG-2 check value', () => {
    assert.equal(crc32Mpeg2(Buffer.from('123456789')), 0x0376e6e7);
  });

  test('buildPat() and buildPmt() round-trip through parsePsiSection(), parsePat() and parsePmt()', () => {
    const pat = parsePsiSection(buildPat(7, { programNumber: 3, pmtPid: 0x1000 }));
    assert.equal(pat.tableId, 0);
    assert.equal(pat.tableIdExtension, 7);
    assert.deepEqual(parsePat(pat.body), [{ programNumber: 3, pmtPid: 0x1000 }]);
    const streams = [
      { streamType: 0x1b, pid: 0x100, descriptors: [] },
      { streamType: 0x06, pid: 0x101, descriptors: [{ tag: 0x05, data: Buffer.from('Opus') }] },
    ];
    const pmt = parsePsiSection(buildPmt(3, { pcrPid: 0x100, streams }));
    assert.equal(pmt.tableId, 2);
    assert.deepEqual(parsePmt(pmt.body), { pcrPid: 0x100, streams });
  });

  test('parsePsiSection() throws ParseError on a CRC mismatch and a section_length past the data', () => {
    const pat = buildPat(1, { programNumber: 1, pmtPid: 0x1000 });
    const flipped = Buffer.from(pat);
    flipped[9] ^= 1;
    assert.throws(() => parsePsiSection(flipped), /CRC/);
    assert.throws(() => parsePsiSection(pat.subarray(0, pat.length - 1)), ParseError);
  });

  test('SectionAssembler.push() joins a section split over packets and honours pointer_field', () => {
    const section = buildPmt(1, {
      pcrPid: 0x100,
      streams: Array.from({ length: 40 }, (_, i) => ({ streamType: 0x1b, pid: 0x100 + i, descriptors: [] })),
    });
    assert.ok(section.length > 184);
    const a = new SectionAssembler();
    assert.deepEqual(a.push(Buffer.concat([Buffer.from([0]), section.subarray(0, 100)]), true), []);
    const tail = section.subarray(100);
    // The next unit start carries the rest before its pointer, then a new section and stuffing.
    const next = Buffer.concat([
      Buffer.from([tail.length]),
      tail,
      section.subarray(0, 3),
      Buffer.alloc(4, 0xff),
    ]);
    const done = a.push(next, true);
    assert.equal(done.length, 1);
    assert.deepEqual(done[0], section);
  });

  test('SectionAssembler.push() throws ParseError on a pointer_field past the payload', () => {
    assert.throws(() => new SectionAssembler().push(Buffer.from([10, 0, 0]), true), /pointer_field 10/);
  });
});

describe('timestamps', () => {
  test('TimestampUnwrapper.unwrap() continues across the 33-bit wrap in both directions', () => {
    const u = new TimestampUnwrapper(33);
    const top = 2 ** 33;
    assert.equal(u.unwrap(top - 3600), top - 3600);
    assert.equal(u.unwrap(100), top + 100);
    assert.equal(u.unwrap(top - 1800), top - 1800); // a B-frame from before the wrap
    assert.equal(u.unwrap(7300), top + 7300);
  });

  test('AudioTimeline.stamp() snaps times within 1/8 frame and follows bigger jumps', () => {
    const t = new AudioTimeline();
    assert.equal(t.stamp(undefined, 1024), undefined);
    assert.equal(t.stamp(1000, 1024), 1000);
    assert.equal(t.stamp(2030, 1024), 2024); // 6 samples of rounding
    assert.equal(t.stamp(undefined, 1024), 3048);
    assert.equal(t.stamp(9000, 1024), 9000); // a gap
  });

  test('rescale() converts between clocks with rounding', () => {
    assert.equal(rescale(126000, 90000, 44100), 61740);
    assert.equal(rescale(1, 90000, 90000), 1);
    assert.equal(rescale(2090, 90000, 44100), 1024);
  });
});

describe('TrackGate', () => {
  const video: Codec = { name: 'H264', clockRate: 90000 };
  const audio: Codec = { name: 'AAC', clockRate: 48000 };
  const frame = (dts: number): Frame => ({ pts: dts, dts, keyframe: true, data: Buffer.alloc(1) });

  test('TrackGate.push() holds frames until every candidate has a codec, then emits tracks and the held frames', () => {
    const gate = new TrackGate();
    const out: DemuxEvent[] = [];
    gate.push(
      1,
      frame(0),
      [
        { key: 1, codec: video },
        { key: 2, codec: undefined },
      ],
      out,
    );
    assert.equal(out.length, 0);
    gate.push(
      2,
      frame(0),
      [
        { key: 1, codec: video },
        { key: 2, codec: audio },
      ],
      out,
    );
    assert.equal(out[0].type, 'tracks');
    assert.deepEqual(
      out.slice(1).map((e) => e.type === 'frame' && e.track),
      [0, 1],
    );
  });

  test('TrackGate.push() gives up waiting after maxWaitSeconds and drops frames of late tracks', () => {
    const gate = new TrackGate({ maxWaitSeconds: 1 });
    const out: DemuxEvent[] = [];
    const candidates = [
      { key: 1, codec: video },
      { key: 2, codec: undefined },
    ];
    for (let i = 0; i <= 25; i++) gate.push(1, frame(i * 3600), candidates, out);
    assert.equal(out[0].type, 'tracks');
    assert.equal((out[0] as { medias: unknown[] }).medias.length, 1);
    assert.equal(out.length, 27);
    gate.push(2, frame(0), [], out);
    assert.equal(gate.dropped, 1);
  });

  test('TrackGate.flush() opens with the ready tracks and does nothing when none is ready', () => {
    const out: DemuxEvent[] = [];
    new TrackGate().flush([{ key: 1, codec: undefined }], out);
    assert.equal(out.length, 0);
    const gate = new TrackGate();
    gate.push(
      1,
      frame(0),
      [
        { key: 1, codec: video },
        { key: 2, codec: undefined },
      ],
      out,
    );
    gate.flush(
      [
        { key: 1, codec: video },
        { key: 2, codec: undefined },
      ],
      out,
    );
    assert.equal(out.length, 2);
  });
});
