/** PcmFramer: fixed-size frames out of arbitrary chunks, remainder kept, flush pads with silence. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PcmFramer } from '../../../src/audio/framer.ts';
import { BadRequestError } from '../../../src/core/errors.ts';
import { concat } from './helpers.ts';

test('PcmFramer.push() cuts any chunking into the same frames and keeps the remainder', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 30 }), (sizes) => {
      const framer = new PcmFramer(7, 2);
      let next = 0;
      const frames: Int16Array[] = [];
      for (const size of sizes) {
        const chunk = Int16Array.from({ length: size * 2 }, () => next++);
        frames.push(...framer.push(chunk));
      }
      assert.ok(frames.every((f) => f.length === 14));
      const all = concat(frames);
      assert.deepEqual(
        [...all],
        Array.from({ length: all.length }, (_, i) => i),
      );
      assert.equal(framer.buffered, (next / 2) % 7);
    }),
    { seed: 0x5eed, numRuns: 200 },
  );
});

test('PcmFramer.flush() pads the partial frame with silence, then has nothing left', () => {
  const framer = new PcmFramer(4, 1);
  assert.deepEqual(framer.push(Int16Array.of(1, 2, 3, 4, 5)), [Int16Array.of(1, 2, 3, 4)]);
  assert.deepEqual(framer.flush(), Int16Array.of(5, 0, 0, 0));
  assert.equal(framer.flush(), undefined);
});

test('PcmFramer.push() returns frames that stay valid after later pushes', () => {
  const framer = new PcmFramer(2, 1);
  framer.push(Int16Array.of(1));
  const [first] = framer.push(Int16Array.of(2, 3));
  framer.push(Int16Array.of(9, 9, 9));
  assert.deepEqual(first, Int16Array.of(1, 2));
});

test('PcmFramer rejects partial frames and bad sizes with BadRequestError', () => {
  assert.throws(() => new PcmFramer(0, 1), BadRequestError);
  assert.throws(() => new PcmFramer(160, 1.5), BadRequestError);
  assert.throws(() => new PcmFramer(4, 2).push(new Int16Array(3)), BadRequestError);
});
