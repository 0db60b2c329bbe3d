import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_SCRYPT,
  digestHa1,
  hashPassword,
  isPasswordHash,
  PasswordHashError,
  parsePasswordHash,
  verifyPassword,
} from '../../../src/auth/password.ts';

/** Cheap parameters: the format and the checks are the same, the cost is not the subject here. */
const FAST = { N: 1024, r: 8, p: 1 };

describe('password hashes', { timeout: 20000 }, () => {
  test('hashPassword() makes scrypt$N$r$p$SALT$HASH with the default cost and a fresh salt each time', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    assert.match(a, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
    assert.ok(isPasswordHash(a));
    const parsed = parsePasswordHash(a);
    assert.deepEqual([parsed.N, parsed.r, parsed.p], [DEFAULT_SCRYPT.N, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p]);
    assert.equal(parsed.salt.length, 16);
    assert.equal(parsed.hash.length, 32);
  });

  test('verifyPassword() accepts the password and refuses any other, also one differing in the last byte or empty', async () => {
    const stored = await hashPassword('s3cret-é', FAST);
    assert.equal(await verifyPassword(stored, 's3cret-é'), true);
    for (const wrong of ['s3cret-e', 's3cret-é ', '', 'S3cret-é'])
      assert.equal(await verifyPassword(stored, wrong), false);
  });

  test('verifyPassword() compares a plain-text config password exactly', async () => {
    assert.equal(await verifyPassword('plain', 'plain'), true);
    assert.equal(await verifyPassword('plain', 'plain2'), false);
    assert.equal(await verifyPassword('plain', ''), false);
    assert.equal(isPasswordHash('plain'), false);
  });

  test('parsePasswordHash() throws PasswordHashError naming the bad part', () => {
    const cases: [string, RegExp][] = [
      ['scrypt$16384$8$1$c2FsdA', /expected scrypt\$N\$r\$p\$SALT\$HASH/],
      ['scrypt$1000$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', /power of two/],
      ['scrypt$16384$99$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', /r must be/],
      ['scrypt$16384$8$0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', /p must be/],
      ['scrypt$16384$8$1$c2Fs$aGFzaGhhc2hoYXNoaGFzaA', /salt shorter/],
      ['scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaA', /hash must be/],
      [`scrypt$${2 ** 21}$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA`, /power of two from 2 to/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parsePasswordHash(text), PasswordHashError, text);
      assert.throws(() => parsePasswordHash(text), message, text);
    }
  });

  test('digestHa1() gives the HA1 of the RFC 2617 §3.5 example', () => {
    assert.equal(
      digestHa1('Mufasa', 'testrealm@host.com', 'Circle Of Life'),
      '939e7578ed9e3c518a452acee763bce9',
    );
  });
});
