/**
 * Fuzzing the SDP parser with a fixed seed: lines assembled from SDP-like pieces and byte-level
 * mutations of the fixtures. Only ParseError may escape, and whatever parses serializes to a
 * fixed point and yields views and medias without throwing.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors.ts';
import {
  mediasToSdp,
  parseSdp,
  sdpToMedias,
  serializeSdp,
  viewMedias,
  viewSession,
} from '../../../src/sdp/index.ts';

const SEED = 0x5d9;
const fixturesDir = new URL('./fixtures/', import.meta.url);
const FIXTURES = readdirSync(fixturesDir).map((f) => readFileSync(new URL(f, fixturesDir)));

const TYPES = ['v', 'o', 's', 'i', 'u', 'e', 'p', 'c', 'b', 't', 'r', 'z', 'k', 'a', 'm', 'x', ' ', ''];
const PIECES = [
  'video',
  'audio',
  'application',
  '0',
  '9',
  '96',
  '65535',
  '70000',
  '-1',
  'RTP/AVP',
  'UDP/TLS/RTP/SAVPF',
  'rtpmap:',
  'fmtp:',
  'control:',
  'candidate:',
  'extmap:',
  'rtcp-fb:',
  'ssrc:',
  'ssrc-group:',
  'group:BUNDLE',
  'fingerprint:',
  'setup:',
  'mid:',
  'sendonly',
  'recvonly',
  'inactive',
  'H264/90000',
  'opus/48000/2',
  'typ',
  'host',
  'raddr',
  'IN',
  'IP4',
  '/',
  ':',
  ';',
  '=',
  ' ',
  '  ',
  '\t',
  '*',
  'rtsp://h/x',
  '\u00e9',
  '\u0000',
  '\ud83d',
];
const EOL = ['\r\n', '\n', '\r', '\r\r\n', ''];

const line = fc
  .tuple(
    fc.constantFrom(...TYPES),
    fc.constantFrom('=', '', '= '),
    fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 6 })), { maxLength: 8 }),
  )
  .map(([t, eq, parts]) => `${t}${eq}${parts.join('')}`);
const body = fc
  .tuple(fc.array(line, { maxLength: 30 }), fc.constantFrom(...EOL))
  .map(([lines, eol]) => lines.join(eol));

const mutation = fc
  .tuple(
    fc.nat(FIXTURES.length - 1),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'dup')), {
      minLength: 1,
      maxLength: 8,
    }),
  )
  .map(([i, edits]) => {
    let buf = Buffer.from(FIXTURES[i]);
    for (const [pos, byte, op] of edits) {
      const at = pos % Math.max(1, buf.length);
      if (op === 'set') buf[at] = byte;
      else if (op === 'cut') buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + (byte % 16))]);
      else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + byte), buf.subarray(at)]);
    }
    return buf;
  });

function check(input: string | Buffer): void {
  let sdp: ReturnType<typeof parseSdp>;
  try {
    sdp = parseSdp(input);
  } catch (err) {
    assert.ok(err instanceof ParseError, `unexpected ${String(err)}`);
    return;
  }
  const once = serializeSdp(sdp);
  const twice = serializeSdp(parseSdp(once));
  assert.equal(twice, once);
  viewSession(sdp);
  viewMedias(sdp);
  for (const perspective of ['client', 'peer'] as const) {
    const medias = sdpToMedias(sdp, { perspective, base: 'rtsp://cam/x' });
    // Whatever the engine accepted can be described again.
    if (medias.every((m) => m.codecs.length <= 32)) parseSdp(mediasToSdp(medias));
  }
}

test('parseSdp() on generated SDP-like text throws only ParseError and serializes to a fixed point', () => {
  fc.assert(
    fc.property(body, (text) => check(text)),
    { seed: SEED, numRuns: 2500 },
  );
});

test('parseSdp() on mutated camera fixtures throws only ParseError and serializes to a fixed point', () => {
  fc.assert(
    fc.property(mutation, (buf) => check(buf)),
    { seed: SEED, numRuns: 2500 },
  );
});
