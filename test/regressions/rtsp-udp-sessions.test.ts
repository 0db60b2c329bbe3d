/**
 * Regression: UDP sessions that come and go must not leave sockets or timers behind (a per-session
 * UDP socket or keep-alive timer that outlives its session is how gateways run out of descriptors
 * after a few days). The RTSP server shares one RTP/RTCP socket pair and one timer; sessions end
 * with TEARDOWN, with their connection, or by the session timeout.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { parseSession } from '../../src/protocols/rtsp/transport.ts';
import { activeResources, assertNoLeaks } from '../helpers/leaks.ts';
import { startTestServer, videoFrame, waitUntil } from '../unit/rtsp/server-client.ts';

test('60 RTSP UDP reader sessions ended by TEARDOWN, by closing the connection and by the session timeout leave no UDPWrap, TCPWrap or Timeout behind', {
  timeout: 30_000,
}, async () => {
  const before = activeResources();
  const fx = await startTestServer({ sessionTimeoutMs: 300 });
  const sink = createSocket('udp4'); // this test's own: where the server sends the RTP
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const listening = activeResources();
  const port = (sink.address() as { port: number }).port;
  let packets = 0;
  sink.on('message', () => packets++);
  try {
    for (let i = 0; i < 60; i++) {
      const c = await fx.client();
      assert.equal((await c.request('DESCRIBE', fx.url)).status, 200);
      const s = await c.request('SETUP', `${fx.url}/trackID=0`, {
        Transport: `RTP/AVP;unicast;client_port=${port}-${port + 1}`,
      });
      assert.equal(s.status, 200);
      const session = parseSession(s.headers.get('session') ?? '').id;
      assert.equal((await c.request('PLAY', fx.url, { Session: session })).status, 200);
      fx.driver.last?.send(0, videoFrame(i * 3000, true));
      if (i % 3 === 0) {
        await c.request('TEARDOWN', fx.url, { Session: session });
        c.close();
      } else if (i % 3 === 1) c.close();
      // else: the connection stays and the session times out
    }
    await waitUntil(() => packets > 0, 2000, 'RTP over UDP');
    await waitUntil(() => fx.server.connections().every((c) => !c.reader), 5000, 'every UDP session ended');
    for (const c of fx.server.connections()) c.close();
    await waitUntil(() => fx.server.connectionCount === 0, 2000, 'every connection closed');
    await assertNoLeaks(listening, 3000);
  } finally {
    sink.close();
    await fx.close();
  }
  await assertNoLeaks(before, 3000);
});
