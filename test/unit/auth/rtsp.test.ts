import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { AuthService } from '../../../src/auth/index.ts';
import { authorize, parseChallenges } from '../../../src/protocols/rtsp/auth.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { startTestServer } from '../rtsp/server-client.ts';
import { authService } from './support.ts';

const SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1',
  'a=control:trackID=0',
  '',
].join('\r\n');

describe('RTSP server with the auth: users', { timeout: 20000 }, () => {
  let leaks: ResourceCounts;
  let auth: AuthService;
  let fx: Awaited<ReturnType<typeof startTestServer>>;
  before(() => {
    leaks = activeResources();
  });
  afterEach(async () => {
    await fx?.close();
    auth?.close();
  });
  after(async () => {
    await assertNoLeaks(leaks);
  });

  async function start(overrides = {}) {
    auth = authService(overrides);
    fx = await startTestServer({ access: auth.rtsp });
    await fx.registry.create('other', ['fake://other']);
    return fx;
  }

  test('DESCRIBE without credentials gets 401 with a Digest challenge whose nonce is per connection, and Basic', async () => {
    await start();
    const a = await fx.client();
    const b = await fx.client();
    assert.equal((await a.request('OPTIONS', '*')).status, 200);
    const ra = await a.request('DESCRIBE', fx.url);
    const rb = await b.request('DESCRIBE', fx.url);
    assert.equal(ra.status, 401);
    const ca = parseChallenges(ra.headers.get('www-authenticate')!);
    const cb = parseChallenges(rb.headers.get('www-authenticate')!);
    assert.deepEqual(
      ca.map((c) => [c.scheme, c.realm]),
      [
        ['digest', 'mediagate'],
        ['basic', 'mediagate'],
      ],
    );
    assert.notEqual(ca[0].nonce, cb[0].nonce);
    // A Digest answer made for one connection's nonce is refused on the other.
    const digestA = authorize(ca[0], 'alice', 'alice-pass', 'DESCRIBE', fx.url);
    assert.equal((await b.request('DESCRIBE', fx.url, { Authorization: digestA })).status, 401);
    assert.equal((await a.request('DESCRIBE', fx.url, { Authorization: digestA })).status, 200);
    assert.deepEqual(
      auth.authFailures().find((f) => f.reason === 'invalid'),
      { proto: 'rtsp', reason: 'invalid', count: 1 },
    );
  });

  test('a viewer with Digest reads its stream through SETUP and PLAY and gets 403 for another', async () => {
    await start();
    const c = await fx.client();
    const challenge = parseChallenges(
      (await c.request('DESCRIBE', fx.url)).headers.get('www-authenticate')!,
    )[0];
    const digest = (method: string, uri: string) => authorize(challenge, 'alice', 'alice-pass', method, uri);
    assert.equal(
      (await c.request('DESCRIBE', fx.url, { Authorization: digest('DESCRIBE', fx.url) })).status,
      200,
    );
    // Requests after the first may leave the credentials out: the connection is authenticated.
    const setup = await c.request('SETUP', `${fx.url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(setup.status, 200);
    const session = setup.headers.get('session')!.split(';')[0];
    assert.equal((await c.request('PLAY', fx.url, { Session: session })).status, 200);
    const other = `rtsp://127.0.0.1:${fx.port}/other`;
    const d = await fx.client();
    const ch2 = parseChallenges((await d.request('DESCRIBE', other)).headers.get('www-authenticate')!)[0];
    const denied = await d.request('DESCRIBE', other, {
      Authorization: authorize(ch2, 'alice', 'alice-pass', 'DESCRIBE', other),
    });
    assert.equal(denied.status, 403);
  });

  test('ANNOUNCE needs publish permission: a viewer may publish only to its streams, an admin anywhere (Basic)', async () => {
    await start();
    const basicChallenge = { scheme: 'basic' as const, realm: 'mediagate' };
    const announce = async (user: string, pass: string, name: string) => {
      const c = await fx.client();
      const uri = `rtsp://127.0.0.1:${fx.port}/${name}`;
      const res = await c.request(
        'ANNOUNCE',
        uri,
        {
          Authorization: authorize(basicChallenge, user, pass, 'ANNOUNCE', uri),
          'Content-Type': 'application/sdp',
        },
        Buffer.from(SDP),
      );
      return res.status;
    };
    assert.equal(await announce('alice', 'alice-pass', 'pushed'), 200);
    assert.equal(await announce('alice', 'alice-pass', 'elsewhere'), 403);
    assert.equal(await announce('bob', 'bob-pass', 'pushed'), 403);
    assert.equal(await announce('admin', 'admin-pass', 'anything'), 200);
    assert.equal(await announce('admin', 'nope', 'anything'), 401);
  });

  test('a user with a hashed password and no rtsp_ha1 can use Basic but not Digest', async () => {
    await start();
    const c = await fx.client();
    const [digest, basic] = parseChallenges(
      (await c.request('DESCRIBE', fx.url)).headers.get('www-authenticate')!,
    );
    const d = authorize(digest, 'admin', 'admin-pass', 'DESCRIBE', fx.url);
    assert.equal((await c.request('DESCRIBE', fx.url, { Authorization: d })).status, 401);
    const b = authorize(basic, 'admin', 'admin-pass', 'DESCRIBE', fx.url);
    assert.equal((await c.request('DESCRIBE', fx.url, { Authorization: b })).status, 200);
  });

  test('localhost_bypass lets a loopback client read without credentials', async () => {
    await start({ localhostBypass: true });
    const c = await fx.client();
    assert.equal((await c.request('DESCRIBE', fx.url)).status, 200);
  });
});
