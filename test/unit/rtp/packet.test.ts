import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError, ParseError } from '../../../src/core/errors.ts';
import {
  parseRtp,
  type RtpPacket,
  rtpSize,
  serializeRtp,
  writeRtp,
  writeRtpHeader,
} from '../../../src/rtp/packet.ts';
import { hex, RTP_CASES } from './corpus.ts';

describe('RTP packet', () => {
  for (const c of RTP_CASES) {
    test(`parseRtp() decodes ${c.name}`, () => {
      assert.deepEqual(parseRtp(hex(c.hex)), c.packet);
    });
    test(`serializeRtp() encodes ${c.name}`, () => {
      assert.equal(rtpSize(c.packet), hex(c.hex).length);
      assert.deepEqual(serializeRtp(c.packet), hex(c.hex));
    });
  }

  test('parseRtp() does not mutate its input and returns a payload view into it', () => {
    for (const c of RTP_CASES) {
      const buf = hex(c.hex);
      const copy = Buffer.from(buf);
      const p = parseRtp(buf);
      assert.deepEqual(buf, copy, c.name);
      if (p.payload.length > 0) assert.equal(p.payload.buffer, buf.buffer, c.name);
    }
  });

  test('writeRtp() writes at an offset and returns the bytes written', () => {
    const c = RTP_CASES[2];
    const buf = Buffer.alloc(100, 0xee);
    const n = writeRtp(c.packet, buf, 10);
    assert.equal(n, hex(c.hex).length);
    assert.deepEqual(buf.subarray(10, 10 + n), hex(c.hex));
    assert.equal(buf[9], 0xee);
    assert.equal(buf[10 + n], 0xee);
  });

  test('writeRtp() throws BadRequestError when the buffer is too small', () => {
    const c = RTP_CASES[0];
    assert.throws(() => writeRtp(c.packet, Buffer.alloc(hex(c.hex).length - 1), 0), BadRequestError);
  });

  test('writeRtp() throws BadRequestError for 16 CSRCs or extension data that is not word aligned', () => {
    const p = RTP_CASES[0].packet;
    const many: RtpPacket = { ...p, csrc: new Array(16).fill(1) };
    assert.throws(() => serializeRtp(many), BadRequestError);
    const odd: RtpPacket = { ...p, extension: { profile: 0xbede, data: hex('10ff00') } };
    assert.throws(() => serializeRtp(odd), BadRequestError);
  });

  test('writeRtp() masks sequence numbers and timestamps that are out of range', () => {
    const p: RtpPacket = { ...RTP_CASES[0].packet, sequenceNumber: 0x10001, timestamp: 2 ** 32 + 5 };
    const back = parseRtp(serializeRtp(p));
    assert.equal(back.sequenceNumber, 1);
    assert.equal(back.timestamp, 5);
  });

  test('writeRtpHeader() writes a plain 12-byte header that parseRtp() reads back', () => {
    const buf = Buffer.alloc(14, 0xab);
    const n = writeRtpHeader(buf, 0, {
      marker: true,
      payloadType: 97,
      sequenceNumber: 65536 + 9,
      timestamp: 2 ** 32 + 100,
      ssrc: 0xcafebabe,
    });
    assert.equal(n, 12);
    assert.deepEqual(parseRtp(buf), {
      version: 2,
      padding: false,
      marker: true,
      payloadType: 97,
      sequenceNumber: 9,
      timestamp: 100,
      ssrc: 0xcafebabe,
      csrc: [],
      payload: hex('abab'),
    });
  });

  test('writeRtpHeader() throws BadRequestError when fewer than 12 bytes are left', () => {
    const fields = { marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0 };
    assert.throws(() => writeRtpHeader(Buffer.alloc(20), 9, fields), BadRequestError);
  });
});

describe('parseRtp() length checks', () => {
  const rejects: [string, string][] = [
    ['an empty buffer', ''],
    ['a fixed header cut short', '80 60 0001 11223344 deadbe'],
    ['version 1', '40 60 0001 11223344 deadbeef'],
    ['version 0 (a STUN-looking first byte)', '00 01 0001 11223344 deadbeef'],
    ['a CSRC count of 2 with one CSRC', '82 60 0001 11223344 deadbeef 00000001'],
    ['an extension bit without extension header', '90 60 0001 11223344 deadbeef bede'],
    ['an extension length past the end', '90 60 0001 11223344 deadbeef bede 0002 10ff0000'],
    ['a padding bit without any byte after the header', 'a0 60 0001 11223344 deadbeef'],
    ['a padding count of zero', 'a0 60 0001 11223344 deadbeef 0102 00'],
    ['a padding count larger than the payload', 'a0 60 0001 11223344 deadbeef 0102 04'],
    ['a padding count reaching into the extension', 'b0 60 0001 11223344 deadbeef bede 0001 10ff0000 02'],
  ];
  for (const [name, h] of rejects) {
    test(`parseRtp() rejects ${name} with a ParseError`, () => {
      assert.throws(() => parseRtp(hex(h)), ParseError);
    });
  }

  test('parseRtp() accepts a padding count that covers the whole payload', () => {
    const p = parseRtp(hex('a0 60 0001 11223344 deadbeef 000003'));
    assert.equal(p.payload.length, 0);
    assert.equal(p.padding, true);
  });

  // Regression: the classic gateway crash "index out of range [128] with length 120" (the Go form
  // of it; pion/webrtc#247 and #285 are the same class in rtp.Unmarshal). A packet that is a view
  // at offset 56 of a 120-byte receive buffer announces 15 CSRCs; the list would end at byte 128
  // of the receive buffer. A parser that trusts CC, or indexes the backing buffer instead of the
  // view, reads past the packet (or past the buffer and crashes).
  test('parseRtp() rejects a packet whose CSRC list runs past its end (index out of range [128] with length 120)', () => {
    const receive = Buffer.alloc(120, 0x11);
    hex('8f 60 0001 11223344 deadbeef').copy(receive, 56);
    const packet = receive.subarray(56);
    assert.equal(packet.length, 64);
    assert.throws(
      () => parseRtp(packet),
      (err: unknown) =>
        err instanceof ParseError && /CSRC list of 15 needs 60 bytes, 52 left/.test(err.message),
    );
    assert.throws(() => parseRtp(hex('8f 60 0001 11223344 deadbeef 00000001')), ParseError);
  });
});
