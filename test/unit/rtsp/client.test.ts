import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { splitAvcc } from '../../../src/codecs/avcc.ts';
import { parseH264Sps } from '../../../src/codecs/h264/index.ts';
import { ParseError, UnsupportedError } from '../../../src/core/errors.ts';
import type { Frame } from '../../../src/core/media.ts';
import type { SourceConnection } from '../../../src/core/source.ts';
import { RtspAuthenticator } from '../../../src/protocols/rtsp/auth.ts';
import {
  type RtspSource,
  RtspStatusError,
  rtspSourceFactory,
} from '../../../src/protocols/rtsp/client/index.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { camera, FakeRtspServer, h264Keyframe, rtp, SESSION_ID, SSRC, until } from './client-fake-server.ts';

const HIKVISION_SDP = readFileSync(
  new URL('../sdp/fixtures/hikvision-h264-pcma.sdp', import.meta.url),
  'utf8',
);
const HIK_BASE = 'rtsp://192.168.1.64:554/Streaming/Channels/101';

/** H.264 without sprop-parameter-sets, a VP8 track and a metadata track the client must skip. */
const QUIRKY_SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=quirky',
  't=0 0',
  'm=video 0 RTP/AVP 97',
  'a=rtpmap:97 VP8/90000',
  'a=control:trackID=0',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1',
  'a=control:trackID=1',
  'm=application 0 RTP/AVP 107',
  'a=rtpmap:107 vnd.onvif.metadata/90000',
  'a=control:trackID=2',
  'm=audio 0 RTP/AVP 8',
  'a=control:trackID=3',
  '',
].join('\n');

let before: ResourceCounts;
const servers: FakeRtspServer[] = [];
const conns: SourceConnection[] = [];

async function server(...args: ConstructorParameters<typeof FakeRtspServer>): Promise<FakeRtspServer> {
  const s = new FakeRtspServer(...args);
  servers.push(s);
  await s.listen();
  return s;
}

async function connect(
  url: string,
  sink: (i: number, f: Frame) => void = () => undefined,
): Promise<RtspSource> {
  const conn = (await rtspSourceFactory(url).connect(sink, new AbortController().signal)) as RtspSource;
  conns.push(conn);
  return conn;
}

beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
  await assertNoLeaks(before);
});

describe('RTSP client handshake', () => {
  test('connect() runs OPTIONS, DESCRIBE, SETUP per track and PLAY against a Hikvision-like camera with Digest auth', async () => {
    const auth = new RtspAuthenticator('admin', 'p@ss:w/rd', 'IP Camera(12345)');
    const cam = await server(
      camera({
        sdp: HIKVISION_SDP,
        auth,
        sessionTimeout: 60,
        onPlay: (c) => {
          for (const p of h264Keyframe(100, 9000)) c.interleaved(0, p);
          c.interleaved(2, rtp(7, 160, true, Buffer.alloc(160, 0xd5), 8));
        },
      }),
    );
    let resolved = false;
    const frames: [number, Frame][] = [];
    const url = `rtsp://admin:${encodeURIComponent('p@ss:w/rd')}@127.0.0.1:${cam.port}/Streaming/Channels/101`;
    const conn = await connect(url, (i, f) => {
      assert.ok(resolved, 'no frame reaches the engine before connect() resolved');
      frames.push([i, f]);
    });
    resolved = true;
    assert.deepEqual(cam.methods(), ['OPTIONS', 'DESCRIBE', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY']);
    const [options, describe401, describe, setupVideo, setupAudio, play] = cam.requests;
    assert.equal(options.headers.get('authorization'), undefined);
    assert.equal(describe401.headers.get('authorization'), undefined);
    assert.match(
      describe.headers.get('authorization') ?? '',
      /^Digest username="admin", realm="IP Camera\(12345\)"/,
    );
    assert.equal(
      setupVideo.uri,
      `${HIK_BASE}/trackID=1?transportmode=unicast`,
      'absolute control used as is',
    );
    assert.equal(setupVideo.headers.get('transport'), 'RTP/AVP/TCP;unicast;interleaved=0-1');
    assert.equal(setupVideo.headers.get('session'), undefined);
    assert.equal(setupAudio.headers.get('transport'), 'RTP/AVP/TCP;unicast;interleaved=2-3');
    for (const r of [setupVideo, setupAudio, play])
      assert.match(r.headers.get('authorization') ?? '', /^Digest /);
    assert.equal(setupAudio.headers.get('session'), SESSION_ID);
    assert.equal(play.uri, `${HIK_BASE}/?transportmode=unicast`, 'PLAY goes to the session-level control');
    assert.equal(play.headers.get('session'), SESSION_ID);
    assert.deepEqual(
      cam.requests.map((r) => Number(r.headers.get('cseq'))),
      [1, 2, 3, 4, 5, 6],
    );
    assert.deepEqual(
      conn.medias.map((m) => `${m.kind}:${m.codecs.map((c) => c.name).join()}`),
      ['video:H264', 'audio:PCMA'],
    );
    assert.equal(conn.remoteAddress, `127.0.0.1:${cam.port}`);

    await until(() => frames.length >= 2);
    const video = frames.find(([i]) => i === 0)?.[1];
    assert.ok(video?.keyframe);
    const nals = splitAvcc(video.data);
    const sps = parseH264Sps(nals.find((n) => (n[0] & 0x1f) === 7) ?? Buffer.alloc(0));
    assert.deepEqual([sps.width, sps.height], [320, 240]);
    assert.equal(frames.find(([i]) => i === 1)?.[1].data.length, 160);
  });

  test('connect() tolerates bare LF answers, no Content-Base, relative controls, server-chosen channels and unusable tracks', async () => {
    const cam = await server(
      camera({
        sdp: QUIRKY_SDP,
        channelOffset: 10,
        onPlay: (c) => {
          c.interleaved(10, Buffer.from([0x80, 0x60, 0x00])); // truncated RTP: dropped and counted
          c.interleaved(10, rtp(1, 0, false, Buffer.alloc(0))); // empty payload: the depayloader drops it
          // A sender report on the RTP channel, then receiver-side RTCP on the odd one.
          c.interleaved(10, Buffer.from('80c8000612345abc0000000000000000000000000000000000000000', 'hex'));
          c.interleaved(11, Buffer.from('80c90001deadbeef', 'hex'));
          for (const p of h264Keyframe(2, 3000)) c.interleaved(10, p);
        },
      }),
      true,
    );
    const frames: [number, Frame][] = [];
    const conn = await connect(cam.url('/live/ch0'), (i, f) => frames.push([i, f]));
    const setups = cam.requests.filter((r) => r.method === 'SETUP');
    assert.deepEqual(
      setups.map((r) => r.uri),
      [cam.url('/live/ch0/trackID=1'), cam.url('/live/ch0/trackID=3')],
    );
    assert.deepEqual(
      conn.medias.map((m) => `${m.kind}:${m.codecs[0].name}`),
      ['video:H264', 'audio:PCMA'],
    );
    await until(() => frames.length > 0);
    assert.equal(frames[0][0], 0);
    assert.ok(frames[0][1].keyframe, 'H.264 without sprop: parameter sets taken in-band');
    assert.equal(conn.counters.badPackets, 1);
    assert.equal(conn.counters.rtcpPackets, 2);
    assert.equal(cam.requests.find((r) => r.method === 'PLAY')?.uri, cam.url('/live/ch0'));
  });

  test('connect() plays only the kinds of #media= and matches an answer that has no CSeq', async () => {
    const cam = await server((req, c) => {
      if (req.method === 'OPTIONS')
        c.reply(req, 200, { CSeq: '' }); // no CSeq at all
      else camera({ sdp: HIKVISION_SDP })(req, c);
    });
    const conn = await connect(cam.url('/x', '#media=audio'));
    assert.deepEqual(
      conn.medias.map((m) => m.kind),
      ['audio'],
    );
    assert.equal(cam.requests.filter((r) => r.method === 'SETUP').length, 1);
  });

  test('connect() rejects with "authentication failed" when the credentials are refused twice', async () => {
    const cam = await server(camera({ sdp: HIKVISION_SDP, auth: new RtspAuthenticator('admin', 'right') }));
    await assert.rejects(
      rtspSourceFactory(`rtsp://admin:wrong@127.0.0.1:${cam.port}/s`).connect(
        () => undefined,
        new AbortController().signal,
      ),
      (err: Error) => {
        assert.ok(err instanceof RtspStatusError && err.status === 401);
        assert.match(err.message, /authentication failed \(401 to DESCRIBE with digest credentials\)/);
        assert.doesNotMatch(err.message, /wrong/, 'no password in the message');
        return true;
      },
    );
    assert.deepEqual(cam.methods(), ['OPTIONS', 'DESCRIBE', 'DESCRIBE']);
  });

  test('connect() answers a Basic-only challenge and names the missing user when the URL has none', async () => {
    const basicOnly = new RtspAuthenticator('u', 'p');
    basicOnly.challenges = () => ['Basic realm="cam"'];
    const cam = await server(camera({ sdp: HIKVISION_SDP, auth: basicOnly }));
    await connect(`rtsp://u:p@127.0.0.1:${cam.port}/s`);
    assert.equal(
      cam.requests[2].headers.get('authorization'),
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );
    await assert.rejects(
      rtspSourceFactory(cam.url()).connect(() => undefined, new AbortController().signal),
      /DESCRIBE requires authentication \(401\) and the URL has no user/,
    );
  });

  test('connect() rejects with UnsupportedError listing the offer when no track is playable', async () => {
    const sdp =
      'v=0\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP 97\r\na=rtpmap:97 VP8/90000\r\nm=application 0 RTP/AVP 107\r\n';
    const cam = await server(camera({ sdp }));
    await assert.rejects(
      rtspSourceFactory(cam.url()).connect(() => undefined, new AbortController().signal),
      (err: Error) => {
        assert.ok(err instanceof UnsupportedError);
        assert.match(err.message, /no playable media in the SDP \(offered: video:97, application:107\)/);
        return true;
      },
    );
  });

  test('connect() rejects with RtspStatusError naming the method when DESCRIBE fails, and with ParseError on a malformed answer', async () => {
    const notFound = await server((req, c) =>
      req.method === 'DESCRIBE' ? c.reply(req, 404) : c.reply(req, 200),
    );
    await assert.rejects(
      rtspSourceFactory(notFound.url('/nope')).connect(() => undefined, new AbortController().signal),
      /\/nope: DESCRIBE failed with 404 Not Found/,
    );
    const garbage = await server((_req, c) => c.socket.write('HTTP/1.1 200 OK\r\n\r\n'));
    await assert.rejects(
      rtspSourceFactory(garbage.url()).connect(() => undefined, new AbortController().signal),
      ParseError,
    );
  });

  test('a SETUP refused for one track skips that track and plays the others', async () => {
    const cam = await server((req, c) => {
      if (req.method === 'SETUP' && req.uri.includes('trackID=2')) c.reply(req, 404);
      else camera({ sdp: HIKVISION_SDP })(req, c);
    });
    const conn = await connect(cam.url());
    assert.deepEqual(
      conn.medias.map((m) => m.kind),
      ['video'],
    );
  });

  test('source.requestKeyframe() sends an RTCP PLI for the video SSRC on the RTCP channel', async () => {
    const cam = await server(
      camera({
        sdp: HIKVISION_SDP,
        onPlay: (c) => {
          for (const p of h264Keyframe(1, 0)) c.interleaved(0, p);
        },
      }),
    );
    const frames: Frame[] = [];
    const conn = await connect(cam.url(), (_i, f) => frames.push(f));
    await until(() => frames.length > 0);
    conn.requestKeyframe();
    const rtcp = () => cam.conns[0].frames.find((f) => f.channel === 1);
    await until(() => rtcp() !== undefined);
    const data = rtcp()?.data ?? Buffer.alloc(0);
    const pli = data.indexOf(Buffer.from([0x81, 206, 0, 2]));
    assert.ok(pli > 0, 'RR, SDES, then PLI (PSFB FMT 1)');
    assert.equal(data.readUInt32BE(pli + 8), SSRC);
  });
});
