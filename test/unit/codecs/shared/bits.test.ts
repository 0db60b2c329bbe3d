import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BitReader, removeEmulationPrevention } from '../../../../src/codecs/bit-reader.ts';
import { BitWriter } from '../../../../src/codecs/bit-writer.ts';
import { ParseError } from '../../../../src/core/errors.ts';

describe('BitReader', () => {
  test('reader.ue() and reader.se() decode the Exp-Golomb codes of H.264 Table 9-2 and 9-3', () => {
    // 1 | 010 | 011 | 00100 | 00101 | 00110 | 00111 | 0001000 -> ue 0..7
    const r = new BitReader(
      'test',
      Buffer.from([0b10100110, 0b01000010, 0b10011000, 0b11100010, 0b00000000]),
    );
    assert.deepEqual(
      [r.ue(), r.ue(), r.ue(), r.ue(), r.ue(), r.ue(), r.ue(), r.ue()],
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    const s = new BitReader('test', Buffer.from([0b10100110, 0b01000010, 0b10011000]));
    assert.deepEqual([s.se(), s.se(), s.se(), s.se(), s.se()], [0, 1, -1, 2, -2]);
  });

  test('reader.u() reads 32 bits across byte boundaries as an unsigned number', () => {
    const r = new BitReader('test', Buffer.from([0x0f, 0xff, 0xff, 0xff, 0xf0]));
    assert.equal(r.u(4), 0);
    assert.equal(r.u(32), 0xffffffff);
    assert.equal(r.bitsLeft, 4);
  });

  test('reader.u() throws ParseError with the field name when bits run out', () => {
    const r = new BitReader('thing', Buffer.from([0xff]));
    r.u(6);
    assert.throws(
      () => r.u(3, 'width'),
      (e: unknown) => e instanceof ParseError && /thing: width needs 3 bits, 2 left/.test(e.message),
    );
  });

  test('reader.ue() throws ParseError on a code longer than 32 bits instead of looping or overflowing', () => {
    const r = new BitReader('test', Buffer.alloc(16));
    assert.throws(() => r.ue('x'), ParseError);
    const r2 = new BitReader('test', Buffer.from([0x00]));
    assert.throws(() => r2.ue('x'), ParseError);
  });

  test('reader.ueMax() throws ParseError when the value exceeds the range', () => {
    const r = new BitReader('test', Buffer.from([0b00111000]));
    assert.throws(() => r.ueMax(5, 'id'), /id 6 out of range 0..5/);
  });
});

describe('removeEmulationPrevention', () => {
  test('removeEmulationPrevention() drops the 03 of each 00 00 03 and keeps everything else', () => {
    const input = Buffer.from([0x01, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x03, 0x00, 0x03]);
    assert.deepEqual(
      Buffer.from(removeEmulationPrevention(input)),
      Buffer.from([0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x03]),
    );
  });

  test('removeEmulationPrevention() returns its input without copying when there is nothing to remove', () => {
    const input = Buffer.from([0x00, 0x00, 0x01, 0x03]);
    assert.equal(removeEmulationPrevention(input), input);
  });

  test('removeEmulationPrevention() does not modify its input', () => {
    const input = Buffer.from([0x00, 0x00, 0x03, 0x01]);
    removeEmulationPrevention(input);
    assert.deepEqual(input, Buffer.from([0x00, 0x00, 0x03, 0x01]));
  });
});

describe('BitWriter', () => {
  test('writer.u() packs fields MSB first and toBuffer() pads the last byte with zeros', () => {
    assert.deepEqual(new BitWriter().u(5, 2).u(4, 3).u(4, 2).u(3, 0).toBuffer(), Buffer.from([0x11, 0x90]));
    assert.deepEqual(new BitWriter().u(1, 1).toBuffer(), Buffer.from([0x80]));
    assert.deepEqual(new BitWriter().u(32, 0xdeadbeef).toBuffer(), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  });
});
