import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { interleavedHeader } from '../../../src/protocols/rtsp/message.ts';
import { parseSession } from '../../../src/protocols/rtsp/transport.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { startTestServer, type TestRtspClient, waitUntil } from './server-client.ts';

type Fixture = Awaited<ReturnType<typeof startTestServer>>;
let before: ResourceCounts;
let fx: Fixture | undefined;

beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  await fx?.close();
  fx = undefined;
  await assertNoLeaks(before);
});

/** The server still answers a well-behaved client. */
async function stillServes(f: Fixture): Promise<void> {
  const good = await f.client();
  assert.equal((await good.request('OPTIONS', '*')).status, 200);
  assert.equal((await good.request('DESCRIBE', f.url)).status, 200);
  good.close();
}

async function playing(f: Fixture, c: TestRtspClient): Promise<string> {
  await c.request('DESCRIBE', f.url);
  const s = await c.request('SETUP', `${f.url}/trackID=0`, {
    Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
  });
  const id = parseSession(s.headers.get('session')!).id;
  assert.equal((await c.request('PLAY', f.url, { Session: id })).status, 200);
  return id;
}

describe('RtspServer: bad input', { timeout: 20000 }, () => {
  test('random bytes get a 400 and the connection closed; the server keeps serving', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    const junk = randomBytes(40000);
    junk[0] = 0x58; // not '$': parsed as a request head
    c.send(junk);
    await c.waitEnd(2000);
    assert.ok(fx.server.counters.badRequests >= 1);
    await stillServes(fx);
  });

  test('a request without CSeq gets 400 and the connection stays usable', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    c.send('OPTIONS * RTSP/1.0\r\nUser-Agent: x\r\n\r\n');
    const res = await c.waitFor(() => c.responses[0], 2000, 'the 400');
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('cseq'), undefined);
    assert.equal((await c.request('OPTIONS', '*')).status, 200);
    assert.equal(fx.server.connections()[0].counters.badRequests, 1);
  });

  test('a 20 KB header block and a 100 KB body are refused with 400 and the connection closed', async () => {
    fx = await startTestServer();
    const big = await fx.client();
    big.send(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Pad: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    await big.waitEnd(2000);
    assert.equal(big.responses[0]?.status, 400);
    const body = await fx.client();
    body.send(`ANNOUNCE rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 100000\r\n\r\n`);
    await body.waitEnd(2000);
    assert.equal(body.responses[0]?.status, 400);
    await stillServes(fx);
  });

  test('interleaved frames on unknown channels and malformed RTCP are dropped and counted; the session goes on', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    c.send(Buffer.concat([interleavedHeader(9, 4), Buffer.from([1, 2, 3, 4])]));
    await playing(fx, c);
    const conn = fx.server.connections()[0];
    c.send(Buffer.concat([interleavedHeader(7, 3), Buffer.from([1, 2, 3])]));
    c.send(Buffer.concat([interleavedHeader(1, 5), Buffer.from([0x80, 201, 0, 9, 0])])); // truncated RR
    c.send(Buffer.concat([interleavedHeader(1, 8), Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1])])); // a good RR
    assert.equal((await c.request('GET_PARAMETER', fx.url)).status, 200);
    assert.equal(conn.counters.droppedFrames, 3);
    assert.equal(conn.reader?.rtcpIn, 1);
    assert.equal(fx.server.counters.droppedFrames, 2, 'unknown channels in the server totals');
  });

  test('an interleaved frame with a lying length swallows what follows until the idle timeout closes the connection', async () => {
    fx = await startTestServer({ firstRequestTimeoutMs: 200 });
    const c = await fx.client();
    c.send(
      Buffer.concat([interleavedHeader(0, 0xffff), Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n')]),
    );
    await c.waitEnd(2000);
    assert.equal(c.responses.length, 0);
    await stillServes(fx);
  });

  test('truncated RTP from a publisher and UDP datagrams from strangers are dropped and counted', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    const url = `rtsp://127.0.0.1:${fx.port}/p`;
    const sdp =
      'v=0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n';
    assert.equal(
      (await c.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, Buffer.from(sdp))).status,
      200,
    );
    const s = await c.request('SETUP', `${url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;interleaved=0-1;mode=record',
    });
    await c.request('RECORD', url, { Session: parseSession(s.headers.get('session')!).id });
    c.send(Buffer.concat([interleavedHeader(0, 5), Buffer.from([0x80, 96, 0, 1, 0])]));
    c.send(Buffer.concat([interleavedHeader(0, 12), Buffer.from([0x40, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])])); // version 1
    assert.equal((await c.request('GET_PARAMETER', url)).status, 200);
    assert.equal(fx.server.connections()[0].counters.droppedFrames, 2);
    const stranger = createSocket('udp4');
    stranger.send(Buffer.from([0x80, 96, 0, 1]), fx.server.udpPorts![0], '127.0.0.1');
    await waitUntil(() => fx!.server.counters.droppedDatagrams === 1, 2000, 'the dropped datagram');
    stranger.close();
  });

  test('ANNOUNCE with malformed SDP gets 400, with no supported codec 415, with another content type 415', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    const url = `rtsp://127.0.0.1:${fx.port}/p`;
    const type = { 'Content-Type': 'application/sdp' };
    assert.equal((await c.request('ANNOUNCE', url, type, Buffer.from('this is not sdp'))).status, 400);
    assert.equal((await c.request('ANNOUNCE', url, type, Buffer.from('v=0\r\nm=video x\r\n'))).status, 400);
    assert.equal((await c.request('ANNOUNCE', url, type)).status, 400, 'no body');
    const vp8 = 'v=0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 98\r\na=rtpmap:98 VP8/90000\r\n';
    assert.equal((await c.request('ANNOUNCE', url, type, Buffer.from(vp8))).status, 415);
    assert.equal(
      (await c.request('ANNOUNCE', url, { 'Content-Type': 'text/plain' }, Buffer.from('v=0'))).status,
      415,
    );
    assert.equal(fx.registry.get('p'), undefined);
    await stillServes(fx);
  });

  test('requests out of order get 455, a wrong session 454, an unusable transport 461, an unknown method 501', async () => {
    fx = await startTestServer({ udp: undefined });
    const c = await fx.client();
    assert.equal((await c.request('PLAY', fx.url)).status, 455);
    assert.equal((await c.request('RECORD', fx.url)).status, 455);
    await c.request('DESCRIBE', fx.url);
    const multicast = await c.request('SETUP', `${fx.url}/trackID=0`, { Transport: 'RTP/AVP;multicast' });
    assert.equal(multicast.status, 461);
    const udpOff = await c.request('SETUP', `${fx.url}/trackID=0`, {
      Transport: 'RTP/AVP;unicast;client_port=5000-5001',
    });
    assert.equal(udpOff.status, 461, 'UDP is off');
    assert.equal((await c.request('SETUP', `${fx.url}/trackID=0`)).status, 461, 'no Transport');
    assert.equal((await c.request('SETUP', `${fx.url}/trackID=5`, { Transport: 'RTP/AVP/TCP' })).status, 404);
    const ok = await c.request('SETUP', `${fx.url}/trackID=0`, { Transport: 'RTP/AVP/TCP;interleaved=0-1' });
    assert.equal(ok.status, 200);
    assert.equal((await c.request('PLAY', fx.url, { Session: 'nope' })).status, 454);
    assert.equal((await c.request('ANNOUNCE', fx.url, {}, Buffer.from('v=0'))).status, 455);
    assert.equal((await c.request('FLY', fx.url)).status, 501);
  });

  test('more pipelined requests than the limit close the connection', async () => {
    fx = await startTestServer({ maxPendingRequests: 4 });
    const c = await fx.client();
    let burst = '';
    for (let i = 1; i <= 50; i++) burst += `DESCRIBE ${fx.url} RTSP/1.0\r\nCSeq: ${i}\r\n\r\n`;
    c.send(burst);
    await c.waitEnd(2000);
    await stillServes(fx);
  });

  test('connections over max_connections are closed at once and counted', async () => {
    fx = await startTestServer({ maxConnections: 2 });
    const a = await fx.client();
    const b = await fx.client();
    const extra = await fx.client();
    await extra.waitEnd(2000);
    assert.equal(fx.server.counters.rejected, 1);
    assert.equal((await a.request('OPTIONS', '*')).status, 200);
    assert.equal((await b.request('OPTIONS', '*')).status, 200);
  });

  test('server.close() ends playing sessions and frees every socket and timer', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    await playing(fx, c);
    fx.registry.close();
    await c.waitEnd(2000);
    await fx.server.close();
    await fx.server.close();
    assert.equal(fx.server.connectionCount, 0);
  });
});
