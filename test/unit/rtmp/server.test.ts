/**
 * The RTMP server in-process, with the RTMP source client as its player: publish (connect,
 * releaseStream, FCPublish, createStream, publish, then FLV tags) into a stream, play it back
 * through `RtmpDriver`, the end of a publisher reaching its players, refusals (unknown stream,
 * credentials), and the connection limits. Every test checks that no socket or timer is left.
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { AuthService } from '../../../src/auth/index.ts';
import type { Frame, Media } from '../../../src/core/media.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import type { SourceConnection } from '../../../src/core/source.ts';
import { FlvMuxer } from '../../../src/formats/flv/muxer.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { RtmpDriver, rtmpSourceFactory } from '../../../src/protocols/rtmp/client/driver.ts';
import { ClientHandshake } from '../../../src/protocols/rtmp/handshake.ts';
import { type RtmpAccess, rtmpAccess } from '../../../src/protocols/rtmp/server/access.ts';
import { RtmpServer } from '../../../src/protocols/rtmp/server/server.ts';
import { parseRtmpUrl } from '../../../src/protocols/rtmp/url.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { H265_SAMPLES } from '../codecs/fixtures.ts';
import { avcc } from '../ts/media-helpers.ts';
import { publish, syntheticTags, TEST_TLS, type TestPublisher, waitUntil } from './helpers.ts';

let before: ResourceCounts;
let registry: StreamRegistry;
let server: RtmpServer | undefined;
let port = 0;
const cleanups: (() => unknown)[] = [];

async function startServer(access: RtmpAccess = rtmpAccess(undefined)): Promise<void> {
  server = new RtmpServer(
    { registry, log: silentLogger(), access },
    { host: '127.0.0.1', port: 0, connectTimeoutMs: 300, idleTimeoutMs: 2000 },
  );
  port = (await server.listen()).port;
}

beforeEach(() => {
  before = activeResources();
  const schemes = new SchemeTable();
  schemes.register('rtmp', rtmpSourceFactory);
  registry = new StreamRegistry(schemes, { idleTimeoutMs: 100 });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  registry.close();
  await server?.close();
  server = undefined;
  await assertNoLeaks(before);
});

/** Plays `path` from the test server with the source client; frames are collected. */
async function play(path: string): Promise<{ conn: SourceConnection; frames: [number, Frame][] }> {
  const frames: [number, Frame][] = [];
  const driver = new RtmpDriver(parseRtmpUrl(`rtmp://127.0.0.1:${port}/${path}#timeout=2`));
  const conn = await driver.connect((i, f) => frames.push([i, f]), new AbortController().signal);
  cleanups.push(() => conn.close());
  return { conn, frames };
}

async function startPublisher(app: string, name: string): Promise<TestPublisher> {
  const pub = await publish(port, app, name);
  cleanups.push(() => pub.close());
  return pub;
}

describe('RTMP server', { timeout: 20000 }, () => {
  test('server publish and play: a published stream plays back through RtmpDriver with H.264 and AAC from a keyframe', async () => {
    await startServer();
    const pub = await startPublisher('live', 'cam');
    assert.equal(await pub.published, 'NetStream.Publish.Start');
    const [start, ...frames] = syntheticTags(60);
    pub.sendTags(start);
    for (const tags of frames.slice(0, 40)) pub.sendTags(tags);
    await waitUntil(
      () => (registry.get('cam')?.info().tracks.length ?? 0) === 2,
      3000,
      'the publisher tracks',
    );
    const info = registry.get('cam')!.info();
    assert.deepEqual(
      info.producers.map((p) => [p.publisher, p.medias]),
      [[true, ['video:H264/90000', 'audio:AAC/44100/2']]],
    );
    assert.deepEqual(
      pub.commands.map((c) => c.name),
      ['_result', '_result', '_result', '_result', 'onStatus'],
      'connect, releaseStream, FCPublish and createStream are answered, then publish',
    );

    const player = await play('live/cam');
    assert.deepEqual(
      player.conn.medias.map((m) => m.codecs[0].name),
      ['H264', 'AAC'],
    );
    for (const tags of frames.slice(40)) pub.sendTags(tags);
    await waitUntil(
      () => player.frames.filter(([i]) => i === 0).length >= 20,
      3000,
      'video frames at the player',
    );
    const video = player.frames.filter(([i]) => i === 0).map(([, f]) => f);
    assert.equal(video[0].keyframe, true, 'the player starts at a keyframe');
    assert.ok(
      player.frames.some(([i]) => i === 1),
      'audio frames arrive',
    );
    assert.equal(registry.get('cam')!.consumers[0].type, 'rtmp');
  });

  test('server publish and play: Enhanced RTMP H.265 (FourCC hvc1) goes in and out to a client that announces hvc1', async () => {
    await startServer();
    const s = H265_SAMPLES[0];
    const medias: Media[] = [
      {
        kind: 'video',
        direction: 'recvonly',
        codecs: [
          {
            name: 'H265',
            clockRate: 90000,
            fmtp: {
              'sprop-vps': s.vps.toString('base64'),
              'sprop-sps': s.sps.toString('base64'),
              'sprop-pps': s.pps.toString('base64'),
            },
          },
        ],
      },
    ];
    const muxer = new FlvMuxer(medias);
    const frame = (i: number): Frame => {
      const key = i % 10 === 0;
      const slice = Buffer.from([key ? 0x26 : 0x02, 0x01, 0x80 | i, 0x11, 0x22, 0x33]);
      return {
        pts: i * 3600,
        dts: i * 3600,
        keyframe: key,
        data: key ? avcc(s.vps, s.sps, s.pps, slice) : avcc(slice),
      };
    };
    const pub = await startPublisher('live', 'hevc');
    assert.equal(await pub.published, 'NetStream.Publish.Start');
    pub.sendTags(muxer.startTags());
    for (let i = 0; i < 15; i++) pub.sendTags(muxer.frameTags(0, frame(i)));
    await waitUntil(() => registry.get('hevc')?.info().tracks.length === 1, 3000, 'the H.265 track');
    assert.equal(registry.get('hevc')!.info().tracks[0].codec, 'H265');
    const player = await play('live/hevc');
    assert.equal(player.conn.medias[0].codecs[0].name, 'H265');
    for (let i = 15; i < 30; i++) pub.sendTags(muxer.frameTags(0, frame(i)));
    await waitUntil(() => player.frames.length >= 10, 3000, 'H.265 frames at the player');
    assert.equal(player.frames[0][1].keyframe, true);
  });

  test('RtmpDriver plays rtmps:// through TLS (a self-signed certificate, not verified)', async () => {
    await startServer();
    const pub = await startPublisher('live', 'secure');
    await pub.published;
    for (const tags of syntheticTags(12)) pub.sendTags(tags);
    await waitUntil(() => registry.get('secure')?.info().tracks.length === 2, 3000, 'the publisher tracks');
    // A TLS terminator in front of the plain RTMP server.
    const tls = createTlsServer(TEST_TLS, (front) => {
      const back = tcpConnect({ host: '127.0.0.1', port });
      front.pipe(back).pipe(front);
      front.on('error', () => back.destroy());
      back.on('error', () => front.destroy());
      front.once('close', () => back.destroy());
    });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => tls.close(resolve)));
    const address = tls.address();
    const tlsPort = typeof address === 'object' && address ? address.port : 0;
    const frames: Frame[] = [];
    const driver = new RtmpDriver(parseRtmpUrl(`rtmps://127.0.0.1:${tlsPort}/live/secure#timeout=2`));
    const conn = await driver.connect((_i, f) => frames.push(f), new AbortController().signal);
    cleanups.push(() => conn.close());
    assert.deepEqual(
      conn.medias.map((m) => m.codecs[0].name),
      ['H264', 'AAC'],
    );
    for (const tags of syntheticTags(12).slice(1)) pub.sendTags(tags);
    await waitUntil(() => frames.length > 5, 3000, 'frames over TLS');
  });

  test('server play: the player gets NetStream.Play.Stop and its connection closes when the publisher leaves', async () => {
    await startServer();
    const pub = await startPublisher('', 'gone');
    await pub.published;
    for (const tags of syntheticTags(12)) pub.sendTags(tags);
    await waitUntil(() => registry.get('gone')?.info().tracks.length === 2, 3000, 'the publisher tracks');
    const player = await play('live/gone');
    let closed: Error | undefined;
    player.conn.once('close', (err) => {
      closed = err ?? new Error('no error');
    });
    pub.close();
    await waitUntil(() => closed !== undefined, 3000, 'the player to close');
    assert.match(closed!.message, /NetStream\.Play\.Stop|publisher left|closed/);
  });

  test('server play: an unknown stream answers NetStream.Play.StreamNotFound and connect() rejects', async () => {
    await startServer();
    const driver = new RtmpDriver(parseRtmpUrl(`rtmp://127.0.0.1:${port}/live/nothing#timeout=2`));
    await assert.rejects(
      driver.connect(() => {}, new AbortController().signal),
      /StreamNotFound/,
    );
  });

  test('server publish: without the credentials of an auth user the publisher gets NetStream.Publish.Unauthorized', async () => {
    const auth = new AuthService(
      {
        users: { alice: { password: 'secret', role: 'viewer', streams: ['cam'], publish: ['cam'] } },
        localhostBypass: false,
        tokenMaxTtlS: 60,
        publicMetrics: false,
        publicHealth: true,
      },
      silentLogger(),
    );
    cleanups.push(() => auth.close());
    await startServer(rtmpAccess(auth));
    const anonymous = await startPublisher('live', 'cam');
    assert.equal(await anonymous.published, 'NetStream.Publish.Unauthorized');
    const wrong = await startPublisher('live', 'cam?user=alice&pass=nope');
    assert.equal(await wrong.published, 'NetStream.Publish.Unauthorized');
    const other = await startPublisher('live', 'other?user=alice&pass=secret');
    assert.equal(await other.published, 'NetStream.Publish.Unauthorized');
    const alice = await startPublisher('live', 'cam?user=alice&pass=secret');
    assert.equal(await alice.published, 'NetStream.Publish.Start');
  });

  test('server limits: a connection that does not finish the handshake in time is closed', async () => {
    await startServer();
    const socket = tcpConnect({ host: '127.0.0.1', port });
    cleanups.push(() => socket.destroy());
    const t0 = performance.now();
    await new Promise((resolve) => socket.once('close', resolve));
    const ms = performance.now() - t0;
    assert.ok(ms >= 250 && ms < 2500, `closed after ${Math.round(ms)} ms`);
  });

  test('server limits: a chunk stream violation after the handshake closes the connection', async () => {
    await startServer();
    const socket = tcpConnect({ host: '127.0.0.1', port });
    cleanups.push(() => socket.destroy());
    const hs = new ClientHandshake();
    socket.once('connect', () => socket.write(hs.start()));
    socket.on('data', (data: Buffer) => {
      const step = hs.push(data);
      if (step.send) socket.write(step.send);
      // A fmt 3 chunk on a chunk stream never started.
      if (step.done) socket.write(Buffer.from([0xc4, 1, 2, 3]));
    });
    await new Promise((resolve) => socket.once('close', resolve));
    assert.equal(server!.connectionCount, 0);
  });
});
