/**
 * Seeded mutation fuzzing of the RTP and RTCP parsers (mediasoup and gortsplib fuzz every parser):
 * bit flips, byte overwrites, truncation and appended garbage over the committed corpus, plus fully
 * random input. The only error that may escape a parser is ParseError; whatever parses must not
 * have modified its input and must serialize back to something that parses again.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BadRequestError, ParseError } from '../../../src/core/errors.ts';
import { findExtension, readExtensions } from '../../../src/rtp/extensions.ts';
import { parseRtp, serializeRtp } from '../../../src/rtp/packet.ts';
import { isRtcp, parseRtcpCompound, serializeRtcpCompound } from '../../../src/rtp/rtcp.ts';
import { hex, RTCP_CASES, RTP_CASES } from './corpus.ts';

const SEED = 42;
const RUNS = 5000;

const CORPUS = [...RTP_CASES, ...RTCP_CASES].map((c) => hex(c.hex));

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'append'; bytes: Uint8Array };

const byteValue = fc.oneof(fc.nat(255), fc.constantFrom(0x00, 0x01, 0x0f, 0x7f, 0x80, 0x8f, 0xbf, 0xff));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: byteValue }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 24 }) }),
);
const mutated = fc
  .tuple(fc.nat(CORPUS.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([i, ops]) => ops.reduce(apply, Buffer.from(CORPUS[i])));
const random = fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 80 })).map(([v2, bytes]) => {
  const buf = Buffer.from(bytes);
  if (v2 && buf.length > 0) buf[0] = 0x80 | (buf[0] & 0x3f);
  return buf;
});

function apply(buf: Buffer, m: Mutation): Buffer {
  if (m.op === 'append') return Buffer.concat([buf, m.bytes]);
  if (buf.length === 0) return buf;
  const at = m.at % buf.length;
  if (m.op === 'truncate') return buf.subarray(0, at);
  const out = Buffer.from(buf);
  out[at] = m.op === 'flip' ? out[at] ^ (1 << m.bit) : m.value;
  return out;
}

/** Runs `parse`; lets only ParseError through (as undefined), rethrows anything else. */
function tryParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ParseError) return undefined;
    throw err;
  }
}

function checkRtp(buf: Buffer): void {
  const copy = Buffer.from(buf);
  const p = tryParse(() => parseRtp(buf));
  assert.deepEqual(buf, copy);
  if (!p) return;
  if (p.extension) {
    const ext = p.extension;
    tryParse(() => readExtensions(ext));
    tryParse(() => findExtension(ext, 1));
  }
  assert.deepEqual(parseRtp(serializeRtp(p)), p);
}

function checkRtcp(buf: Buffer): void {
  const copy = Buffer.from(buf);
  const packets = tryParse(() => parseRtcpCompound(buf));
  isRtcp(buf);
  assert.deepEqual(buf, copy);
  if (!packets) return;
  let again: Buffer;
  try {
    again = serializeRtcpCompound(packets);
  } catch (err) {
    // Text that is not valid UTF-8 can grow past 255 bytes when re-encoded; that is the only reason.
    if (err instanceof BadRequestError && /SDES item|BYE reason/.test(err.message)) return;
    throw err;
  }
  assert.equal(parseRtcpCompound(again).length, packets.length);
}

describe('parser fuzzing', () => {
  test('parseRtp() throws nothing but ParseError on mutated corpus packets', () => {
    fc.assert(fc.property(mutated, checkRtp), { seed: SEED, numRuns: RUNS });
  });

  test('parseRtcpCompound() throws nothing but ParseError on mutated corpus packets', () => {
    fc.assert(fc.property(mutated, checkRtcp), { seed: SEED, numRuns: RUNS });
  });

  test('parseRtp() and parseRtcpCompound() throw nothing but ParseError on random bytes', () => {
    fc.assert(
      fc.property(random, (buf) => {
        checkRtp(buf);
        checkRtcp(buf);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('the corpus itself parses without error', () => {
    for (const c of RTP_CASES) parseRtp(hex(c.hex));
    for (const c of RTCP_CASES) parseRtcpCompound(hex(c.hex));
  });
});
