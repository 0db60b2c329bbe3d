import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BadRequestError, ParseError } from '../../../src/core/errors.ts';
import { FrameDecoder, frame, MAX_FRAME_SIZE } from '../../../src/protocols/webrtc/framing.ts';

const SEED = 4571;

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('RFC 4571 framing', () => {
  test('frame() prefixes the packet with its 16-bit length', () => {
    assert.deepEqual(frame(Buffer.from([1, 2, 3])), Buffer.from([0, 3, 1, 2, 3]));
    assert.deepEqual(frame(Buffer.alloc(0)), Buffer.from([0, 0]));
    assert.equal(frame(Buffer.alloc(MAX_FRAME_SIZE)).readUInt16BE(0), MAX_FRAME_SIZE);
  });

  test('frame() throws BadRequestError for a packet over 65535 bytes', () => {
    assert.throws(() => frame(Buffer.alloc(MAX_FRAME_SIZE + 1)), BadRequestError);
  });

  test('FrameDecoder.push() returns every packet of one chunk and buffers a partial one', () => {
    const d = new FrameDecoder();
    const stream = Buffer.concat([
      frame(Buffer.from('ab')),
      frame(Buffer.from('cde')),
      frame(Buffer.from('fghi')).subarray(0, 3),
    ]);
    assert.deepEqual(d.push(stream).map(String), ['ab', 'cde']);
    assert.equal(d.buffered, 3);
    assert.deepEqual(d.push(Buffer.from('ghi')).map(String), ['fghi']);
    assert.equal(d.buffered, 0);
  });

  test('FrameDecoder.push() reassembles packets fed one byte at a time, header bytes split too', () => {
    const packets = [Buffer.alloc(300, 7), Buffer.from('x'), Buffer.alloc(1500, 9)];
    const stream = Buffer.concat(packets.map(frame));
    const d = new FrameDecoder();
    const out: Buffer[] = [];
    for (const byte of stream) out.push(...d.push(Buffer.from([byte])));
    assert.deepEqual(out, packets);
  });

  test('FrameDecoder.push() skips zero-length frames and ignores empty chunks', () => {
    const d = new FrameDecoder();
    assert.deepEqual(d.push(Buffer.alloc(0)), []);
    assert.deepEqual(
      d.push(Buffer.from([0, 0, 0, 1, 42, 0, 0])).map((b) => [...b]),
      [[42]],
    );
  });

  test('FrameDecoder.push() throws ParseError for a length over maxFrameSize and stays failed', () => {
    const d = new FrameDecoder(1500);
    assert.throws(() => d.push(Buffer.from([0x05, 0xdd])), ParseError); // 1501
    assert.equal(d.buffered, 0);
    assert.throws(() => d.push(frame(Buffer.from('ok'))), ParseError);
    d.reset();
    assert.deepEqual(d.push(frame(Buffer.from('ok'))).map(String), ['ok']);
  });

  test('FrameDecoder.push() rejects a lying length whose header arrives split across chunks', () => {
    const d = new FrameDecoder(100);
    assert.deepEqual(d.push(Buffer.from([0])), []);
    assert.throws(() => d.push(Buffer.from([200])), ParseError);
  });

  test('FrameDecoder.push() does not mutate its input chunks', () => {
    const chunk = Buffer.concat([frame(Buffer.from('hello')), Buffer.from([0])]);
    const copy = Buffer.from(chunk);
    const d = new FrameDecoder();
    d.push(chunk);
    d.push(Buffer.from([3, 1, 2, 3]));
    assert.deepEqual(chunk, copy);
  });

  test('new FrameDecoder() throws BadRequestError for a limit outside 1..65535', () => {
    assert.throws(() => new FrameDecoder(0), BadRequestError);
    assert.throws(() => new FrameDecoder(MAX_FRAME_SIZE + 1), BadRequestError);
  });

  test('FrameDecoder.push() gives back any packet sequence however the stream is cut (fuzz)', () => {
    const input = fc.tuple(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 600 }), { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 20 }),
    );
    fc.assert(
      fc.property(input, ([packets, cuts]) => {
        const stream = Buffer.concat(packets.map((p) => frame(p)));
        const d = new FrameDecoder();
        const out = splitAt(stream, cuts).flatMap((c) => d.push(c));
        assert.deepEqual(
          out.map((b) => Buffer.from(b)),
          packets.map((p) => Buffer.from(p)),
        );
        assert.equal(d.buffered, 0);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  test('FrameDecoder.push() on random bytes throws only ParseError and never buffers past a frame (fuzz)', () => {
    const input = fc.tuple(
      fc.uint8Array({ maxLength: 2000 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.integer({ min: 1, max: 1200 }),
    );
    fc.assert(
      fc.property(input, ([bytes, cuts, max]) => {
        const d = new FrameDecoder(max);
        try {
          for (const c of splitAt(Buffer.from(bytes), cuts)) {
            for (const p of d.push(c)) assert.ok(p.length >= 1 && p.length <= max);
            assert.ok(d.buffered < max + 2);
          }
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });
});
