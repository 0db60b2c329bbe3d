import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { TokenSigner } from '../../../src/auth/token.ts';

const SECRET = 'a-test-secret-of-enough-bytes';
const NOW = 1_700_000_000;

describe('stream tokens', () => {
  test('TokenSigner.verify() returns the claims of a token it signed until it expires', () => {
    const signer = new TokenSigner(SECRET);
    const token = signer.sign({ sub: 'alice', streams: ['demo', 'door'], exp: NOW + 60 });
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(signer.verify(token, NOW), {
      ok: true,
      claims: { sub: 'alice', streams: ['demo', 'door'], exp: NOW + 60 },
    });
    assert.deepEqual(signer.verify(token, NOW + 59.9).ok, true);
    assert.deepEqual(signer.verify(token, NOW + 60), { ok: false, reason: 'expired' });
    const all = signer.sign({ sub: 'admin', streams: '*', exp: NOW + 1 });
    assert.deepEqual(signer.verify(all, NOW), {
      ok: true,
      claims: { sub: 'admin', streams: '*', exp: NOW + 1 },
    });
  });

  test('TokenSigner.verify() refuses a token with changed claims, a changed or missing signature, or another key', () => {
    const signer = new TokenSigner(SECRET);
    const token = signer.sign({ sub: 'alice', streams: ['demo'], exp: NOW + 60 });
    const [head, mac] = token.split('.');
    const forgedHead = Buffer.from(JSON.stringify({ sub: 'alice', streams: '*', exp: NOW + 60 })).toString(
      'base64url',
    );
    assert.deepEqual(signer.verify(`${forgedHead}.${mac}`, NOW), { ok: false, reason: 'signature' });
    const flipped = Buffer.from(mac, 'base64url');
    flipped[0] ^= 1;
    assert.deepEqual(signer.verify(`${head}.${flipped.toString('base64url')}`, NOW), {
      ok: false,
      reason: 'signature',
    });
    assert.deepEqual(signer.verify(`${head}.`, NOW), { ok: false, reason: 'signature' });
    // Every other last character: some decode to the same bytes (base64's unused low bits) and
    // must be refused all the same.
    for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') {
      if (c === mac.at(-1)) continue;
      assert.equal(signer.verify(`${head}.${mac.slice(0, -1)}${c}`, NOW).ok, false, `last character ${c}`);
    }
    assert.deepEqual(signer.verify(head, NOW), { ok: false, reason: 'malformed' });
    assert.deepEqual(signer.verify(`${token}.x`, NOW), { ok: false, reason: 'malformed' });
    assert.deepEqual(signer.verify('', NOW), { ok: false, reason: 'malformed' });
    assert.deepEqual(signer.verify('a'.repeat(5000), NOW), { ok: false, reason: 'malformed' });
    assert.deepEqual(new TokenSigner('another-secret-also-long').verify(token, NOW), {
      ok: false,
      reason: 'signature',
    });
    // A per-process random key: two signers made without a secret do not accept each other's tokens.
    const a = new TokenSigner();
    assert.equal(new TokenSigner().verify(a.sign({ sub: 'x', streams: '*', exp: NOW + 9 }), NOW).ok, false);
  });

  test('TokenSigner.verify() refuses correctly signed claims of the wrong shape', () => {
    const signer = new TokenSigner(SECRET);
    const signed = (value: unknown) => {
      const head = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
        'base64url',
      );
      return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
    };
    for (const claims of [
      '{not json',
      null,
      { sub: 1, streams: '*', exp: NOW + 9 },
      { sub: 'a', streams: 'demo', exp: NOW + 9 },
      { sub: 'a', streams: [1], exp: NOW + 9 },
      { sub: 'a', streams: '*', exp: 'later' },
      { sub: 'a', streams: '*' },
    ]) {
      assert.deepEqual(
        signer.verify(signed(claims), NOW),
        { ok: false, reason: 'malformed' },
        JSON.stringify(claims),
      );
    }
    assert.equal(signer.verify(signed({ sub: 'a', streams: '*', exp: NOW + 9 }), NOW).ok, true);
  });

  test('new TokenSigner() throws RangeError for a secret shorter than 16 bytes', () => {
    assert.throws(() => new TokenSigner('short'), RangeError);
  });
});
