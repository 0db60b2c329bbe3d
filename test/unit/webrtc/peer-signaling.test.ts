import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { HttpServer } from '../../../src/api/http.ts';
import { WsHub } from '../../../src/api/ws.ts';
import type { StreamRegistry } from '../../../src/core/registry.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { PeerSessions } from '../../../src/protocols/webrtc/peer/sessions.ts';
import { mountWebRtcHttp } from '../../../src/protocols/webrtc/signaling/http.ts';
import { mountWebRtcWs } from '../../../src/protocols/webrtc/signaling/ws.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { chromiumOffer, FakeFactory, fakeRegistry, offer } from './peer-fakes.ts';

const VP8_ONLY = offer([{ kind: 'video', dir: 'recvonly', codecs: ['VP8/90000'] }]);

describe('WebRTC signaling: WHEP, WHIP and /api/ws', { timeout: 20000 }, () => {
  let resources: ResourceCounts;
  let registry: StreamRegistry;
  let factory: FakeFactory;
  let sessions: PeerSessions;
  let http: HttpServer;
  let hub: WsHub;
  let base = '';

  before(async () => {
    resources = activeResources();
    ({ registry } = fakeRegistry());
    await registry.create('cam', ['fake:cam']);
    factory = new FakeFactory();
    sessions = new PeerSessions({ registry, factory, policy: 'any', log: silentLogger() });
    http = new HttpServer({ maxBodyBytes: 64 * 1024, log: silentLogger() });
    hub = new WsHub(http, silentLogger());
    mountWebRtcWs(hub, sessions);
    mountWebRtcHttp(http, sessions);
    const address = await http.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    sessions.closeAll();
    registry.close();
    hub.close();
    await http.close();
    await assertNoLeaks(resources);
  });

  const post = (query: string, body: string, type = 'application/sdp') =>
    fetch(`${base}/api/webrtc${query}`, { method: 'POST', headers: { 'content-type': type }, body });

  test('POST /api/webrtc?src= answers 201 with application/sdp and a Location that DELETE ends', async () => {
    const res = await post('?src=cam', chromiumOffer());
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type'), 'application/sdp');
    const answer = await res.text();
    assert.match(answer, /^v=0\r\n/);
    assert.match(answer, /\r\na=ice-lite\r\n/);
    const location = res.headers.get('location') ?? '';
    assert.match(location, /^\/api\/webrtc\?id=[0-9a-f-]{36}$/);
    assert.equal(sessions.size, 1);
    assert.equal((await fetch(`${base}${location}`, { method: 'PATCH', body: 'a=candidate:x' })).status, 204);
    assert.equal((await fetch(`${base}${location}`, { method: 'DELETE' })).status, 200);
    assert.equal(sessions.size, 0);
    assert.equal(factory.last.closed, true);
    const again = await fetch(`${base}${location}`, { method: 'DELETE' });
    assert.equal(again.status, 404, 'a second DELETE finds nothing');
  });

  test('POST /api/webrtc?src= with go2rtc JSON {type, sdp} answers JSON {type: "answer", sdp}', async () => {
    const res = await post(
      '?src=cam',
      JSON.stringify({ type: 'offer', sdp: chromiumOffer() }),
      'application/json',
    );
    assert.equal(res.status, 200);
    const body = (await res.json()) as { type: string; sdp: string };
    assert.equal(body.type, 'answer');
    assert.match(body.sdp, /a=setup:passive/);
    const location = res.headers.get('location') ?? '';
    assert.equal((await fetch(`${base}${location}`, { method: 'DELETE' })).status, 200);
  });

  test('POST /api/webrtc?dst= (WHIP) publishes into a new stream that viewers can then play', async () => {
    const res = await post('?dst=live', chromiumOffer('sendonly').replace('a=recvonly', 'a=sendonly'));
    assert.equal(res.status, 201);
    assert.match(await res.text(), /a=recvonly/);
    assert.equal(registry.require('live').info().producers.length, 1);
    const view = await post('?src=live', chromiumOffer());
    assert.equal(view.status, 201, 'a viewer negotiates against the publisher tracks');
    await view.text();
    const location = res.headers.get('location') ?? '';
    assert.equal((await fetch(`${base}${location}`, { method: 'DELETE' })).status, 200);
    assert.equal(registry.require('live').info().producers.length, 0);
    assert.equal(sessions.size, 0, 'the viewer of the publisher ended with it');
  });

  test('POST and DELETE /api/webrtc answer 4xx with the reason for bad requests and leave other sessions alone', async () => {
    const keep = await post('?src=cam', chromiumOffer());
    assert.equal(keep.status, 201);
    await keep.text();
    const cases: [string, string, string, number, RegExp][] = [
      ['POST', '', chromiumOffer(), 400, /exactly one of \?src=NAME .* or \?dst=NAME/],
      ['POST', '?src=cam&dst=x', chromiumOffer(), 400, /exactly one of/],
      ['POST', '?src=nope', chromiumOffer(), 404, /stream "nope" not found/],
      ['POST', '?src=cam', '', 400, /empty body/],
      ['POST', '?src=cam', 'this is not sdp', 400, /invalid SDP offer/],
      ['POST', '?src=cam', VP8_ONLY, 400, /codecs not matched: .* => video:VP8/],
      ['POST', '?src=cam&transport=quic', chromiumOffer(), 400, /invalid \?transport=quic/],
      [
        'POST',
        '?dst=cam',
        offer([{ kind: 'video', dir: 'sendonly', codecs: ['VP8/90000'] }]),
        400,
        /codecs not matched: video:VP8 =>/,
      ],
      [
        'POST',
        '?src=cam',
        chromiumOffer().replace(/a=fingerprint:.*\r\n/g, ''),
        400,
        /missing a=fingerprint/,
      ],
      ['DELETE', '?id=00000000-0000-0000-0000-000000000000', '', 404, /not found/],
      ['DELETE', '', '', 400, /missing \?id=/],
    ];
    for (const [method, query, body, status, reason] of cases) {
      const res = await fetch(`${base}/api/webrtc${query}`, {
        method,
        headers: { 'content-type': 'application/sdp' },
        body: method === 'POST' ? body : undefined,
      });
      assert.equal(res.status, status, `${method} ${query}`);
      assert.match(((await res.json()) as { error: string }).error, reason, `${method} ${query}`);
    }
    const json = await post('?src=cam', '{"type":"offer"', 'application/json');
    assert.equal(json.status, 400);
    assert.match(((await json.json()) as { error: string }).error, /malformed JSON/);
    assert.equal(sessions.size, 1, 'the good session is still there');
    assert.equal(factory.last.closed, false);
    assert.equal((await fetch(`${base}${keep.headers.get('location')}`, { method: 'DELETE' })).status, 200);
  });

  test('webrtc/offer on /api/ws answers webrtc/answer, sends error messages with the reason, and ends the session with the socket', async () => {
    const exchange = async (query: string, messages: object[], expect: number) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/ws${query}`);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const replies: { type: string; value: string }[] = [];
      ws.on('message', (data) => replies.push(JSON.parse(String(data))));
      for (const m of messages) ws.send(JSON.stringify(m));
      const deadline = Date.now() + 3000;
      while (replies.length < expect && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return { ws, replies };
    };
    const closed = (ws: WebSocket) => new Promise((resolve) => ws.once('close', resolve));

    const ok = await exchange(
      '?src=cam',
      [
        { type: 'webrtc/offer', value: chromiumOffer() },
        { type: 'webrtc/candidate', value: 'candidate:1 1 udp 1 192.0.2.1 9 typ host' },
      ],
      1,
    );
    assert.deepEqual(
      ok.replies.map((r) => r.type),
      ['webrtc/answer'],
      'a candidate from the browser is no error',
    );
    assert.match(ok.replies[0].value, /a=sendonly/);
    assert.equal(sessions.size, 1);
    const transport = factory.last;
    ok.ws.close();
    await closed(ok.ws);
    for (let i = 0; i < 100 && sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sessions.size, 0, 'the session ended with its socket');
    assert.equal(transport.closed, true);

    const pub = await exchange(
      '?dst=fromws',
      [{ type: 'webrtc/offer', value: chromiumOffer('sendonly').replace('a=recvonly', 'a=sendonly') }],
      1,
    );
    assert.equal(pub.replies[0]?.type, 'webrtc/answer');
    assert.match(pub.replies[0].value, /a=recvonly/);
    assert.equal(registry.require('fromws').info().producers.length, 1, 'publishing over the WebSocket');
    pub.ws.close();
    await closed(pub.ws);
    for (let i = 0; i < 100 && sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(registry.require('fromws').info().producers.length, 0);

    const cases: [string, object, RegExp][] = [
      ['?src=nope', { type: 'webrtc/offer', value: chromiumOffer() }, /stream "nope" not found/],
      ['?src=cam', { type: 'webrtc/offer', value: VP8_ONLY }, /codecs not matched/],
      ['?src=cam', { type: 'webrtc/offer', value: 'garbage' }, /invalid SDP offer/],
      ['?src=cam', { type: 'webrtc/offer' }, /"value" must be the SDP offer/],
    ];
    for (const [query, message, reason] of cases) {
      const { ws, replies } = await exchange(query, [message], 1);
      assert.equal(replies[0]?.type, 'error', query);
      assert.match(replies[0].value, reason);
      ws.close();
      await closed(ws);
    }
    assert.equal(sessions.size, 0);
  });
});
