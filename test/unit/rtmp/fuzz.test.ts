/**
 * Fuzzing of the RTMP parsers with fast-check and fixed seeds (a failure prints the seed and the
 * shrunk case to replay): random bytes and mutations of valid chunk streams in random splits into
 * the chunk parser, random command, data, control and aggregate bodies, media messages into the
 * media reader, and random handshakes. Only ParseError may escape, and limits always hold.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors.ts';
import { splitAggregate } from '../../../src/protocols/rtmp/aggregate.ts';
import { ChunkParser } from '../../../src/protocols/rtmp/chunk-parser.ts';
import { ChunkWriter } from '../../../src/protocols/rtmp/chunk-writer.ts';
import { commandMessage, parseCommand, parseData } from '../../../src/protocols/rtmp/command.ts';
import { parseUserControl } from '../../../src/protocols/rtmp/control.ts';
import { ServerHandshake } from '../../../src/protocols/rtmp/handshake.ts';
import { RtmpMediaReader } from '../../../src/protocols/rtmp/media-reader.ts';
import { MessageType, type RtmpMessage } from '../../../src/protocols/rtmp/types.ts';

const SEED = 0x72746d70; // 'rtmp'
const RUNS = 1500;

function onlyParseError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
}

/** Feeds `input` in pieces cut at `cuts`; checks the limits on every message. */
function feed(
  input: Uint8Array,
  cuts: number[],
  limits = { maxMessageSize: 4096, maxChunkStreams: 8, maxPendingBytes: 8192 },
) {
  const parser = new ChunkParser(limits);
  const buf = Buffer.from(input);
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  onlyParseError(() => {
    for (const to of [...points, buf.length]) {
      for (const m of parser.push(buf.subarray(from, to))) {
        assert.ok(m.body.length <= limits.maxMessageSize);
        assert.ok(m.csid >= 2 && m.csid <= 65599 + 64);
      }
      assert.ok(parser.bufferedBytes <= buf.length);
      from = to;
    }
  });
}

/** A valid chunk stream: a command, a chunk size change and media on interleaved chunk streams. */
function validStream(): Buffer {
  const w = new ChunkWriter();
  const parts = [w.write(commandMessage(3, 0, 'connect', 1, { app: 'live', tcUrl: 'rtmp://h/live' }))];
  const setSize: RtmpMessage = {
    csid: 2,
    type: MessageType.SET_CHUNK_SIZE,
    streamId: 0,
    timestamp: 0,
    body: Buffer.from([0, 0, 1, 0]),
  };
  parts.push(w.write(setSize));
  w.setChunkSize(256);
  for (let i = 0; i < 6; i++) {
    parts.push(
      w.write({
        csid: 6,
        type: 9,
        streamId: 1,
        timestamp: i * 40 + (i === 3 ? 0xffffff : 0),
        body: Buffer.alloc(700, i),
      }),
    );
    parts.push(w.write({ csid: 4, type: 8, streamId: 1, timestamp: i * 23, body: Buffer.alloc(90, i) }));
  }
  return Buffer.concat(parts);
}

describe('RTMP fuzz', () => {
  test('ChunkParser.push() throws only ParseError on random bytes in random pieces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 8 }), (input, cuts) =>
        feed(input, cuts),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('ChunkParser.push() throws only ParseError on mutated valid chunk streams', () => {
    const valid = validStream();
    const mutation = fc.record({
      at: fc.nat({ max: valid.length - 1 }),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      cut: fc.nat({ max: valid.length }),
      drop: fc.nat({ max: 64 }),
    });
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (ms, cuts) => {
          let buf = Buffer.from(valid);
          for (const m of ms) {
            buf = Buffer.concat([
              buf.subarray(0, m.at),
              Buffer.from(m.bytes),
              buf.subarray(m.at + (m.drop % 3) * m.bytes.length),
            ]);
            if (m.cut < buf.length && m.drop === 0) buf = buf.subarray(0, m.cut);
          }
          feed(buf, cuts);
        },
      ),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });

  test('parseCommand() and parseData() throw only ParseError on random bodies', () => {
    const amf = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      // Bodies that start like a command, to get past the first value.
      fc
        .uint8Array({ maxLength: 300 })
        .map((tail) =>
          Buffer.concat([commandMessage(3, 0, 'play', 0, null).body.subarray(0, 19), Buffer.from(tail)]),
        ),
    );
    fc.assert(
      fc.property(
        amf,
        fc.constantFrom(MessageType.COMMAND_AMF0, MessageType.COMMAND_AMF3, MessageType.DATA_AMF0),
        (body, type) => {
          const message: RtmpMessage = { csid: 3, type, streamId: 0, timestamp: 0, body: Buffer.from(body) };
          onlyParseError(() => parseCommand(message));
          onlyParseError(() => parseData(message));
        },
      ),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });

  test('parseUserControl() and splitAggregate() throw only ParseError on random bodies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const body = Buffer.from(bytes);
        onlyParseError(() => parseUserControl(body));
        onlyParseError(() => splitAggregate({ csid: 6, type: 22, streamId: 1, timestamp: 0, body }));
      }),
      { seed: SEED + 3, numRuns: RUNS },
    );
  });

  test('RtmpMediaReader.push() never throws on random audio, video and data messages', () => {
    const message = fc.record({
      type: fc.constantFrom(8, 9, 15, 18),
      timestamp: fc.nat({ max: 2 ** 32 - 1 }),
      body: fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        // AVC and AAC headers with random payloads.
        fc
          .uint8Array({ maxLength: 200 })
          .map((t) => Buffer.concat([Buffer.from([0x17, 0x00, 0, 0, 0]), Buffer.from(t)])),
        fc
          .uint8Array({ maxLength: 200 })
          .map((t) => Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), Buffer.from(t)])),
        fc
          .uint8Array({ maxLength: 50 })
          .map((t) => Buffer.concat([Buffer.from([0xaf, 0x00]), Buffer.from(t)])),
        fc
          .uint8Array({ maxLength: 200 })
          .map((t) => Buffer.concat([Buffer.from([0x90 | 1, 0x68, 0x76, 0x63, 0x31]), Buffer.from(t)])),
      ),
    });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 30 }), (messages) => {
        const reader = new RtmpMediaReader();
        for (const m of messages)
          reader.push({
            csid: 6,
            streamId: 1,
            type: m.type,
            timestamp: m.timestamp,
            body: Buffer.from(m.body),
          });
        reader.flush();
      }),
      { seed: SEED + 4, numRuns: RUNS },
    );
  });

  test('ServerHandshake.push() throws only ParseError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 3200 }), (bytes) => {
        onlyParseError(() => new ServerHandshake().push(Buffer.from(bytes)));
      }),
      { seed: SEED + 5, numRuns: 300 },
    );
  });
});
