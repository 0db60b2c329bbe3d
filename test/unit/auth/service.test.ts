import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { AuthService, isLoopback, LOCALHOST_USER } from '../../../src/auth/index.ts';
import { digestHa1 } from '../../../src/auth/password.ts';
import { logSecurityWarnings } from '../../../src/auth/setup.ts';
import { UserConfigError, UserStore } from '../../../src/auth/users.ts';
import type { AuthConfig, Config } from '../../../src/config/schema.ts';
import { createLogging, silentLogger } from '../../../src/log/logger.ts';
import { ADMIN_HASH, authConfig, authService } from './support.ts';

describe('AuthService', { timeout: 10000 }, () => {
  test('AuthService.basic() returns the user with its permissions for the right password only', async () => {
    const auth = authService();
    const admin = await auth.basic('admin', 'admin-pass');
    assert.equal(admin?.role, 'admin');
    assert.equal(admin?.read, '*');
    const alice = await auth.basic('alice', 'alice-pass');
    assert.ok(alice);
    assert.deepEqual([...(alice.read as Set<string>)], ['cam', 'demo']);
    assert.deepEqual([...(alice.publish as Set<string>)], ['pushed']);
    assert.equal(await auth.basic('alice', 'admin-pass'), undefined);
    assert.equal(await auth.basic('nobody', 'alice-pass'), undefined);
    assert.equal(await auth.basic('admin', 'wrong'), undefined);
    assert.equal((await auth.basic('admin', 'admin-pass'))?.user, 'admin', 'a second check (cached) agrees');
    auth.close();
  });

  test('AuthService.token() grants viewing of the token streams its user may still view, never admin', () => {
    const auth = authService();
    const exp = Math.floor(Date.now() / 1000) + 60;
    const byAdmin = auth.token(auth.tokens.sign({ sub: 'admin', streams: ['demo'], exp }));
    assert.ok('principal' in byAdmin);
    assert.equal(byAdmin.principal.role, 'viewer');
    assert.equal(byAdmin.principal.via, 'token');
    assert.deepEqual([...(byAdmin.principal.read as Set<string>)], ['demo']);
    assert.deepEqual([...(byAdmin.principal.publish as Set<string>)], []);
    // alice's token naming a stream she may not view only grants the ones she may.
    const narrowed = auth.token(auth.tokens.sign({ sub: 'alice', streams: ['demo', 'other'], exp }));
    assert.ok('principal' in narrowed);
    assert.deepEqual([...(narrowed.principal.read as Set<string>)], ['demo']);
    const all = auth.token(auth.tokens.sign({ sub: 'alice', streams: '*', exp }));
    assert.ok('principal' in all);
    assert.deepEqual([...(all.principal.read as Set<string>)], ['cam', 'demo']);
    assert.deepEqual(auth.token(auth.tokens.sign({ sub: 'gone', streams: '*', exp })), { reason: 'invalid' });
    assert.deepEqual(auth.token(auth.tokens.sign({ sub: 'alice', streams: '*', exp: exp - 120 })), {
      reason: 'expired',
    });
    assert.deepEqual(auth.token('forged.token'), { reason: 'invalid' });
    auth.close();
  });

  test('AuthService.localPrincipal() makes loopback addresses admin only with localhost_bypass', () => {
    const off = authService();
    assert.equal(off.localPrincipal('127.0.0.1'), undefined);
    const on = authService({ localhostBypass: true });
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])
      assert.equal(on.localPrincipal(a)?.user, LOCALHOST_USER, a);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '', undefined])
      assert.equal(on.localPrincipal(a), undefined);
    assert.equal(isLoopback('128.0.0.1'), false);
    off.close();
    on.close();
  });

  test('AuthService.authFailures() reports the counted refusals by protocol and reason', () => {
    const auth = authService();
    auth.count('http', 'missing');
    auth.count('http', 'missing');
    auth.count('rtsp', 'forbidden');
    assert.deepEqual(auth.authFailures(), [
      { proto: 'http', reason: 'missing', count: 2 },
      { proto: 'rtsp', reason: 'forbidden', count: 1 },
    ]);
    auth.close();
  });

  test('new UserStore() keeps the RTSP HA1 of plain-text and rtsp_ha1 users and refuses bad names and hashes', () => {
    const users = new UserStore(authConfig().users);
    assert.equal(users.get('alice')?.ha1, digestHa1('alice', 'mediagate', 'alice-pass'));
    assert.equal(users.get('admin')?.ha1, undefined);
    assert.deepEqual(users.plainText(), ['alice', 'bob']);
    assert.deepEqual(users.withoutHa1(), ['admin']);
    const withHa1 = new UserStore({
      root: { password: ADMIN_HASH, role: 'admin', streams: [], publish: [], rtspHa1: 'ab'.repeat(16) },
    });
    assert.equal(withHa1.get('root')?.ha1, 'ab'.repeat(16));
    const base = { role: 'viewer' as const, streams: [], publish: [] };
    assert.throws(() => new UserStore({ 'a:b': { ...base, password: 'x' } }), UserConfigError);
    assert.throws(
      () => new UserStore({ 'a b': { ...base, password: 'x' } }),
      /auth\.users\.a b: a user name/,
    );
    assert.throws(
      () => new UserStore({ eve: { ...base, password: 'scrypt$16384$8$1$short' } }),
      /auth\.users\.eve\.password: expected scrypt/,
    );
  });

  test('AuthService.internal is an admin with a random password that works for Basic and RTSP Digest and is not warned about', async () => {
    const a = authService();
    const b = authService();
    assert.notEqual(a.internal.password, b.internal.password);
    const p = await a.basic(a.internal.username, a.internal.password);
    assert.equal(p?.role, 'admin');
    assert.equal(
      a.users.get(a.internal.username)?.ha1,
      digestHa1(a.internal.username, 'mediagate', a.internal.password),
    );
    assert.equal(await a.basic(a.internal.username, b.internal.password), undefined);
    assert.ok(!a.users.plainText().includes(a.internal.username));
    a.close();
    b.close();
  });

  test('logSecurityWarnings() warns about an open gateway on every interface, plain-text passwords and the localhost bypass', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogging({ level: 'info' }, sink).root;
    const config = (listen: string, auth?: AuthConfig) =>
      ({ api: { listen }, rtsp: { listen: '127.0.0.1:8554' }, auth }) as unknown as Config;
    logSecurityWarnings(config(':1984'), undefined, log);
    assert.match(lines.join(''), /"listen":\[":1984"\].*no auth: section/);
    lines.length = 0;
    logSecurityWarnings(config('127.0.0.1:1984'), undefined, log);
    assert.equal(lines.length, 0, 'an open gateway on loopback only is not warned about');
    const auth = authService({ localhostBypass: true });
    logSecurityWarnings(config('0.0.0.0:1984', auth.config), auth, log);
    const text = lines.join('');
    assert.match(text, /"user":"alice".*plain text/);
    assert.match(text, /"user":"bob".*plain text/);
    assert.match(text, /"user":"admin".*no rtsp_ha1/);
    assert.match(text, /localhost_bypass/);
    assert.match(text, /without TLS/);
    auth.close();
  });

  test('new AuthService() throws RangeError for a token_secret shorter than 16 bytes', () => {
    assert.throws(() => new AuthService(authConfig({ tokenSecret: 'short' }), silentLogger()), RangeError);
  });
});
