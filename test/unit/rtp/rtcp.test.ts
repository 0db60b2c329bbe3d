import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError, ParseError } from '../../../src/core/errors.ts';
import {
  isRtcp,
  parseRtcpCompound,
  parseRtcpPacket,
  rtcpCompoundSize,
  serializeRtcp,
  serializeRtcpCompound,
  writeRtcpCompound,
} from '../../../src/rtp/rtcp.ts';
import { compressNackSequences, expandNackPairs } from '../../../src/rtp/rtcp-feedback.ts';
import { sdesCname } from '../../../src/rtp/rtcp-sdes.ts';
import type { ReceptionReport, RtcpPacket } from '../../../src/rtp/rtcp-types.ts';
import { hex, RTCP_CASES } from './corpus.ts';

describe('RTCP packets', () => {
  for (const c of RTCP_CASES) {
    test(`parseRtcpCompound() decodes ${c.name}`, () => {
      assert.deepEqual(parseRtcpCompound(hex(c.hex)), c.packets);
    });
    test(`serializeRtcpCompound() encodes ${c.name}`, () => {
      assert.equal(rtcpCompoundSize(c.packets), hex(c.hex).length);
      assert.deepEqual(serializeRtcpCompound(c.packets), hex(c.hex));
    });
  }

  test('parseRtcpCompound() does not mutate its input and returns raw bodies as views', () => {
    for (const c of RTCP_CASES) {
      const buf = hex(c.hex);
      const copy = Buffer.from(buf);
      const packets = parseRtcpCompound(buf);
      assert.deepEqual(buf, copy, c.name);
      for (const p of packets) if (p.type === 'raw') assert.equal(p.body.buffer, buf.buffer, c.name);
    }
  });

  test('parseRtcpPacket() parses a single packet and serializeRtcp() writes it back', () => {
    const single = RTCP_CASES.find((c) => c.name === 'a generic NACK')!;
    const p = parseRtcpPacket(hex(single.hex));
    assert.deepEqual(p, single.packets[0]);
    assert.deepEqual(serializeRtcp(p), hex(single.hex));
  });

  test('parseRtcpPacket() throws ParseError for bytes after the packet', () => {
    assert.throws(() => parseRtcpPacket(hex('81ce0002 00000001 00000002 80c90001 00000001')), ParseError);
  });

  test('parseRtcpCompound() removes padding from the last packet', () => {
    const [rr] = parseRtcpCompound(hex('a0c90002 00000001 00000004'));
    assert.deepEqual(rr, { type: 'rr', ssrc: 1, reports: [] });
  });

  test('parseRtcpCompound() reads all SDES item types and skips extra null octets', () => {
    const [sdes] = parseRtcpCompound(hex('81ca0004 00000007 01016106 02746f08 01700000'));
    assert.deepEqual(sdes, {
      type: 'sdes',
      chunks: [
        {
          source: 7,
          items: [
            { type: 1, text: 'a' },
            { type: 6, text: 'to' },
            { type: 8, text: 'p' },
          ],
        },
      ],
    });
    assert.equal(sdesCname(sdes as Extract<RtcpPacket, { type: 'sdes' }>), 'a');
  });

  test('writeRtcpCompound() writes at an offset and returns the bytes written', () => {
    const c = RTCP_CASES[RTCP_CASES.length - 1];
    const buf = Buffer.alloc(200, 0xee);
    const n = writeRtcpCompound(c.packets, buf, 3);
    assert.equal(n, hex(c.hex).length);
    assert.deepEqual(buf.subarray(3, 3 + n), hex(c.hex));
    assert.equal(buf[3 + n], 0xee);
  });

  test('serializeRtcp() throws BadRequestError for 32 report blocks or an SDES text over 255 bytes', () => {
    const block: ReceptionReport = {
      ssrc: 1,
      fractionLost: 0,
      totalLost: 0,
      highestSequence: 0,
      jitter: 0,
      lastSenderReport: 0,
      delaySinceLastSenderReport: 0,
    };
    assert.throws(
      () => serializeRtcp({ type: 'rr', ssrc: 1, reports: new Array(32).fill(block) }),
      BadRequestError,
    );
    const text = 'x'.repeat(256);
    assert.throws(
      () => serializeRtcp({ type: 'sdes', chunks: [{ source: 1, items: [{ type: 1, text }] }] }),
      BadRequestError,
    );
    assert.throws(() => serializeRtcp({ type: 'bye', sources: [], reason: text }), BadRequestError);
  });

  test('serializeRtcp() clamps a cumulative loss outside the signed 24-bit range', () => {
    const block: ReceptionReport = {
      ssrc: 1,
      fractionLost: 0,
      totalLost: -10_000_000,
      highestSequence: 0,
      jitter: 0,
      lastSenderReport: 0,
      delaySinceLastSenderReport: 0,
    };
    const [rr] = parseRtcpCompound(serializeRtcp({ type: 'rr', ssrc: 1, reports: [block] }));
    assert.equal(rr.type === 'rr' && rr.reports[0].totalLost, -0x800000);
  });
});

describe('parseRtcpCompound() length checks', () => {
  const rejects: [string, string][] = [
    ['an empty buffer', ''],
    ['a header cut short', '80c900'],
    ['version 1', '40c90001 00000001'],
    ['a length past the end', '80c90002 00000001'],
    ['a second packet cut short', '80c90001 00000001 80c9'],
    ['a padding count of zero', 'a0c90001 00000000'],
    ['a padding count larger than the body', 'a0c90001 00000005'],
    ['an SR without sender info', '80c80001 00000001'],
    ['an RR whose report count exceeds its length', '81c90001 00000001'],
    [
      'an SR whose block is cut by padding',
      'a1c8000c 00000001 00000000 00000000 00000000 00000000 00000000 00000002 00000000 00000000 00000000 00000000 00000004',
    ],
    ['an SDES chunk without terminating null octet', '81ca0002 00000001 01026162'],
    ['an SDES item running past the packet', '81ca0002 00000001 01056162'],
    ['an SDES chunk count past the packet', '82ca0002 00000001 00000000'],
    ['a BYE source count past the packet', '82cb0001 00000001'],
    ['a BYE reason running past the packet', '81cb0002 00000001 05627965'],
    ['a NACK without SSRCs', '81cd0001 00000001'],
    ['a NACK whose FCI is cut by padding', 'a1cd0003 00000001 00000002 00640002'],
    ['a PLI without media SSRC', '81ce0001 00000001'],
    ['a FIR with half an entry', '84ce0003 00000001 00000000 00000002'],
  ];
  for (const [name, h] of rejects) {
    test(`parseRtcpCompound() rejects ${name} with a ParseError`, () => {
      assert.throws(() => parseRtcpCompound(hex(h)), ParseError);
    });
  }
});

describe('isRtcp()', () => {
  test('isRtcp() tells RTCP from RTP by the second byte (RFC 5761)', () => {
    assert.equal(isRtcp(hex('80c80006 00000001')), true);
    assert.equal(isRtcp(hex('81cd0003 00000001')), true);
    assert.equal(isRtcp(hex('80df0000')), true);
    assert.equal(isRtcp(hex('80600001 00000000 00000001')), false);
    // Payload type 96 with the marker bit is 0xe0: above the RTCP range.
    assert.equal(isRtcp(hex('80e00001 00000000 00000001')), false);
    assert.equal(isRtcp(hex('80bf0001 00000000 00000001')), false);
  });

  test('isRtcp() returns false for short input and other versions', () => {
    assert.equal(isRtcp(hex('')), false);
    assert.equal(isRtcp(hex('80c8')), false);
    assert.equal(isRtcp(hex('00c80006')), false);
  });
});

describe('NACK sequence lists', () => {
  test('expandNackPairs() lists the PID and every BLP bit in order', () => {
    assert.deepEqual(expandNackPairs([{ pid: 100, blp: 0b101 }]), [100, 101, 103]);
    assert.deepEqual(expandNackPairs([{ pid: 10, blp: 0x8000 }]), [10, 26]);
  });

  test('expandNackPairs() wraps across 65535', () => {
    assert.deepEqual(expandNackPairs([{ pid: 65534, blp: 0b111 }]), [65534, 65535, 0, 1]);
  });

  test('compressNackSequences() packs up to 17 numbers per pair, across the wrap', () => {
    assert.deepEqual(compressNackSequences([100, 101, 103]), [{ pid: 100, blp: 0b101 }]);
    assert.deepEqual(compressNackSequences([65534, 65535, 0, 1]), [{ pid: 65534, blp: 0b111 }]);
    assert.deepEqual(compressNackSequences([10, 26, 27]), [
      { pid: 10, blp: 0x8000 },
      { pid: 27, blp: 0 },
    ]);
    assert.deepEqual(compressNackSequences([]), []);
    assert.deepEqual(compressNackSequences([5, 5, 6]), [{ pid: 5, blp: 1 }]);
  });

  test('compressNackSequences() and expandNackPairs() round-trip a sorted list', () => {
    const seqs = [65500, 65501, 65520, 65535, 0, 3, 40, 41, 56, 57, 300];
    assert.deepEqual(expandNackPairs(compressNackSequences(seqs)), seqs);
  });
});
