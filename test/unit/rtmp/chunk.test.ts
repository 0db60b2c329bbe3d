/**
 * The RTMP chunk stream (RTMP 1.0 section 5.3): the parser on hand-made chunks of every header
 * type, interleaved chunk streams, extended timestamps both ways writers send them, chunk size
 * changes and every limit; and the writer, whose output the parser reads back (round trip).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../../src/core/errors.ts';
import { ChunkParser } from '../../../src/protocols/rtmp/chunk-parser.ts';
import { ChunkWriter } from '../../../src/protocols/rtmp/chunk-writer.ts';
import {
  abortMessage,
  setChunkSizeMessage,
  windowAckSizeMessage,
} from '../../../src/protocols/rtmp/control.ts';
import { MessageType, type RtmpMessage } from '../../../src/protocols/rtmp/types.ts';

const u24 = (v: number) => Buffer.from([(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
const u32le = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const payload = (n: number, seed = 1) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

/** A fmt 0 header on a one-byte csid. */
function fmt0(csid: number, ts: number, length: number, type: number, streamId: number): Buffer {
  return Buffer.concat([Buffer.from([csid]), u24(ts), u24(length), Buffer.from([type]), u32le(streamId)]);
}
const fmt1 = (csid: number, delta: number, length: number, type: number) =>
  Buffer.concat([Buffer.from([0x40 | csid]), u24(delta), u24(length), Buffer.from([type])]);
const fmt2 = (csid: number, delta: number) => Buffer.concat([Buffer.from([0x80 | csid]), u24(delta)]);
const fmt3 = (csid: number) => Buffer.from([0xc0 | csid]);

function summary(messages: RtmpMessage[]) {
  return messages.map((m) => ({
    csid: m.csid,
    type: m.type,
    sid: m.streamId,
    ts: m.timestamp,
    len: m.body.length,
  }));
}

describe('ChunkParser', () => {
  test('parser.push() reads a fmt 0 message of one chunk with its header fields', () => {
    const body = payload(5);
    const out = new ChunkParser().push(Buffer.concat([fmt0(3, 100, 5, 20, 1), body]));
    assert.deepEqual(summary(out), [{ csid: 3, type: 20, sid: 1, ts: 100, len: 5 }]);
    assert.deepEqual(out[0].body, body);
  });

  test('parser.push() joins fmt 3 continuation chunks at the default chunk size of 128', () => {
    const body = payload(300);
    const input = Buffer.concat([
      fmt0(4, 0, 300, 9, 1),
      body.subarray(0, 128),
      fmt3(4),
      body.subarray(128, 256),
      fmt3(4),
      body.subarray(256),
    ]);
    const out = new ChunkParser().push(input);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0].body, body);
  });

  test('parser.push() applies fmt 1 and fmt 2 deltas and repeats the last delta on a fmt 3 message', () => {
    const input = Buffer.concat([
      fmt0(5, 1000, 2, 8, 1),
      payload(2),
      fmt1(5, 20, 3, 9),
      payload(3),
      fmt2(5, 30),
      payload(3),
      fmt3(5),
      payload(3),
    ]);
    assert.deepEqual(summary(new ChunkParser().push(input)), [
      { csid: 5, type: 8, sid: 1, ts: 1000, len: 2 },
      { csid: 5, type: 9, sid: 1, ts: 1020, len: 3 },
      { csid: 5, type: 9, sid: 1, ts: 1050, len: 3 },
      { csid: 5, type: 9, sid: 1, ts: 1080, len: 3 },
    ]);
  });

  test('parser.push() keeps the state of interleaved chunk streams apart', () => {
    const a = payload(200, 1);
    const v = payload(200, 2);
    const input = Buffer.concat([
      fmt0(4, 10, 200, 8, 1),
      a.subarray(0, 128),
      fmt0(6, 20, 200, 9, 1),
      v.subarray(0, 128),
      fmt3(4),
      a.subarray(128),
      fmt3(6),
      v.subarray(128),
    ]);
    const out = new ChunkParser().push(input);
    assert.deepEqual(summary(out), [
      { csid: 4, type: 8, sid: 1, ts: 10, len: 200 },
      { csid: 6, type: 9, sid: 1, ts: 20, len: 200 },
    ]);
    assert.deepEqual(out[0].body, a);
    assert.deepEqual(out[1].body, v);
  });

  test('parser.push() reads extended timestamps, repeated on continuation chunks (ffmpeg) or not', () => {
    const body = payload(200);
    const ts = 0x01234567;
    const repeated = Buffer.concat([
      fmt0(4, 0xffffff, 200, 9, 1),
      u32(ts),
      body.subarray(0, 128),
      fmt3(4),
      u32(ts),
      body.subarray(128),
    ]);
    const bare = Buffer.concat([
      fmt0(4, 0xffffff, 200, 9, 1),
      u32(ts),
      body.subarray(0, 128),
      fmt3(4),
      body.subarray(128),
    ]);
    for (const input of [repeated, bare]) {
      const out = new ChunkParser().push(input);
      assert.equal(out.length, 1);
      assert.equal(out[0].timestamp, ts);
      assert.deepEqual(out[0].body, body);
    }
  });

  test('parser.push() takes a new chunk size from Set Chunk Size for the chunks after it', () => {
    const body = payload(1000);
    const setSize = Buffer.concat([fmt0(2, 0, 4, MessageType.SET_CHUNK_SIZE, 0), u32(4096)]);
    const parser = new ChunkParser();
    const out = parser.push(Buffer.concat([setSize, fmt0(6, 0, 1000, 9, 1), body]));
    assert.equal(parser.chunkSize, 4096);
    assert.deepEqual(
      summary(out).map((m) => m.len),
      [4, 1000],
    );
    assert.deepEqual(out[1].body, body);
  });

  test('parser.push() reads two- and three-byte chunk stream ids', () => {
    const two = Buffer.concat([
      Buffer.from([0x00, 100 - 64]),
      u24(1),
      u24(1),
      Buffer.from([8]),
      u32le(1),
      payload(1),
    ]);
    const three = Buffer.concat([
      Buffer.from([0x01, 0x10, 0x27]),
      u24(2),
      u24(1),
      Buffer.from([9]),
      u32le(1),
      payload(1),
    ]);
    const out = new ChunkParser().push(Buffer.concat([two, three]));
    assert.deepEqual(
      out.map((m) => m.csid),
      [100, 64 + 0x10 + 0x27 * 256],
    );
  });

  test('parser.push() drops the unfinished message of a chunk stream named by Abort', () => {
    const writer = new ChunkWriter();
    const abort = writer.write(abortMessage(4));
    const input = Buffer.concat([
      fmt0(4, 0, 300, 9, 1),
      payload(128),
      abort,
      fmt0(4, 40, 2, 9, 1),
      payload(2),
    ]);
    const parser = new ChunkParser();
    const out = parser.push(input);
    assert.deepEqual(summary(out), [
      { csid: 2, type: MessageType.ABORT, sid: 0, ts: 0, len: 4 },
      { csid: 4, type: 9, sid: 1, ts: 40, len: 2 },
    ]);
    assert.equal(parser.stats.aborted, 1);
    assert.equal(parser.bufferedBytes, 0);
  });

  test('parser.push() gives the same messages fed byte by byte as fed at once, without changing its input', () => {
    const writer = new ChunkWriter();
    const messages: RtmpMessage[] = [
      { csid: 3, type: 20, streamId: 0, timestamp: 0, body: payload(50) },
      { csid: 6, type: 9, streamId: 1, timestamp: 40, body: payload(700, 3) },
      { csid: 4, type: 8, streamId: 1, timestamp: 0x1000000, body: payload(300, 5) },
      { csid: 6, type: 9, streamId: 1, timestamp: 80, body: payload(129, 4) },
    ];
    const input = Buffer.concat(messages.map((m) => writer.write(m)));
    const copy = Buffer.from(input);
    const whole = new ChunkParser().push(input);
    const parser = new ChunkParser();
    const bytewise: RtmpMessage[] = [];
    for (let i = 0; i < input.length; i++) bytewise.push(...parser.push(input.subarray(i, i + 1)));
    assert.deepEqual(input, copy, 'the input is not modified');
    assert.deepEqual(summary(bytewise), summary(whole));
    assert.deepEqual(
      bytewise.map((m) => m.body),
      messages.map((m) => m.body),
    );
  });
});

describe('ChunkParser limits', () => {
  const throwsParse = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (err: unknown) => err instanceof ParseError && pattern.test(err.message));

  test('parser.push() throws ParseError for a message longer than maxMessageSize, before buffering it', () => {
    const parser = new ChunkParser({ maxMessageSize: 1000 });
    throwsParse(() => parser.push(fmt0(4, 0, 1001, 9, 1)), /message of 1001 bytes exceeds 1000/);
  });

  test('parser.push() throws ParseError for one chunk stream more than maxChunkStreams', () => {
    const parser = new ChunkParser({ maxChunkStreams: 2 });
    parser.push(Buffer.concat([fmt0(4, 0, 1, 8, 1), payload(1), fmt0(5, 0, 1, 8, 1), payload(1)]));
    throwsParse(
      () => parser.push(Buffer.concat([fmt0(6, 0, 1, 8, 1), payload(1)])),
      /more than 2 chunk streams/,
    );
  });

  test('parser.push() throws ParseError when unfinished messages would hold more than maxPendingBytes', () => {
    const parser = new ChunkParser({ maxPendingBytes: 200 });
    parser.push(Buffer.concat([fmt0(4, 0, 1000, 9, 1), payload(128)]));
    throwsParse(() => parser.push(Buffer.concat([fmt0(6, 0, 1000, 9, 1), payload(128)])), /over 200/);
  });

  test('parser.push() throws ParseError for a Set Chunk Size of 0 or above maxChunkSize', () => {
    for (const size of [0, 0x10001]) {
      const parser = new ChunkParser({ maxChunkSize: 0x10000 });
      const input = Buffer.concat([fmt0(2, 0, 4, MessageType.SET_CHUNK_SIZE, 0), u32(size)]);
      throwsParse(() => parser.push(input), /Set Chunk Size/);
    }
  });

  test('parser.push() throws ParseError when a chunk stream starts with a fmt 2 or fmt 3 header', () => {
    throwsParse(
      () => new ChunkParser().push(Buffer.concat([fmt2(4, 10), payload(4)])),
      /starts with a fmt 2/,
    );
    throwsParse(() => new ChunkParser().push(Buffer.concat([fmt3(4), payload(4)])), /starts with a fmt 3/);
  });

  test('parser.push() keeps throwing the same ParseError after a failure', () => {
    const parser = new ChunkParser();
    let first: unknown;
    try {
      parser.push(Buffer.concat([fmt3(4), payload(4)]));
    } catch (err) {
      first = err;
    }
    assert.ok(first instanceof ParseError);
    assert.throws(
      () => parser.push(fmt0(4, 0, 1, 8, 1)),
      (err) => err === first,
    );
  });
});

describe('ChunkWriter', () => {
  const cases: { name: string; chunkSize: number; messages: RtmpMessage[] }[] = [
    {
      name: 'control and command messages at the default chunk size',
      chunkSize: 128,
      messages: [
        windowAckSizeMessage(2_500_000),
        { csid: 3, type: 20, streamId: 0, timestamp: 0, body: payload(200) },
        { csid: 3, type: 20, streamId: 0, timestamp: 0, body: payload(10) },
      ],
    },
    {
      name: 'media with growing, equal and backward timestamps',
      chunkSize: 4096,
      messages: [
        { csid: 6, type: 9, streamId: 1, timestamp: 0, body: payload(9000) },
        { csid: 6, type: 9, streamId: 1, timestamp: 40, body: payload(9000) },
        { csid: 6, type: 9, streamId: 1, timestamp: 80, body: payload(100) },
        { csid: 6, type: 9, streamId: 1, timestamp: 80, body: payload(100) },
        { csid: 6, type: 9, streamId: 1, timestamp: 20, body: payload(100) },
        { csid: 4, type: 8, streamId: 1, timestamp: 23, body: payload(0) },
      ],
    },
    {
      name: 'extended timestamps and deltas, with chunk size 1',
      chunkSize: 1,
      messages: [
        { csid: 6, type: 9, streamId: 1, timestamp: 0xffffff, body: payload(5) },
        { csid: 6, type: 9, streamId: 1, timestamp: 0xffffff + 0xffffff + 1, body: payload(5) },
        { csid: 6, type: 9, streamId: 1, timestamp: 2 ** 32 - 1, body: payload(3) },
      ],
    },
    {
      name: 'two- and three-byte chunk stream ids and another message stream',
      chunkSize: 64,
      messages: [
        { csid: 64, type: 8, streamId: 1, timestamp: 5, body: payload(100) },
        { csid: 319, type: 8, streamId: 2, timestamp: 5, body: payload(100) },
        { csid: 320, type: 9, streamId: 3, timestamp: 5, body: payload(100) },
        { csid: 65599, type: 9, streamId: 3, timestamp: 6, body: payload(100) },
      ],
    },
  ];

  for (const c of cases) {
    test(`writer.write() output reads back through ChunkParser: ${c.name}`, () => {
      const writer = new ChunkWriter();
      const parser = new ChunkParser();
      const parts: Buffer[] = [];
      if (c.chunkSize !== 128) {
        parts.push(writer.write(setChunkSizeMessage(c.chunkSize)));
        writer.setChunkSize(c.chunkSize);
      }
      for (const m of c.messages) parts.push(writer.write(m));
      const got = parser.push(Buffer.concat(parts)).slice(c.chunkSize !== 128 ? 1 : 0);
      assert.deepEqual(summary(got), summary(c.messages as RtmpMessage[]));
      assert.deepEqual(
        got.map((m) => m.body),
        c.messages.map((m) => m.body),
      );
    });
  }

  test('writer.write() throws for a chunk stream id outside 2..65599 and writer.setChunkSize() for 0', () => {
    const writer = new ChunkWriter();
    assert.throws(
      () => writer.write({ csid: 1, type: 8, streamId: 1, timestamp: 0, body: payload(1) }),
      /outside 2\.\.65599/,
    );
    assert.throws(() => writer.setChunkSize(0), /outside 1\.\./);
  });
});
