import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createPayloader } from '../../../src/codecs/index.ts';
import type { Frame } from '../../../src/core/media.ts';
import { authorize, parseChallenges } from '../../../src/protocols/rtsp/auth.ts';
import { interleavedHeader } from '../../../src/protocols/rtsp/message.ts';
import { parseSession, parseTransports } from '../../../src/protocols/rtsp/transport.ts';
import { RtpEncoder } from '../../../src/rtp/index.ts';
import { parseSdp } from '../../../src/sdp/index.ts';
import { H264, RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { startTestServer, type TestRtspClient, videoFrame, waitUntil } from './server-client.ts';

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

const SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=pub',
  't=0 0',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1',
  'a=control:streamid=0',
  'm=audio 0 RTP/AVP 97',
  'a=rtpmap:97 opus/48000/2',
  'a=control:streamid=1',
  '',
].join('\r\n');

/** The RTP packets of H.264 frames, numbered by one encoder. */
function packetizer() {
  const payloader = createPayloader(H264, 1200);
  const encoder = new RtpEncoder({ payloadType: 96, ssrc: 0x1234, clockRate: 90000 });
  return (frame: Frame) =>
    payloader.packetize(frame).flatMap((o) => encoder.encode([o.payload], o.timestamp, o.marker));
}

async function announce(
  c: TestRtspClient,
  url: string,
  transport = 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
) {
  const ann = await c.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, Buffer.from(SDP));
  assert.equal(ann.status, 200);
  const setup = await c.request('SETUP', `${url}/streamid=0`, { Transport: transport });
  assert.equal(setup.status, 200);
  return { setup, session: parseSession(setup.headers.get('session')!).id };
}

describe('RtspServer: publishers', { timeout: 20000 }, () => {
  test('ANNOUNCE, SETUP mode=record and RECORD create the stream and its frames reach readers; TEARDOWN ends them', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    const url = `rtsp://127.0.0.1:${fx.port}/pushed`;
    const { setup, session } = await announce(c, url);
    assert.deepEqual(parseTransports(setup.headers.get('transport')!)[0].interleaved, [0, 1]);
    assert.equal(fx.registry.get('pushed'), undefined, 'the stream is made at RECORD');
    assert.equal((await c.request('RECORD', url, { Session: session })).status, 200);
    const stream = fx.registry.require('pushed');
    const consumer = new RecordingConsumer();
    await stream.addConsumer(consumer);
    consumer.play();
    const packets = packetizer();
    const frames = [videoFrame(0, true), videoFrame(3600, false), videoFrame(7200, false)];
    for (const f of frames)
      for (const p of packets(f)) c.send(Buffer.concat([interleavedHeader(0, p.length), p]));
    await waitUntil(() => consumer.received.length >= 2, 2000, 'frames at the consumer');
    assert.deepEqual(consumer.received[0].frame.data, frames[0].data);
    assert.equal(consumer.received[0].frame.keyframe, true);
    // An RTSP reader of the published stream gets its SDP.
    const reader = await fx.client();
    const desc = await reader.request('DESCRIBE', `${url}?video`);
    assert.equal(desc.status, 200);
    assert.equal(parseSdp(desc.body).medias[0].kind, 'video');
    assert.equal((await c.request('TEARDOWN', url, { Session: session })).status, 200);
    assert.equal(consumer.closed, true, 'readers of a publisher end with it');
    assert.equal(stream.info().producers.length, 0);
  });

  test('a publisher that disconnects is removed from its stream, which readers then get 404 for', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    const url = `rtsp://127.0.0.1:${fx.port}/gone`;
    const { session } = await announce(c, url);
    await c.request('RECORD', url, { Session: session });
    const stream = fx.registry.require('gone');
    assert.equal(stream.info().producers[0].publisher, true);
    c.close();
    await waitUntil(() => stream.info().producers.length === 0, 2000, 'the publisher to leave');
    const reader = await fx.client();
    assert.equal((await reader.request('DESCRIBE', url)).status, 404, 'nobody publishes: not found');
  });

  test('a UDP publisher sends RTP from its client_port to the server RTP port', async () => {
    fx = await startTestServer();
    const c = await fx.client();
    const rtp = createSocket('udp4');
    udpSockets.push(rtp);
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', resolve));
    const port = rtp.address().port;
    const url = `rtsp://127.0.0.1:${fx.port}/udppub`;
    const { setup, session } = await announce(
      c,
      url,
      `RTP/AVP;unicast;client_port=${port}-${port + 1};mode=record`,
    );
    const serverPort = parseTransports(setup.headers.get('transport')!)[0].serverPort!;
    await c.request('RECORD', url, { Session: session });
    const consumer = new RecordingConsumer();
    await fx.registry.require('udppub').addConsumer(consumer);
    consumer.play();
    const packets = packetizer();
    for (const f of [videoFrame(0, true), videoFrame(3600, false), videoFrame(7200, false)]) {
      for (const p of packets(f)) rtp.send(p, serverPort[0], '127.0.0.1');
    }
    await waitUntil(() => consumer.received.length >= 2, 2000, 'frames from UDP');
    assert.equal(consumer.received[0].frame.keyframe, true);
  });

  test('with rtsp.username set, requests get 401 with Digest and Basic challenges, and either answer works', async () => {
    fx = await startTestServer({ username: 'admin', password: 's3cret' });
    const c = await fx.client();
    assert.equal((await c.request('OPTIONS', '*')).status, 200, 'OPTIONS needs no credentials');
    const denied = await c.request('DESCRIBE', fx.url);
    assert.equal(denied.status, 401);
    const challenges = parseChallenges(denied.headers.get('www-authenticate')!);
    assert.deepEqual(
      challenges.map((ch) => ch.scheme),
      ['digest', 'basic'],
    );
    const wrong = authorize(challenges[1], 'admin', 'nope', 'DESCRIBE', fx.url);
    assert.equal((await c.request('DESCRIBE', fx.url, { Authorization: wrong })).status, 401);
    const digest = authorize(challenges[0], 'admin', 's3cret', 'DESCRIBE', fx.url);
    assert.equal((await c.request('DESCRIBE', fx.url, { Authorization: digest })).status, 200);
    const other = await fx.client();
    const basic = authorize(challenges[1], 'admin', 's3cret', 'ANNOUNCE', fx.url);
    const ann = await other.request(
      'ANNOUNCE',
      `rtsp://127.0.0.1:${fx.port}/p`,
      { Authorization: basic },
      Buffer.from(SDP),
    );
    assert.equal(ann.status, 200, 'publishers authenticate too');
  });
});
