/**
 * Regression found by `npm run fuzz` (target `sdp`, seed 1110873427): a `c=` line with more fields
 * than three, whose address ended in a form feed, serialized to a line that a second parse trimmed
 * differently, so parse -> serialize was not a fixed point (fields were split on space and tab,
 * lines trimmed of every whitespace). Fields are now split on the same whitespace that is trimmed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSdp, serializeSdp } from '../../src/sdp/index.ts';

test('serializeSdp(parseSdp()) is a fixed point for a c= line with extra fields and a form feed after the address', () => {
  for (const c of ['c=IN IP4 1.2.3.4\f extra', 'c=IN\fIP4\v1.2.3.4\u00a0 x y', 'c=IN IP4 1.2.3.4\f']) {
    const once = serializeSdp(parseSdp(`v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=x\r\n${c}\r\nt=0 0\r\n`));
    assert.equal(serializeSdp(parseSdp(once)), once, JSON.stringify(c));
    assert.match(once, /\r\nc=IN IP4 1\.2\.3\.4\r\n/, JSON.stringify(c));
  }
});
