import assert from 'node:assert/strict';
import type { Socket as UdpSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidStateError, ParseError, TimeoutError } from '../../../src/core/errors.ts';
import type { Frame } from '../../../src/core/media.ts';
import { type RtspSource, rtspSourceFactory } from '../../../src/protocols/rtsp/client/index.ts';
import { parseRtcpCompound } from '../../../src/rtp/index.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import {
  camera,
  FakeRtspServer,
  h264Keyframe,
  rtp,
  SESSION_ID,
  SSRC,
  udpSocket,
  until,
} from './client-fake-server.ts';

const SDP =
  'v=0\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:video\r\nm=audio 0 RTP/AVP 8\r\na=control:audio\r\n';

/** A throwaway self-signed certificate (CN=camera.test), as cameras have; not verified by design. */
const TLS = {
  key: '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdqNOQb65Nk2v8jZx\niXPCwYPfjssOyQGw2vfa5rP0O66hRANCAARMOgHrFJdqxzOLcPbEpi+Nu5LJxwqy\njkJOr13nX9CmjDujx0DFLweak6uDKs7xEmGU+FnH4c8aojhDZoc+F9JK\n-----END PRIVATE KEY-----\n',
  cert: '-----BEGIN CERTIFICATE-----\nMIIBgzCCASmgAwIBAgIUVi1rUNuDyJgUyxZ+0p3W9XHgqJ4wCgYIKoZIzj0EAwIw\nFjEUMBIGA1UEAwwLY2FtZXJhLnRlc3QwIBcNMjYxMTI3MTA1NDM5WhgPMjEyNjEx\nMDMxMDU0MzlaMBYxFDASBgNVBAMMC2NhbWVyYS50ZXN0MFkwEwYHKoZIzj0CAQYI\nKoZIzj0DAQcDQgAETDoB6xSXasczi3D2xKYvjbuSyccKso5CTq9d51/Qpow7o8dA\nxS8HmpOrgyrO8RJhlPhZx+HPGqI4Q2aHPhfSSqNTMFEwHQYDVR0OBBYEFJNVHXr0\nSeQOlZRm/eZT2jW+uSy+MB8GA1UdIwQYMBaAFJNVHXr0SeQOlZRm/eZT2jW+uSy+\nMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhANNdRSlcaQc2l9/0\nOb0mdldkLUEiiD0uGeMoCC+XxqK2AiB84V87LNnQnbGHApRGZMLOQ6H63fXc2OSB\nCtUiPUCeJw==\n-----END CERTIFICATE-----\n',
};

let before: ResourceCounts;
const servers: FakeRtspServer[] = [];
const conns: RtspSource[] = [];
const cleanups: (() => void)[] = [];

async function server(...args: ConstructorParameters<typeof FakeRtspServer>): Promise<FakeRtspServer> {
  const s = new FakeRtspServer(...args);
  servers.push(s);
  await s.listen();
  return s;
}

async function connect(
  url: string,
  sink: (i: number, f: Frame) => void = () => undefined,
  signal = new AbortController().signal,
): Promise<RtspSource> {
  const conn = (await rtspSourceFactory(url).connect(sink, signal)) as RtspSource;
  conns.push(conn);
  return conn;
}

/** Sends a keyframe every 40 ms on channel 0 until the test ends. */
function streamVideo(c: { interleaved: (ch: number, d: Buffer) => void }): void {
  let seq = 0;
  const timer = setInterval(() => {
    for (const p of h264Keyframe(seq, seq * 1800)) c.interleaved(0, p);
    seq += 2;
  }, 40);
  cleanups.push(() => clearInterval(timer));
}

beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  for (const f of cleanups.splice(0)) f();
  for (const c of conns.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
  await assertNoLeaks(before);
});

describe('RTSP client timeouts and lifecycle', () => {
  test('connect() rejects with TimeoutError naming the step when the server never answers (#timeout=0.3)', async () => {
    const mute = await server(() => undefined);
    const t0 = performance.now();
    await assert.rejects(connect(mute.url('/s', '#timeout=0.3')), (err: Error) => {
      assert.ok(err instanceof TimeoutError);
      assert.match(
        err.message,
        /^rtsp:\/\/127\.0\.0\.1:\d+\/s#timeout=0\.3: no answer to OPTIONS within 300 ms$/,
      );
      return true;
    });
    const ms = performance.now() - t0;
    assert.ok(ms >= 280 && ms < 1000, `gave up after ${ms} ms`);
  });

  test('connect() rejects at once with the socket error, without the password, when the port is closed', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assert.rejects(connect(`rtsp://admin:secret@127.0.0.1:${port}/s`), (err: Error) => {
      assert.match(err.message, /^rtsp:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/s: connect ECONNREFUSED/);
      return true;
    });
  });

  test('connect() rejects promptly and frees everything when the signal aborts', async () => {
    const mute = await server(() => undefined);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const t0 = performance.now();
    await assert.rejects(
      connect(mute.url(), () => undefined, ac.signal),
      InvalidStateError,
    );
    assert.ok(performance.now() - t0 < 500);
    await assert.rejects(
      connect(mute.url(), () => undefined, ac.signal),
      /connect aborted/,
      'an aborted signal fails at once',
    );
  });

  test('a playing source that gets no RTP emits close once with TimeoutError after #timeout and tears the session down', async () => {
    const cam = await server(camera({ sdp: SDP }));
    const conn = await connect(cam.url('/s', '#timeout=0.4'));
    const closes: (Error | undefined)[] = [];
    conn.on('close', (err) => closes.push(err));
    const t0 = performance.now();
    await until(() => closes.length > 0);
    const ms = performance.now() - t0;
    assert.ok(ms >= 350 && ms < 1200, `closed after ${ms} ms`);
    assert.ok(closes[0] instanceof TimeoutError);
    assert.match(closes[0].message, /no RTP data for 0\.4 s$/);
    await until(() => cam.methods().includes('TEARDOWN'));
    await sleep(50);
    assert.equal(closes.length, 1);
  });

  test('source.close() sends TEARDOWN with the session, emits close exactly once and is idempotent', async () => {
    const cam = await server(camera({ sdp: SDP }));
    const conn = await connect(cam.url('/s'));
    let closes = 0;
    conn.on('close', (err) => {
      closes++;
      assert.equal(err, undefined);
    });
    conn.close();
    conn.close();
    assert.equal(closes, 1);
    await until(() => cam.methods().includes('TEARDOWN'));
    const teardown = cam.requests.find((r) => r.method === 'TEARDOWN');
    assert.equal(teardown?.uri, cam.url('/s'));
    assert.equal(teardown?.headers.get('session'), SESSION_ID);
  });

  test('the source emits close with an error when the server drops the connection, and with ParseError on garbage', async () => {
    const cam = await server(camera({ sdp: SDP }));
    const conn = await connect(cam.url('/s'));
    const closed = new Promise<Error | undefined>((resolve) => conn.on('close', resolve));
    cam.conns[0].socket.destroy();
    assert.match((await closed)?.message ?? '', /connection closed by the server$/);

    const sloppy = await server(
      camera({
        sdp: SDP,
        onPlay: (c) => setTimeout(() => c.socket.write('RTSP/1.0 200 OK\r\nbroken header\r\n\r\n'), 20),
      }),
    );
    const conn2 = await connect(sloppy.url('/s'));
    const closed2 = new Promise<Error | undefined>((resolve) => conn2.on('close', resolve));
    assert.ok((await closed2) instanceof ParseError);
  });

  test('keep-alives go out every half session timeout (GET_PARAMETER) and receiver reports every 5 s', async () => {
    const cam = await server(camera({ sdp: SDP, sessionTimeout: 2, onPlay: streamVideo }));
    const conn = await connect(cam.url('/s'));
    const started = performance.now();
    // Wait for the first receiver report rather than a fixed time: on a loaded machine the timer
    // tick that sends it may come a little after the 5 s mark.
    await until(() => cam.conns[0].frames.some((f) => f.channel === 1), 9000);
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds >= 4.9, `first receiver report after ${seconds.toFixed(2)} s, not before 5 s`);
    const keepAlives = cam.requests.filter((r) => r.method === 'GET_PARAMETER');
    // One keep-alive every half session timeout (1 s).
    assert.ok(
      keepAlives.length >= Math.floor(seconds) - 1 && keepAlives.length <= Math.ceil(seconds) + 1,
      `${keepAlives.length} keep-alives in ${seconds.toFixed(2)} s`,
    );
    for (const r of keepAlives) assert.equal(r.headers.get('session'), SESSION_ID);
    const reports = cam.conns[0].frames.filter((f) => f.channel === 1).map((f) => parseRtcpCompound(f.data));
    assert.equal(reports.length, 1, 'one receiver report (audio has no sender yet)');
    const [rr, sdes] = reports[0];
    assert.ok(rr.type === 'rr' && sdes.type === 'sdes');
    assert.equal(rr.reports[0].ssrc, SSRC);
    assert.ok(rr.reports[0].highestSequence > 200, 'highest sequence number received');
    assert.equal(rr.reports[0].totalLost, 0);
    assert.equal(conn.counters.receiverReports, 1);
  });

  test('keep-alives fall back to OPTIONS when GET_PARAMETER is not listed or is refused', async () => {
    const plain = await server(
      camera({ sdp: SDP, sessionTimeout: 1, public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN' }),
    );
    const refusing = await server((req, c) =>
      req.method === 'GET_PARAMETER' ? c.reply(req, 501) : camera({ sdp: SDP, sessionTimeout: 1 })(req, c),
    );
    await connect(plain.url('/s'));
    await connect(refusing.url('/s'));
    await sleep(1300);
    const after = (s: FakeRtspServer) => s.methods().slice(s.methods().indexOf('PLAY') + 1);
    assert.deepEqual(after(plain), ['OPTIONS', 'OPTIONS']);
    assert.deepEqual(after(refusing), ['GET_PARAMETER', 'OPTIONS']);
    assert.equal(plain.requests.at(-1)?.headers.get('session'), SESSION_ID);
  });

  test('rtsps:// connects over TLS to a camera with a self-signed certificate', async () => {
    const cam = await server(camera({ sdp: SDP, onPlay: streamVideo }), false, TLS);
    const frames: Frame[] = [];
    await connect(`rtsps://127.0.0.1:${cam.port}/s`, (_i, f) => frames.push(f));
    await until(() => frames.length > 0);
    assert.equal(cam.requests[0].uri, `rtsps://127.0.0.1:${cam.port}/s`);
  });
});

describe('RTSP client over UDP', () => {
  test('#transport=udp binds even/odd ports, reorders, drops packets from other hosts and sends RTCP to server_port', async () => {
    const rtcp = await udpSocket();
    const sender = await udpSocket();
    const rogue = await udpSocket('127.0.0.2');
    const received: Buffer[] = [];
    rtcp.on('message', (m) => received.push(m));
    cleanups.push(...[rtcp, sender, rogue].map((s: UdpSocket) => () => s.close()));
    const clientPorts: number[] = [];
    const cam = await server(camera({ sdp: SDP, udpRtcp: rtcp, clientPorts }));
    const frames: [number, Frame][] = [];
    const conn = await connect(cam.url('/s', '#transport=udp'), (i, f) => frames.push([i, f]));
    assert.equal(clientPorts.length, 2);
    for (const p of clientPorts) assert.equal(p % 2, 0, 'RTP on an even port');
    assert.match(
      cam.requests.find((r) => r.method === 'SETUP')?.headers.get('transport') ?? '',
      /^RTP\/AVP;unicast;client_port=\d+-\d+$/,
    );

    rogue.send(h264Keyframe(1, 0)[1], clientPorts[0], '127.0.0.1');
    const [stap, idr] = h264Keyframe(10, 90000);
    sender.send(idr, clientPorts[0], '127.0.0.1'); // out of order
    sender.send(stap, clientPorts[0], '127.0.0.1');
    sender.send(rtp(1, 0, true, Buffer.alloc(160, 0xd5), 8), clientPorts[1], '127.0.0.1');
    await until(() => frames.length >= 2);
    const video = frames.find(([i]) => i === 0)?.[1];
    assert.ok(video?.keyframe, 'STAP-A and IDR put back in order into one keyframe');
    await until(() => conn.counters.strayPackets === 1);

    conn.requestKeyframe();
    await until(() => received.length > 0);
    const pli = parseRtcpCompound(received[0]).find((p) => p.type === 'pli');
    assert.ok(pli?.type === 'pli' && pli.mediaSsrc === SSRC);
  });
});
