import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SequenceUnwrapper, TimestampUnwrapper } from '../../../src/rtp/sequence.ts';

function unwrapAll(u: { unwrap(v: number): number }, values: number[]): number[] {
  return values.map((v) => u.unwrap(v));
}

describe('SequenceUnwrapper', () => {
  test('unwrap() keeps counting across 65535 -> 0 -> 1', () => {
    assert.deepEqual(unwrapAll(new SequenceUnwrapper(), [65534, 65535, 0, 1]), [65534, 65535, 65536, 65537]);
  });

  test('unwrap() gives a packet reordered around the wrap its old cycle back', () => {
    assert.deepEqual(
      unwrapAll(new SequenceUnwrapper(), [65534, 0, 65535, 1, 65533]),
      [65534, 65536, 65535, 65537, 65533],
    );
  });

  test('unwrap() returns a negative number for a late packet from before the first one and the wrap', () => {
    assert.deepEqual(unwrapAll(new SequenceUnwrapper(), [1, 65535, 0, 2]), [1, -1, 0, 2]);
  });

  test('unwrap() counts many cycles and reports them in highest and cycles', () => {
    const u = new SequenceUnwrapper();
    let last = 0;
    for (let i = 0; i <= 5 * 65536; i += 1000) last = u.unwrap(i & 0xffff);
    assert.equal(last, 327000);
    assert.equal(u.highest, 327000);
    assert.equal(u.cycles, 4);
  });

  test('unwrap() takes a jump of exactly half the range as forward and more as backward', () => {
    assert.deepEqual(unwrapAll(new SequenceUnwrapper(), [0, 32768]), [0, 32768]);
    assert.deepEqual(unwrapAll(new SequenceUnwrapper(), [0, 32769]), [0, -32767]);
  });

  test('unwrap() does not move the reference back for a late packet', () => {
    const u = new SequenceUnwrapper();
    unwrapAll(u, [100, 90]);
    assert.equal(u.highest, 100);
  });

  test('reset() starts a new run', () => {
    const u = new SequenceUnwrapper();
    unwrapAll(u, [65535, 0]);
    u.reset();
    assert.equal(u.highest, undefined);
    assert.equal(u.unwrap(5), 5);
  });
});

describe('TimestampUnwrapper', () => {
  test('unwrap() keeps counting across the 32-bit wrap', () => {
    assert.deepEqual(unwrapAll(new TimestampUnwrapper(), [0xfffffff0, 0x10, 0x20]), [
      0xfffffff0,
      2 ** 32 + 0x10,
      2 ** 32 + 0x20,
    ]);
  });

  test('unwrap() turns a backward jump within half the range into a negative delta', () => {
    assert.deepEqual(unwrapAll(new TimestampUnwrapper(), [9000, 3000, 12000]), [9000, 3000, 12000]);
  });

  test('unwrap() handles B-frame order across the wrap', () => {
    assert.deepEqual(unwrapAll(new TimestampUnwrapper(), [0xffffff00, 0x100, 0xfffffff0, 0x400]), [
      0xffffff00,
      2 ** 32 + 0x100,
      0xfffffff0,
      2 ** 32 + 0x400,
    ]);
  });

  test('unwrap() goes below zero for a step back from a small first value', () => {
    assert.deepEqual(unwrapAll(new TimestampUnwrapper(), [100, 0xffffff00]), [100, -256]);
  });

  test('unwrap() keeps counting over several wraps', () => {
    const u = new TimestampUnwrapper();
    const step = 0x4000_0000;
    let v = 0;
    for (let i = 0; i < 10; i++) v = u.unwrap((i * step) % 2 ** 32);
    assert.equal(v, 9 * step);
    assert.equal(u.last, 9 * step);
  });

  test('reset() starts a new run', () => {
    const u = new TimestampUnwrapper();
    unwrapAll(u, [0xffffffff, 1]);
    u.reset();
    assert.equal(u.last, undefined);
    assert.equal(u.unwrap(7), 7);
  });
});
