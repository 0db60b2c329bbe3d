/**
 * Fuzzing the STUN parser with a fixed seed: random bytes behind a valid header and byte-level
 * mutations of the RFC 5769 vectors. Only ParseError may escape parse, the getters and the
 * integrity checks, and whatever parses serializes back to the same attributes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors.ts';
import {
  checkBindingRequest,
  isStun,
  StunMessage,
  verifyFingerprint,
  verifyMessageIntegrity,
} from '../../../src/protocols/webrtc/stun/index.ts';
import { RFC5769 } from './stun-vectors.ts';

const SEED = 5389;
const VECTORS = Object.values(RFC5769);

function exercise(bytes: Buffer): void {
  let msg: StunMessage;
  try {
    msg = StunMessage.parse(bytes);
  } catch (err) {
    assert.ok(err instanceof ParseError, String(err));
    return;
  }
  assert.equal(isStun(bytes), bytes[0] <= 3); // RFC 7983 claims only 0..3 of the 0..63 STUN allows
  for (const read of [
    () => msg.username,
    () => msg.xorMappedAddress,
    () => msg.mappedAddress,
    () => msg.errorCode,
    () => msg.priority,
    () => msg.iceControlling,
    () => msg.iceControlled,
    () => verifyMessageIntegrity(bytes, 'VOkJxbRl1RmTxUk/WvJxBt'),
    () => verifyFingerprint(bytes),
  ]) {
    try {
      read();
    } catch (err) {
      assert.ok(err instanceof ParseError, String(err));
    }
  }
  const result = checkBindingRequest(msg, { ufrag: 'evtj', pwd: 'VOkJxbRl1RmTxUk/WvJxBt' });
  assert.equal(typeof result.ok, 'boolean');
  const again = StunMessage.parse(msg.serialize());
  assert.deepEqual(
    again.attributes.map((a) => [a.type, a.value.toString('hex')]),
    msg.attributes.map((a) => [a.type, a.value.toString('hex')]),
  );
}

test('StunMessage.parse() on random attribute bytes throws only ParseError (fuzz)', () => {
  const input = fc.tuple(
    fc.integer({ min: 0, max: 0x3fff }),
    fc.uint8Array({ maxLength: 200 }),
    fc.boolean(),
  );
  fc.assert(
    fc.property(input, ([type, body, honestLength]) => {
      const header = Buffer.alloc(20);
      header.writeUInt16BE(type, 0);
      header.writeUInt16BE(honestLength ? body.length - (body.length % 4) : body.length, 2);
      header.writeUInt32BE(0x2112a442, 4);
      exercise(Buffer.concat([header, body]));
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test('StunMessage.parse() on mutated RFC 5769 vectors throws only ParseError (fuzz)', () => {
  const input = fc.tuple(
    fc.nat(VECTORS.length - 1),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    fc.nat(),
  );
  fc.assert(
    fc.property(input, ([which, edits, cut]) => {
      const bytes = Buffer.from(VECTORS[which]);
      for (const [pos, value] of edits) bytes[pos % bytes.length] = value;
      exercise(bytes.subarray(0, bytes.length - (cut % 8)));
    }),
    { seed: SEED, numRuns: 3000 },
  );
});
