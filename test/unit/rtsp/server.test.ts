import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRtpInfo, parseSession, parseTransports } from '../../../src/protocols/rtsp/transport.ts';
import { isRtcp, parseRtcpCompound, parseRtp } from '../../../src/rtp/index.ts';
import { parseSdp } from '../../../src/sdp/index.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { audioFrame, startsKeyframe, startTestServer, videoFrame, waitUntil } from './server-client.ts';

type Fixture = Awaited<ReturnType<typeof startTestServer>>;
let before: ResourceCounts;
let fx: Fixture | undefined;
const udpSockets: UdpSocket[] = [];

beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  for (const s of udpSockets.splice(0)) s.close();
  await fx?.close();
  fx = undefined;
  await assertNoLeaks(before);
});

async function udpPair(): Promise<{
  rtp: UdpSocket;
  rtcp: UdpSocket;
  got: { rtp: Buffer[]; rtcp: Buffer[] };
}> {
  const got = { rtp: [] as Buffer[], rtcp: [] as Buffer[] };
  const bind = async (into: Buffer[]) => {
    const s = createSocket('udp4');
    udpSockets.push(s);
    s.on('message', (m) => into.push(m));
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    return s;
  };
  return { rtp: await bind(got.rtp), rtcp: await bind(got.rtcp), got };
}

describe('RtspServer: readers', { timeout: 20000 }, () => {
  test('OPTIONS answers 200 with the methods and echoes the CSeq', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    const res = await c.request('OPTIONS', '*');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cseq'), '1');
    assert.match(res.headers.get('public') ?? '', /DESCRIBE.*SETUP.*PLAY.*ANNOUNCE.*RECORD/);
  });

  test('DESCRIBE answers the SDP of the negotiated tracks with trackID controls and a Content-Base', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    const res = await c.request('DESCRIBE', fx.url, { Accept: 'application/sdp' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/sdp');
    assert.equal(res.headers.get('content-base'), `${fx.url}/`);
    const sdp = parseSdp(res.body);
    assert.deepEqual(
      sdp.medias.map((m) => [m.kind, m.formats[0], m.attributes.find((a) => a.key === 'control')?.value]),
      [
        ['video', '96', 'trackID=0'],
        ['audio', '111', 'trackID=1'],
      ],
    );
    assert.match(res.body.toString(), /a=rtpmap:96 H264\/90000/);
    assert.match(res.body.toString(), /a=fmtp:96 packetization-mode=1/);
    assert.match(res.body.toString(), /a=rtpmap:111 opus\/48000\/2/);
  });

  test('DESCRIBE picks tracks by the URL query and answers 404, 415 and 400 for unknown streams, codecs and names', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    const kinds = async (query: string) => {
      const res = await c.request('DESCRIBE', `${fx!.url}${query}`);
      assert.equal(res.status, 200, query);
      return parseSdp(res.body).medias.map((m) => m.kind);
    };
    assert.deepEqual(await kinds('?video'), ['video']);
    assert.deepEqual(await kinds('?audio=pcma,opus'), ['audio']);
    assert.deepEqual(await kinds('?video=h264&audio=any'), ['video', 'audio']);
    assert.equal((await c.request('DESCRIBE', `rtsp://127.0.0.1:${fx.port}/missing`)).status, 404);
    assert.equal((await c.request('DESCRIBE', `${fx.url}?video=h265`)).status, 415);
    assert.equal((await c.request('DESCRIBE', `${fx.url}?audio=mp3x`)).status, 400);
  });

  test('PLAY over TCP starts with the cached GOP: the first packet is the keyframe that RTP-Info names', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    assert.equal((await c.request('DESCRIBE', fx.url)).status, 200);
    const src = fx.driver.last;
    src.sink(0, videoFrame(0, true));
    src.sink(0, videoFrame(3600, false));
    src.sink(1, audioFrame(0));
    const setup = await c.request('SETUP', `${fx.url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(setup.status, 200);
    const session = parseSession(setup.headers.get('session')!);
    assert.equal(session.timeout, 60);
    const [t] = parseTransports(setup.headers.get('transport')!);
    assert.deepEqual(t.interleaved, [0, 1]);
    const setup2 = await c.request('SETUP', `${fx.url}/trackID=1`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3',
      Session: session.id,
    });
    assert.equal(setup2.status, 200);
    const play = await c.request('PLAY', fx.url, { Session: session.id });
    assert.equal(play.status, 200);
    const info = parseRtpInfo(play.headers.get('rtp-info')!);
    assert.equal(info[0].url, `${fx.url}/trackID=0`);
    const first = await c.waitFor(() => c.frames.find((f) => f.channel === 0), 1000, 'first video packet');
    assert.ok(startsKeyframe(first.data), 'the GOP replay starts with the IDR');
    const rtp = parseRtp(first.data);
    assert.equal(rtp.sequenceNumber, info[0].seq);
    assert.equal(rtp.timestamp, info[0].rtptime);
    // Live frames follow the replay with contiguous sequence numbers.
    src.sink(0, videoFrame(7200, false));
    src.sink(1, audioFrame(960));
    await c.waitFor(() => c.frames.some((f) => f.channel === 2), 1000, 'audio packet');
    const video = await c.waitFor(() => {
      const v = c.frames.filter((f) => f.channel === 0);
      return v.length >= 5 ? v : undefined;
    });
    const seqs = video.map((f) => parseRtp(f.data).sequenceNumber);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1] + 1) & 0xffff);
    const reader = fx.server.connections()[0].reader!;
    assert.equal(reader.info().rtsp.transport, 'tcp');
    assert.ok(reader.packets >= seqs.length + 1);
  });

  test('PLAY over UDP sends RTP to the client_port pair and RTCP sender reports to its RTCP port', async () => {
    fx = await startTestServer({ senderReportIntervalMs: 100 });
    const c = await fx.client();
    const udp = await udpPair();
    await c.request('DESCRIBE', `${fx.url}?video`);
    const rtpPort = udp.rtp.address().port;
    const rtcpPort = udp.rtcp.address().port;
    const setup = await c.request('SETUP', `${fx.url}?video/trackID=0`, {
      Transport: `RTP/AVP;unicast;client_port=${rtpPort}-${rtcpPort}`,
    });
    assert.equal(setup.status, 200);
    const [t] = parseTransports(setup.headers.get('transport')!);
    assert.deepEqual(t.clientPort, [rtpPort, rtcpPort]);
    assert.deepEqual(t.serverPort, fx.server.udpPorts);
    const session = parseSession(setup.headers.get('session')!).id;
    assert.equal((await c.request('PLAY', fx.url, { Session: session })).status, 200);
    for (let i = 0; i < 5; i++) fx.driver.last.sink(0, videoFrame(i * 3600, i === 0));
    await waitUntil(() => udp.got.rtp.length >= 5, 2000, 'RTP datagrams');
    assert.ok(startsKeyframe(udp.got.rtp[0]));
    await waitUntil(() => udp.got.rtcp.length > 0, 2000, 'an RTCP SR');
    assert.ok(isRtcp(udp.got.rtcp[0]));
    assert.equal(parseRtcpCompound(udp.got.rtcp[0])[0].type, 'sr');
  });

  test('a UDP session without keep-alives or RTCP is closed after the session timeout; one that sends RTCP stays', async () => {
    fx = await startTestServer({ sessionTimeoutMs: 500 });
    const idle = await fx.client();
    const alive = await fx.client();
    const pairs = [await udpPair(), await udpPair()];
    for (const [i, c] of [idle, alive].entries()) {
      await c.request('DESCRIBE', `${fx.url}?video`);
      const ports = `${pairs[i].rtp.address().port}-${pairs[i].rtcp.address().port}`;
      const s = await c.request('SETUP', `${fx.url}?video/trackID=0`, {
        Transport: `RTP/AVP;unicast;client_port=${ports}`,
      });
      await c.request('PLAY', fx.url, { Session: parseSession(s.headers.get('session')!).id });
    }
    const [serverRtp, serverRtcp] = fx.server.udpPorts!;
    assert.ok(serverRtp > 0);
    // A receiver report from the client's RTCP port every 100 ms keeps `alive` going.
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
    for (let i = 0; i < 12; i++) {
      pairs[1].rtcp.send(rr, serverRtcp, '127.0.0.1');
      await sleep(100);
    }
    assert.ok(idle.ended, 'the silent session was closed');
    assert.ok(!alive.ended, 'the session that sent RTCP is still open');
    assert.ok(fx.server.counters.timeouts >= 1);
  });

  test('a connection that sends no request within the first-request timeout is closed', async () => {
    fx = await startTestServer({ firstRequestTimeoutMs: 200 });
    const c = await fx.client();
    c.send('OPTIONS * RTSP/1.0\r\nCSe');
    await c.waitEnd(2000);
    assert.equal(fx.server.counters.timeouts, 1);
  });

  test('a reader is closed, and its connection ended, when its stream is deleted', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    await c.request('DESCRIBE', fx.url);
    const s = await c.request('SETUP', `${fx.url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    await c.request('PLAY', fx.url, { Session: parseSession(s.headers.get('session')!).id });
    const reader = fx.server.connections()[0].reader!;
    let closes = 0;
    reader.on('close', () => closes++);
    await fx.registry.delete('cam');
    await c.waitEnd(2000);
    assert.equal(closes, 1, 'close fires exactly once');
    assert.equal(fx.server.connectionCount, 0);
  });

  test('TEARDOWN ends the session but keeps the connection, and the source stops after its idle timeout', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    await c.request('DESCRIBE', fx.url);
    const s = await c.request('SETUP', `${fx.url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    const id = parseSession(s.headers.get('session')!).id;
    await c.request('PLAY', fx.url, { Session: id });
    assert.equal((await c.request('TEARDOWN', fx.url, { Session: id })).status, 200);
    assert.equal((await c.request('PLAY', fx.url, { Session: id })).status, 454, 'the session is gone');
    assert.equal((await c.request('OPTIONS', '*')).status, 200);
    await sleep(150);
    assert.equal(fx.driver.last.closed, true, 'no reader left: the source stopped');
  });
});
