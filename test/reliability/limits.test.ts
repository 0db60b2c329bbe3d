/**
 * The limits added by the reliability suite, each a clear refusal: the API port's cap on open
 * connections (closed at once, counted), its statuses for headers that are too big (431) or too
 * slow (408, see abuse.test.ts) instead of a blanket 400, and the WebRTC TCP port's cap on
 * connections that have not authenticated (the oldest is closed, so a flood cannot lock out a
 * real peer). In-process, 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpServer } from '../../src/api/http.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { frame as frame4571 } from '../../src/protocols/webrtc/framing.ts';
import { bindingRequest, StunClass, StunMessage } from '../../src/protocols/webrtc/stun/index.ts';
import { activeResources, assertNoLeaks } from '../helpers/leaks.ts';
import { startServer } from '../unit/webrtc/transport-client.ts';
import { exchange, hold } from './clients.ts';

test('HttpServer with maxConnections 20 closes the 21st connection at once, counts it in dropped, and serves again once one closes', {
  timeout: 20_000,
}, async () => {
  const before = activeResources();
  const http = new HttpServer({ maxBodyBytes: 1024, maxConnections: 20, log: silentLogger() });
  http.route('GET', '/ok', (_req, res) => {
    res.end('ok');
  });
  const { port } = await http.listen(0, '127.0.0.1');
  const held = await hold(port, 20);
  try {
    const refused = await exchange(port, Buffer.from('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n'), 1000);
    assert.equal(refused.response.length, 0, 'no answer');
    assert.ok(refused.closedByServer, 'closed at once');
    assert.equal(http.dropped, 1);
    held.sockets[0].destroy();
    await sleep(100);
    const served = await exchange(
      port,
      Buffer.from('GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      1000,
    );
    assert.match(served.response.toString(), /^HTTP\/1.1 200/);
  } finally {
    held.closeAll();
    await http.close();
  }
  await assertNoLeaks(before);
});

test('HttpServer answers a 20 KB header block with 431 and garbage with 400, then closes', async () => {
  const http = new HttpServer({ maxBodyBytes: 1024, log: silentLogger() });
  const { port } = await http.listen(0, '127.0.0.1');
  try {
    const big = await exchange(
      port,
      Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`),
    );
    assert.match(big.response.toString(), /^HTTP\/1.1 431 Request Header Fields Too Large\r\n/);
    assert.ok(big.closedByServer);
    const junk = await exchange(port, Buffer.from('\u0001\u0002 nonsense\r\n\r\n'));
    assert.match(junk.response.toString(), /^HTTP\/1.1 400 Bad Request\r\n/);
  } finally {
    await http.close();
  }
});

test('WebRtcServer with maxPendingTcpConnections 8 closes the oldest idle connections as new ones come, and a real connectivity check still gets its answer', {
  timeout: 20_000,
}, async () => {
  const before = activeResources();
  const server = await startServer({ maxPendingTcpConnections: 8 });
  const transport = server.createTransport({
    remoteUfrag: 'peer',
    remotePwd: 'p'.repeat(22),
    remoteFingerprints: [{ algorithm: 'sha-256', value: '00' }],
    transports: 'any',
  });
  const port = server.ports.tcpPort;
  const idle = await hold(port, 12);
  try {
    await sleep(200);
    const closed = idle.sockets.map((s) => idle.closedAt.has(s));
    assert.deepEqual(
      closed,
      [true, true, true, true, false, false, false, false, false, false, false, false],
      'the 4 oldest closed',
    );
    assert.equal(server.counters.tcpEvicted, 4);
    const req = bindingRequest({
      username: `${transport.localUfrag}:peer`,
      remotePwd: transport.localPwd,
      priority: 1,
      iceControlling: 1n,
    });
    const r = await exchange(port, frame4571(req), 500);
    assert.equal(StunMessage.parse(r.response.subarray(2)).cls, StunClass.SuccessResponse);
    assert.equal(server.counters.tcpEvicted, 5, 'it evicted one more idle connection to get in');
  } finally {
    idle.closeAll();
    transport.close();
    await server.close();
  }
  await assertNoLeaks(before, 3000);
});
