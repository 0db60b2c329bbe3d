import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../../src/core/errors.ts';
import {
  children,
  findPath,
  need,
  readBoxes,
  readBoxHeader,
  readFullBoxHeader,
} from '../../../src/formats/mp4/box.ts';
import { box, fourcc, fullBox, u32, u64 } from '../../../src/formats/mp4/box-writer.ts';

describe('mp4 box', () => {
  test('readBoxHeader() reads size, type and the payload offset of a plain box', () => {
    const buf = Buffer.concat([Buffer.alloc(3), box('free', Buffer.from('abcd'))]);
    assert.deepEqual(readBoxHeader(buf, 3), { type: 'free', start: 3, payload: 11, end: 15 });
  });

  test('readBoxHeader() reads a 64-bit largesize', () => {
    const buf = Buffer.concat([u32(1), fourcc('mdat'), u64(20), Buffer.from('data')]);
    assert.deepEqual(readBoxHeader(buf, 0), { type: 'mdat', start: 0, payload: 16, end: 20 });
  });

  test('readBoxHeader() extends a size-0 box to the end of its parent', () => {
    const buf = Buffer.concat([u32(0), fourcc('mdat'), Buffer.alloc(10)]);
    assert.equal(readBoxHeader(buf, 0).end, 18);
    assert.equal(readBoxHeader(buf, 0, 12).end, 12);
  });

  test('readBoxHeader() throws ParseError when a box runs past its parent', () => {
    const buf = box('free', Buffer.alloc(8));
    assert.throws(
      () => readBoxHeader(buf, 0, 12),
      (e: unknown) => e instanceof ParseError && /runs past/.test(e.message),
    );
  });

  test('readBoxHeader() throws ParseError when the size is smaller than the header', () => {
    for (const buf of [
      Buffer.concat([u32(7), fourcc('free')]),
      Buffer.concat([u32(1), fourcc('free'), u64(15)]),
    ]) {
      assert.throws(() => readBoxHeader(buf, 0), ParseError);
    }
  });

  test('readBoxHeader() throws ParseError for a truncated header or largesize', () => {
    assert.throws(() => readBoxHeader(Buffer.from([0, 0, 0, 8, 0x66]), 0), ParseError);
    assert.throws(
      () => readBoxHeader(Buffer.concat([u32(1), fourcc('mdat'), Buffer.alloc(7)]), 0),
      ParseError,
    );
  });

  test('readBoxHeader() throws ParseError for a largesize beyond 2^53', () => {
    const buf = Buffer.concat([u32(1), fourcc('mdat'), Buffer.from('0020000000000000', 'hex')]);
    assert.throws(() => readBoxHeader(buf, 0), /not a safe integer/);
  });

  test('readFullBoxHeader() reads the version and the 24-bit flags', () => {
    const buf = fullBox('tfhd', 1, 0x020001, u32(7));
    const b = readBoxHeader(buf, 0);
    assert.deepEqual(readFullBoxHeader(buf, b), { version: 1, flags: 0x020001, body: 12 });
    assert.throws(() => readFullBoxHeader(box('tfhd'), readBoxHeader(box('tfhd'), 0)), ParseError);
  });

  test('readBoxes() reads back what box() and fullBox() built, nested', () => {
    const inner = [box('mvhd', Buffer.alloc(5)), box('udta'), fullBox('trex', 0, 0, u32(1, 2))];
    const buf = box('moov', ...inner);
    const [moov] = readBoxes(buf, 0, buf.length);
    assert.deepEqual(
      children(buf, moov).map((b) => [b.type, b.end - b.start]),
      inner.map((b) => [b.toString('latin1', 4, 8), b.length]),
    );
    assert.equal(findPath(buf, moov, ['trex'])?.start, 8 + 13 + 8);
    assert.equal(findPath(buf, moov, ['trak', 'mdia']), undefined);
  });

  test('readBoxes() throws ParseError when the range ends past the input', () => {
    assert.throws(() => readBoxes(box('free'), 0, 9), ParseError);
  });

  test('need() throws ParseError naming the box when a field does not fit', () => {
    const buf = Buffer.concat([box('stsz', Buffer.alloc(4)), Buffer.alloc(8)]);
    const b = readBoxHeader(buf, 0);
    need(buf, b, 8, 4, 'x');
    assert.throws(
      () => need(buf, b, 8, 5, 'sample_count'),
      (e: unknown) => e instanceof ParseError && /mp4 stsz/.test(e.message),
    );
    assert.throws(() => need(buf, b, 4, 1, 'before payload'), ParseError);
  });

  test('box() rejects a type that is not four characters', () => {
    assert.throws(() => box('abc'), /4 characters/);
  });
});
