import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../../src/core/errors.ts';
import type { RtpPacket } from '../../../src/rtp/packet.ts';
import { ReorderBuffer } from '../../../src/rtp/reorder.ts';

function pkt(sequenceNumber: number): RtpPacket {
  return {
    version: 2,
    padding: false,
    marker: false,
    payloadType: 96,
    sequenceNumber,
    timestamp: 0,
    ssrc: 1,
    csrc: [],
    payload: Buffer.alloc(0),
  };
}

/** Pushes each number and returns what each push delivered, as sequence numbers. */
function run(r: ReorderBuffer, seqs: number[]): number[][] {
  return seqs.map((s) => r.push(pkt(s)).map((p) => p.sequenceNumber));
}

describe('ReorderBuffer', () => {
  test('push() delivers packets that arrive in order at once', () => {
    assert.deepEqual(run(new ReorderBuffer(), [5, 6, 7]), [[5], [6], [7]]);
  });

  test('push() holds a packet back until the gap before it fills', () => {
    const r = new ReorderBuffer();
    assert.deepEqual(run(r, [1, 3, 4, 2, 5]), [[1], [], [], [2, 3, 4], [5]]);
    assert.equal(r.totalLost, 0);
    assert.equal(r.buffered, 0);
  });

  test('push() reorders across the 65535 -> 0 wrap', () => {
    const r = new ReorderBuffer();
    assert.deepEqual(run(r, [65534, 0, 65535, 1]), [[65534], [], [65535, 0], [1]]);
  });

  test('push() drops a duplicate of a buffered packet and counts it', () => {
    const r = new ReorderBuffer();
    assert.deepEqual(run(r, [1, 3, 3, 2]), [[1], [], [], [2, 3]]);
    assert.equal(r.duplicates, 1);
  });

  test('push() drops a duplicate or late packet behind the expected number and counts it', () => {
    const r = new ReorderBuffer();
    assert.deepEqual(run(r, [1, 2, 2, 1, 3]), [[1], [2], [], [], [3]]);
    assert.equal(r.late, 2);
  });

  test('push() gives up on a gap when the buffer is full and reports the lost count', () => {
    const r = new ReorderBuffer(4);
    assert.deepEqual(run(r, [1, 3, 4, 5]), [[1], [], [], []]);
    assert.deepEqual(run(r, [6]), [[3, 4, 5, 6]]);
    assert.equal(r.lost, 1);
    assert.equal(r.totalLost, 1);
    assert.deepEqual(run(r, [7]), [[7]]);
    assert.equal(r.lost, 0);
  });

  test('push() gives up the whole gap when a packet lands beyond the buffer', () => {
    const r = new ReorderBuffer(4);
    run(r, [10, 12, 14]);
    // 15 is 4 ahead of the expected 11: 11 and 13 are lost, everything held goes out with 15.
    assert.deepEqual(run(r, [15]), [[12, 14, 15]]);
    assert.equal(r.lost, 2);
    assert.deepEqual(run(r, [13, 16]), [[], [16]]);
    assert.equal(r.late, 1);
  });

  test('push() counts a large forward jump as lost and delivers the new packet', () => {
    const r = new ReorderBuffer();
    assert.deepEqual(run(r, [1, 1000]), [[1], [1000]]);
    assert.equal(r.lost, 998);
  });

  test('push() delivers the buffered packets and counts the gaps when a jump crosses the wrap', () => {
    const r = new ReorderBuffer(8);
    assert.deepEqual(run(r, [65530, 65533, 300]), [[65530], [], [65533, 300]]);
    assert.equal(r.totalLost, 2 + (65536 - 65534) + 300);
  });

  test('push() resyncs after a buffer size of packets all behind the expected number', () => {
    const r = new ReorderBuffer(4);
    assert.deepEqual(run(r, [1000, 1001, 10, 11, 12, 13, 14]), [[1000], [1001], [], [], [], [13], [14]]);
    assert.equal(r.late, 3);
  });

  test('flush() delivers everything buffered in order and counts the gaps', () => {
    const r = new ReorderBuffer();
    run(r, [1, 3, 6]);
    assert.deepEqual(
      r.flush().map((p) => p.sequenceNumber),
      [3, 6],
    );
    assert.equal(r.lost, 3);
    assert.deepEqual(run(r, [7]), [[7]]);
  });

  test('reset() drops the buffered packets and takes the next packet as the first', () => {
    const r = new ReorderBuffer();
    run(r, [1, 3]);
    r.reset();
    assert.equal(r.buffered, 0);
    assert.deepEqual(run(r, [500, 501]), [[500], [501]]);
  });

  test('constructor throws BadRequestError for a size of 0', () => {
    assert.throws(() => new ReorderBuffer(0), BadRequestError);
  });

  test('push() delivers every packet exactly once for a shuffled stream across the wrap', () => {
    const r = new ReorderBuffer(16);
    const seqs: number[] = [];
    for (let i = 0; i < 2000; i++) seqs.push((65000 + i) & 0xffff);
    // Swap neighbours in blocks of 8 (a bounded reordering the buffer can always undo).
    let state = 7;
    for (let i = 1; i + 8 < seqs.length; i += 8) {
      for (let k = 0; k < 8; k++) {
        state = (state * 1103515245 + 12345) & 0x7fffffff;
        const j = i + (state % 8);
        [seqs[i + k], seqs[j]] = [seqs[j], seqs[i + k]];
      }
    }
    const out = run(r, seqs).flat();
    out.push(...r.flush().map((p) => p.sequenceNumber));
    assert.equal(out.length, 2000);
    for (let i = 1; i < out.length; i++) assert.equal(out[i], (out[i - 1] + 1) & 0xffff);
    assert.equal(r.totalLost, 0);
  });
});
