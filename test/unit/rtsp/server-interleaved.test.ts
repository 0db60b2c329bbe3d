/**
 * interleavedFrame(): the `$ channel length packet` form of a frame's packets (RFC 2326 §10.12),
 * made once and shared by every RTSP reader on that channel (the fan-out send path of bench/).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { interleavedFrame } from '../../../src/protocols/rtsp/server/reader.ts';

/** Splits an interleaved stream back into [channel, packet] pairs. */
function split(buf: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  let pos = 0;
  while (pos < buf.length) {
    assert.equal(buf[pos], 0x24, `'$' at ${pos}`);
    const size = buf.readUInt16BE(pos + 2);
    out.push([buf[pos + 1], buf.subarray(pos + 4, pos + 4 + size)]);
    pos += 4 + size;
  }
  return out;
}

describe('interleavedFrame()', () => {
  test('interleavedFrame() frames every packet in order with its channel and length', () => {
    const packets = [Buffer.from([0x80, 0x60, 0, 1, 9, 9]), Buffer.alloc(1200, 7), Buffer.from([0x80, 0xe0])];
    const framed = interleavedFrame(packets, 2);
    assert.equal(framed.length, 6 + 1200 + 2 + 3 * 4);
    assert.deepEqual(
      split(framed),
      packets.map((p) => [2, p]),
    );
  });

  test('interleavedFrame() returns the same buffer for the same packet list and channel', () => {
    const packets = [Buffer.alloc(100, 1), Buffer.alloc(50, 2)];
    const a = interleavedFrame(packets, 0);
    assert.equal(interleavedFrame(packets, 0), a);
    const b = interleavedFrame(packets, 4);
    assert.notEqual(b, a);
    assert.deepEqual(
      split(b).map(([c]) => c),
      [4, 4],
    );
    // Another list with equal content is another frame: never served from the first one's cache.
    assert.notEqual(interleavedFrame([...packets], 0), a);
  });

  test('interleavedFrame() leaves out packets longer than 65535 bytes and does not modify its input', () => {
    const big = Buffer.alloc(0x10000, 3);
    const small = Buffer.from([1, 2, 3]);
    const framed = interleavedFrame([small, big], 0);
    assert.deepEqual(split(framed), [[0, small]]);
    assert.deepEqual(small, Buffer.from([1, 2, 3]));
    assert.equal(interleavedFrame([big], 0).length, 0);
  });
});
