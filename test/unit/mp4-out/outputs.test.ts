import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { HttpServer } from '../../../src/api/http.ts';
import { WsHub } from '../../../src/api/ws.ts';
import { joinAvcc } from '../../../src/codecs/avcc.ts';
import {
  InvalidStateError,
  NotFoundError,
  TimeoutError,
  UnsupportedError,
} from '../../../src/core/errors.ts';
import type { Codec, Frame } from '../../../src/core/media.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { GatewayContext, GatewayModule } from '../../../src/module.ts';
import { createHlsModule } from '../../../src/protocols/hls/module.ts';
import { HlsSession } from '../../../src/protocols/hls/session.ts';
import { requestsForCodecList } from '../../../src/protocols/mp4/codecs.ts';
import { SlowReaderError } from '../../../src/protocols/mp4/consumer.ts';
import { attachConsumer } from '../../../src/protocols/mp4/negotiate.ts';
import { MseConsumer } from '../../../src/protocols/mse/consumer.ts';
import { createMseModule } from '../../../src/protocols/mse/module.ts';
import { FakeDriver, H265, media, OPUS, PCMA, RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

/** The demo clip's SPS and PPS (Main profile, level 3.0, 640x360). */
const SPROP = 'Z01AHtkAoC/5cBEAAAMAAQAAAwAyDxYuSA==,aOvCSyA=';
const H264: Codec = { name: 'H264', clockRate: 90000, fmtp: { 'sprop-parameter-sets': SPROP } };
const GO2RTC_CODECS = 'avc1.640029,avc1.64002A,avc1.640033,hvc1.1.6.L153.B0,mp4a.40.2,mp4a.40.5,flac,opus';

const slice = (keyframe: boolean) => joinAvcc([Buffer.from([keyframe ? 0x65 : 0x41, 0x88, 0x84, 0])]);
const videoFrame = (dts: number, keyframe: boolean): Partial<Frame> => ({
  dts,
  pts: dts,
  keyframe,
  data: slice(keyframe),
});

let before: ResourceCounts;
let registry: StreamRegistry;
let drivers: Map<string, FakeDriver>;

/** `fake:h264+opus` gives a source with those medias; the driver is kept by stream name. */
function newRegistry(): StreamRegistry {
  const schemes = new SchemeTable();
  const codecs: Record<string, Codec> = { h264: H264, h265: H265, opus: OPUS, pcma: PCMA };
  schemes.register('fake', (url, ctx) => {
    const d = new FakeDriver(
      url
        .slice('fake:'.length)
        .split('+')
        .map((c) => media(codecs[c])),
    );
    drivers.set(ctx.streamName, d);
    return d;
  });
  return new StreamRegistry(schemes, { idleTimeoutMs: 20 });
}

beforeEach(() => {
  before = activeResources();
  drivers = new Map();
  registry = newRegistry();
});
afterEach(async () => {
  registry.close();
  await assertNoLeaks(before);
});

describe('requestsForCodecList()', () => {
  test('requestsForCodecList() maps go2rtc player codecs to H264, H265 and AAC, OPUS requests, ignoring the rest', () => {
    const r = requestsForCodecList(GO2RTC_CODECS);
    assert.deepEqual(
      r.map((x) => [x.kind, x.codecs === 'any' ? 'any' : x.codecs.map((c) => c.name)]),
      [
        ['video', ['H264', 'H265']],
        ['audio', ['AAC', 'OPUS']],
      ],
    );
    assert.deepEqual(
      requestsForCodecList('avc1.42E01E').map((x) => x.kind),
      ['video'],
      'a browser without audio codecs asks for video only',
    );
    assert.equal(requestsForCodecList(undefined).length, 2, 'no list: everything MP4 carries');
  });

  test('requestsForCodecList() throws UnsupportedError when the client lists no codec MP4 output can carry', () => {
    assert.throws(
      () => requestsForCodecList('flac,vp09.00.10.08'),
      (err: Error) => err instanceof UnsupportedError && /codecs not matched/.test(err.message),
    );
    assert.throws(() => requestsForCodecList(42), UnsupportedError);
  });
});

describe('attachConsumer()', () => {
  test('attachConsumer() rejects with NotFoundError for an unknown stream and closes the consumer', async () => {
    const c = new RecordingConsumer();
    await assert.rejects(attachConsumer(registry, 'nope', c), NotFoundError);
    assert.equal(c.closed, true);
  });

  test('attachConsumer() rejects an H.265 stream for an H.264-only client naming both sides, not audio without picture', async () => {
    await registry.create('cam', ['fake:h265+opus']);
    const c = new MseConsumer(
      { send() {}, sendBinary: () => true, bufferedAmount: 0 },
      requestsForCodecList('avc1.640029,opus'),
    );
    await assert.rejects(attachConsumer(registry, 'cam', c), (err: Error) => {
      assert.ok(err instanceof UnsupportedError);
      assert.equal(err.message, 'codecs not matched: video:H265 => video:H264');
      return true;
    });
    assert.equal(c.closed, true);
    assert.equal(registry.require('cam').consumers.length, 0);
  });

  test('attachConsumer() accepts a stream whose audio the client cannot decode and sends its video alone', async () => {
    await registry.create('cam', ['fake:h264+pcma']);
    const c = new MseConsumer(
      { send() {}, sendBinary: () => true, bufferedAmount: 0 },
      requestsForCodecList(GO2RTC_CODECS),
    );
    await attachConsumer(registry, 'cam', c);
    assert.deepEqual(
      c.tracks.map((t) => t.codec.name),
      ['H264'],
    );
    c.close();
  });
});

describe('MSE over WebSocket', () => {
  let http: HttpServer;
  let hub: WsHub;
  let mse: GatewayModule;
  let port: number;

  beforeEach(async () => {
    const log = silentLogger();
    http = new HttpServer({ maxBodyBytes: 1024, log });
    hub = new WsHub(http, log);
    const ctx = {
      registry,
      http,
      ws: hub,
      logging: { root: log, module: () => log },
    } as unknown as GatewayContext;
    mse = createMseModule(ctx);
    await mse.start();
    port = (await http.listen(0, '127.0.0.1')).port;
  });
  afterEach(async () => {
    registry.close();
    await mse.close();
    hub.close();
    await http.close();
  });

  /** Opens /api/ws?src=NAME, sends the mse request and collects what comes back. */
  async function client(name: string, codecs: string) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws?src=${encodeURIComponent(name)}`);
    const messages: (string | Buffer)[] = [];
    ws.on('message', (data, binary) => messages.push(binary ? (data as Buffer) : data.toString()));
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'mse', value: codecs }));
    const until = async (n: number, ms = 3000) => {
      const deadline = Date.now() + ms;
      while (messages.length < n && Date.now() < deadline) await sleep(10);
      assert.ok(messages.length >= n, `${messages.length} of ${n} messages: ${messages.join(' | ')}`);
    };
    return { ws, messages, closed, until };
  }

  test('ws.send({type: "mse"}) for an unknown stream gets an error naming the stream', async () => {
    const c = await client('nope', GO2RTC_CODECS);
    await c.until(1);
    assert.deepEqual(JSON.parse(c.messages[0] as string), {
      type: 'error',
      value: 'stream "nope" not found',
    });
    c.ws.close();
    await c.closed;
  });

  test('ws.send({type: "mse"}) with codecs the stream does not have gets "codecs not matched" naming both sides', async () => {
    await registry.create('cam', ['fake:h265+opus']);
    const c = await client('cam', 'avc1.640029,mp4a.40.2');
    await c.until(1);
    assert.deepEqual(JSON.parse(c.messages[0] as string), {
      type: 'error',
      value: 'codecs not matched: video:H265, audio:OPUS => video:H264, audio:AAC',
    });
    c.ws.close();
    await c.closed;
  });

  test('ws.send({type: "mse"}) gets the MIME type with RFC 6381 codecs, then the init segment and fragments as binary', async () => {
    await registry.create('cam', ['fake:h264+opus']);
    const c = await client('cam', GO2RTC_CODECS);
    const driver = drivers.get('cam')!;
    for (let i = 0; i < 50 && !driver.connections.length; i++) await sleep(10);
    await sleep(20);
    driver.last.send(0, videoFrame(0, true));
    driver.last.send(1, { dts: 960, pts: 960, keyframe: true, data: Buffer.from([0x58, 1]) });
    driver.last.send(0, videoFrame(3600, false));
    await c.until(3);
    assert.deepEqual(JSON.parse(c.messages[0] as string), {
      type: 'mse',
      value: 'video/mp4; codecs="avc1.4d401e,opus"',
    });
    assert.equal((c.messages[1] as Buffer).subarray(4, 8).toString(), 'ftyp');
    assert.equal((c.messages[2] as Buffer).subarray(4, 8).toString(), 'moof');
    const info = registry.require('cam').info();
    assert.deepEqual(
      info.consumers.map((x) => [x.type, x.tracks]),
      [['mse', ['video:H264', 'audio:OPUS']]],
    );
    c.ws.close();
    await c.closed;
    for (let i = 0; i < 50 && registry.require('cam').consumers.length > 0; i++) await sleep(10);
    assert.equal(registry.require('cam').consumers.length, 0, 'the consumer left with its socket');
  });

  test('ws.send({type: "mse"}) a second time on the same socket replaces the first consumer instead of adding one', async () => {
    await registry.create('cam', ['fake:h264']);
    const c = await client('cam', GO2RTC_CODECS);
    const stream = registry.require('cam');
    for (let i = 0; i < 50 && stream.consumers.length === 0; i++) await sleep(10);
    const first = stream.consumers[0];
    c.ws.send(JSON.stringify({ type: 'mse', value: 'avc1.640029' }));
    for (let i = 0; i < 50 && stream.consumers[0] === first; i++) await sleep(10);
    assert.equal(first.closed, true);
    assert.equal(stream.consumers.length, 1);
    assert.equal(c.ws.readyState, WebSocket.OPEN, 'the socket stays open');
    c.ws.close();
    await c.closed;
  });

  test('registry.delete() closes the MSE socket of its viewers', async () => {
    await registry.create('cam', ['fake:h264']);
    const c = await client('cam', GO2RTC_CODECS);
    for (let i = 0; i < 50 && registry.require('cam').consumers.length === 0; i++) await sleep(10);
    await registry.delete('cam');
    await c.closed;
  });
});

describe('MseConsumer', () => {
  test('consumer.deliver() drops while the socket backlog is over the limit and closes with SlowReaderError when it stays there', async () => {
    await registry.create('cam', ['fake:h264']);
    const conn = { send() {}, sendBinary: () => true, bufferedAmount: 0 };
    const slow = new MseConsumer(conn, requestsForCodecList('avc1.640029'));
    slow.stallTimeoutMs = 100;
    slow.maxBacklogBytes = 1000;
    const other = new RecordingConsumer();
    const stream = registry.require('cam');
    await attachConsumer(registry, 'cam', slow);
    await stream.addConsumer(other);
    slow.play();
    other.play();
    let closeError: Error | undefined;
    let closes = 0;
    slow.on('close', (err) => {
      closes++;
      closeError = err;
    });
    const driver = drivers.get('cam')!;
    driver.last.send(0, videoFrame(0, true));
    conn.bufferedAmount = 5000;
    for (let i = 1; i <= 10 && !slow.closed; i++) {
      driver.last.send(0, videoFrame(i * 3600, false));
      await sleep(25);
    }
    assert.equal(slow.closed, true);
    assert.equal(closes, 1);
    assert.ok(closeError instanceof SlowReaderError, String(closeError));
    assert.ok(closeError instanceof TimeoutError);
    assert.match(closeError.message, /reader too slow: 5000 bytes unsent/);
    assert.ok(slow.counters.drops >= 3, `${slow.counters.drops} drops`);
    driver.last.send(0, videoFrame(99_000, false));
    assert.ok(other.received.length >= 5, `the other reader goes on: ${other.received.length} frames`);
    assert.equal(stream.consumers.length, 1);
  });
});

describe('HlsSession', () => {
  async function session() {
    await registry.create('cam', ['fake:h264']);
    const s = new HlsSession('cam', requestsForCodecList('avc1.640029'));
    await attachConsumer(registry, 'cam', s.consumer);
    s.consumer.play();
    const driver = drivers.get('cam')!;
    /** Sends `seconds` of 25 fps video from `start` s with a keyframe every second. */
    const feed = (start: number, seconds: number) => {
      for (let i = start * 25; i < (start + seconds) * 25; i++)
        driver.last.send(0, videoFrame(i * 3600, i % 25 === 0));
    };
    return { s, feed };
  }

  test('session.playlist() lists segments cut at keyframes of about 1 s in a sliding window of 5', async () => {
    const { s, feed } = await session();
    feed(0, 10);
    const text = s.playlist();
    assert.match(text, /^#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:4\n/);
    assert.match(text, new RegExp(`#EXT-X-MAP:URI="init.mp4\\?id=${s.id}&v=0"`));
    assert.deepEqual(
      [...text.matchAll(/#EXTINF:([\d.]+),\nsegment\.m4s\?id=[\w-]+&n=(\d+)/g)].map((m) => [m[1], m[2]]),
      [
        ['1.000', '4'],
        ['1.000', '5'],
        ['1.000', '6'],
        ['1.000', '7'],
        ['1.000', '8'],
      ],
    );
    assert.equal(s.init?.mime, 'video/mp4; codecs="avc1.4d401e"');
    const seg = await s.segment(8, 1000);
    assert.ok(await s.segment(1, 1000), 'kept a little longer than listed');
    assert.equal(seg.subarray(4, 8).toString(), 'moof');
    await assert.rejects(s.segment(0, 1000), NotFoundError, 'segment 0 left memory');
    await assert.rejects(s.segment(20, 1000), NotFoundError, 'too far ahead');
    s.close();
  });

  test('session.segment() waits for the segment being written and resolves when it is cut', async () => {
    const { s, feed } = await session();
    feed(0, 1.2);
    const pending = s.segment(0, 5000);
    feed(1.2, 0.84);
    const seg = await pending;
    assert.ok(seg.length > 0);
    s.close();
  });

  test('session.close() rejects waiting requests with InvalidStateError and session.expireWaiters() with TimeoutError', async () => {
    const { s, feed } = await session();
    const first = s.ready(1, 10_000);
    const late = s.ready(3, 0);
    s.expireWaiters(performance.now() + 1);
    await assert.rejects(late, TimeoutError);
    feed(0, 0.5);
    s.close();
    s.close();
    await assert.rejects(first, InvalidStateError);
    assert.equal(s.consumer.closed, true);
    assert.equal(registry.require('cam').consumers.length, 0);
  });
});

describe('HLS over HTTP', () => {
  test('GET /api/stream.m3u8 answers a multivariant playlist whose session serves playlist, init and segments, and expires when unused', async () => {
    const log = silentLogger();
    const http = new HttpServer({ maxBodyBytes: 1024, log });
    const ctx = { registry, http } as unknown as GatewayContext;
    const hls = createHlsModule(ctx, { sessionIdleMs: 300, sweepMs: 50 });
    const port = (await http.listen(0, '127.0.0.1')).port;
    const get = (path: string) =>
      fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    try {
      await registry.create('cam', ['fake:h264']);
      const stream = registry.require('cam');
      const multivariant = get('/api/stream.m3u8?src=cam');
      for (let i = 0; i < 100 && stream.consumers.length === 0; i++) await sleep(10);
      const driver = drivers.get('cam')!;
      for (let i = 0; i < 4 * 25; i++) driver.last.send(0, videoFrame(i * 3600, i % 25 === 0));
      const res = await multivariant;
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
      const text = await res.text();
      assert.match(
        text,
        /#EXT-X-STREAM-INF:BANDWIDTH=\d+,CODECS="avc1.4d401e",RESOLUTION=640x360\nhls\/playlist.m3u8\?id=([\w-]+)\n$/,
      );
      const id = /id=([\w-]+)/.exec(text)?.[1];
      const playlist = await (await get(`/api/hls/playlist.m3u8?id=${id}`)).text();
      assert.equal((playlist.match(/#EXTINF/g) ?? []).length, 3);
      const init = await get(`/api/hls/init.mp4?id=${id}&v=0`);
      assert.equal(
        Buffer.from(await init.arrayBuffer())
          .subarray(4, 8)
          .toString(),
        'ftyp',
      );
      const seg = await get(`/api/hls/segment.m4s?id=${id}&n=2`);
      assert.equal(
        Buffer.from(await seg.arrayBuffer())
          .subarray(4, 8)
          .toString(),
        'moof',
      );
      assert.equal(stream.consumers.length, 1);
      await sleep(500);
      const gone = await get(`/api/hls/playlist.m3u8?id=${id}`);
      assert.equal(gone.status, 404);
      assert.match(((await gone.json()) as { error: string }).error, /not found or expired/);
      assert.equal(stream.consumers.length, 0, 'the expired session left the stream');
      const unknown = await get('/api/stream.m3u8?src=nope');
      assert.equal(unknown.status, 404);
    } finally {
      await hls.close();
      await http.close();
    }
  });
});
