import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { HttpServer, sendJson } from '../../../src/api/http.ts';
import { mountStreamsApi } from '../../../src/api/streams.ts';
import { WsHub } from '../../../src/api/ws.ts';
import { mountAuthApi } from '../../../src/auth/api.ts';
import type { AuthService } from '../../../src/auth/index.ts';
import { streamsGuard } from '../../../src/auth/setup.ts';
import type { Config } from '../../../src/config/schema.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { FakeDriver, H264, media } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { authService, basic } from './support.ts';

/** Opens a WebSocket; resolves with "open" or the HTTP status of the refused upgrade. */
function wsStatus(url: string): Promise<string | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', () => resolve('error'));
  });
}

describe('the HTTP authorize hook', { timeout: 20000 }, () => {
  let leaks: ResourceCounts;
  let auth: AuthService;
  let http: HttpServer;
  let hub: WsHub;
  let registry: StreamRegistry;
  let base: string;

  before(async () => {
    leaks = activeResources();
    auth = authService({}, { freeFailures: 3, baseDelayMs: 100, maxWaiting: 1 });
    const schemes = new SchemeTable();
    schemes.register('fake', () => new FakeDriver([media(H264)]));
    registry = new StreamRegistry(schemes, { idleTimeoutMs: 50 });
    for (const name of ['cam', 'other']) await registry.create(name, ['fake://x'], 'config');
    const log = silentLogger();
    http = new HttpServer({ maxBodyBytes: 1024, log });
    http.authorize = auth.authorizeHttp;
    mountAuthApi(http, auth);
    const config = { api: { fileRoot: undefined } } as unknown as Config;
    mountStreamsApi(http, registry, streamsGuard(config, auth));
    http.route('GET', '/api/stream.mp4', (req, res) => sendJson(res, 200, { playing: req.query.get('src') }));
    http.route('GET', '/api/debug/handles', (_req, res) => sendJson(res, 200, {}));
    http.routePrefix('GET', '/', (_req, res) => sendJson(res, 200, { page: true }));
    hub = new WsHub(http, log);
    const { port } = await http.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    hub.close();
    await http.close();
    registry.close();
    auth.close();
    await assertNoLeaks(leaks);
  });

  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${base}${path}`, { method, headers });

  test("a request without credentials gets 401 with a Basic challenge, except from a page's script", async () => {
    const res = await get('/api/streams');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="mediagate", charset="UTF-8"');
    assert.deepEqual(await res.json(), { error: 'authentication required' });
    const script = await get('/api/streams', { 'x-requested-with': 'mediagate' });
    assert.equal(script.status, 401);
    assert.equal(script.headers.get('www-authenticate'), null);
    const fetched = await get('/api/streams', { 'sec-fetch-dest': 'empty' });
    assert.equal(fetched.headers.get('www-authenticate'), null, "a page's fetch gets no browser dialog");
    for (const path of ['/api/nothing', '/api/debug/handles', '/api/stream.mp4?src=cam', '/api/me'])
      assert.equal((await get(path)).status, 401, path);
    assert.equal((await get('/index.html')).status, 200, 'the UI files load, so that the login page shows');
  });

  test('Basic credentials of a viewer list its streams only and refuse the rest with 403', async () => {
    const alice = { authorization: basic('alice', 'alice-pass') };
    const list = (await (await get('/api/streams', alice)).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(list), ['cam']);
    assert.equal((await get('/api/streams?src=cam', alice)).status, 200);
    assert.equal((await get('/api/streams?src=other', alice)).status, 403);
    const denied = await get('/api/streams?name=x&src=fake://y', alice, 'PUT');
    assert.equal(denied.status, 403);
    assert.deepEqual(await denied.json(), { error: 'forbidden' });
    assert.equal((await get('/api/debug/handles', alice)).status, 403);
    const me = await (await get('/api/me', alice)).json();
    assert.deepEqual(me, {
      auth: true,
      user: 'alice',
      role: 'viewer',
      via: 'basic',
      streams: ['cam', 'demo'],
      publish: ['pushed'],
    });
    const admin = { authorization: basic('admin', 'admin-pass') };
    assert.deepEqual(Object.keys(await (await get('/api/streams', admin)).json()), ['cam', 'other']);
    assert.equal((await get('/api/debug/handles', admin)).status, 200);
    // A source pointing at this very server is refused: a stream would read itself.
    const loop = await get(
      `/api/streams?name=loop&src=${encodeURIComponent(`${base.replace('http', 'rtsp')}/cam`)}`,
      admin,
      'PUT',
    );
    assert.equal(loop.status, 400);
    assert.match(((await loop.json()) as { error: string }).error, /points at this gateway/);
    const file = await get('/api/streams?name=f&src=file:/etc/passwd', admin, 'PUT');
    assert.equal(file.status, 400);
    assert.match(((await file.json()) as { error: string }).error, /api\.file_root/);
  });

  test('GET /api/token gives a token that opens its stream by ?token= or Bearer, and nothing else', async () => {
    const admin = { authorization: basic('admin', 'admin-pass') };
    const res = await get('/api/token?src=cam&ttl=60', admin);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const { token, expires, streams } = (await res.json()) as {
      token: string;
      expires: number;
      streams: string[];
    };
    assert.deepEqual(streams, ['cam']);
    assert.ok(Math.abs(expires - (Date.now() / 1000 + 60)) < 5);
    assert.equal((await get(`/api/stream.mp4?src=cam&token=${token}`)).status, 200);
    assert.equal((await get('/api/stream.mp4?src=cam', { authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await get(`/api/stream.mp4?src=other&token=${token}`)).status, 403);
    assert.equal((await get(`/api/streams?name=x&src=fake://y&token=${token}`, {}, 'PUT')).status, 403);
    assert.equal((await get(`/api/token?src=cam&token=${token}`)).status, 403, 'a token cannot make tokens');
    const forged = `${token.slice(0, -2)}AA`;
    const bad = await get(`/api/stream.mp4?src=cam&token=${forged}`);
    assert.equal(bad.status, 401);
    assert.deepEqual(await bad.json(), { error: 'invalid or expired credentials' });
    // A viewer may make tokens for its own streams (a player page needs one for its WebSocket).
    const alice = { authorization: basic('alice', 'alice-pass') };
    assert.equal((await get('/api/token?src=cam', alice)).status, 200);
    assert.equal((await get('/api/token?src=other', alice)).status, 403);
    assert.equal((await get('/api/token?src=*', alice)).status, 403);
    assert.equal((await get('/api/token?src=cam&ttl=99999', admin)).status, 400);
    assert.equal((await get('/api/token', admin)).status, 400);
  });

  test('a WebSocket upgrade is checked like a request: 401 without credentials, 403 for another stream', async () => {
    const ws = base.replace('http', 'ws');
    assert.equal(await wsStatus(`${ws}/api/ws?src=cam`), 401);
    const { token } = (await (
      await get('/api/token?src=cam', { authorization: basic('admin', 'admin-pass') })
    ).json()) as {
      token: string;
    };
    assert.equal(await wsStatus(`${ws}/api/ws?src=cam&token=${token}`), 'open');
    assert.equal(await wsStatus(`${ws}/api/ws?src=other&token=${token}`), 403);
    assert.equal(await wsStatus(`${ws}/api/ws?src=cam&token=x.y`), 401);
  });

  test('repeated failures from one address are slowed, then refused with 429 while one waits', async () => {
    const wrong = { authorization: basic('alice', 'wrong') };
    // Earlier tests failed twice (forged and x.y tokens); one more reaches the free limit of 3.
    while (auth.throttle.failures('127.0.0.1') < 3) await get('/api/streams', wrong);
    const t0 = performance.now();
    const [slow, refused] = await Promise.all([get('/api/streams', wrong), get('/api/streams', wrong)]);
    assert.equal(slow.status, 401);
    assert.ok(performance.now() - t0 >= 90, 'the answer waited the delay');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '60');
    const counts = Object.fromEntries(auth.authFailures().map((f) => [`${f.proto} ${f.reason}`, f.count]));
    assert.ok(counts['http missing'] >= 5);
    assert.ok(counts['http invalid'] >= 3);
    assert.ok(counts['http forbidden'] >= 5);
    assert.equal(counts['http throttled'], 1);
  });
});
