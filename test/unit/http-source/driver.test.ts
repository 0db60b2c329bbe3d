/**
 * The HTTP source driver against a local HTTP server: every content kind (FLV, MPEG-TS, MJPEG,
 * raw H.264, ADTS, a JPEG snapshot polled), detection by magic under a generic Content-Type,
 * custom headers and Basic credentials, redirects (and too many of them), HTTP errors, the
 * connect and no-data timeouts and abort. Every test checks that no socket or timer is left.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { buildAdtsHeader } from '../../../src/codecs/aac/adts.ts';
import { avccToAnnexB } from '../../../src/codecs/avcc.ts';
import type { Frame } from '../../../src/core/media.ts';
import type { SourceConnection } from '../../../src/core/source.ts';
import { FlvMuxer } from '../../../src/formats/flv/muxer.ts';
import { TsMuxer } from '../../../src/formats/ts/muxer.ts';
import { httpSourceFactory } from '../../../src/protocols/http/source/driver.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { TEST_TLS, waitUntil } from '../rtmp/helpers.ts';
import { SYNTHETIC_MEDIAS, syntheticInterleaved, syntheticVideo } from '../ts/media-helpers.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let before: ResourceCounts;
let server: Server;
let base = '';
const sockets = new Set<Socket>();
const routes = new Map<string, Handler>();
const conns: SourceConnection[] = [];
const seenHeaders: Record<string, IncomingMessage['headers']> = {};

beforeEach(async () => {
  before = activeResources();
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    seenHeaders[path] = req.headers;
    const handler = routes.get(path);
    if (handler) handler(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});

afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  routes.clear();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
  await assertNoLeaks(before);
});

/** Serves `body` with `type` and keeps the response open (a live stream) unless `end`. */
function serve(path: string, type: string | undefined, body: Buffer, end = false): void {
  routes.set(path, (_req, res) => {
    res.writeHead(200, type ? { 'content-type': type } : {});
    res.write(body);
    if (end) res.end();
  });
}

async function connect(url: string, signal = new AbortController().signal) {
  const frames: [number, Frame][] = [];
  const conn = await httpSourceFactory(url).connect((i, f) => frames.push([i, f]), signal);
  conns.push(conn);
  return { conn, frames };
}

const flvBody = () => {
  const muxer = new FlvMuxer(SYNTHETIC_MEDIAS);
  return Buffer.concat([muxer.header(), ...syntheticInterleaved(30).map(([t, f]) => muxer.frame(t, f))]);
};
const tsBody = () => {
  const muxer = new TsMuxer(SYNTHETIC_MEDIAS);
  return Buffer.concat([muxer.header(), ...syntheticInterleaved(30).map(([t, f]) => muxer.frame(t, f))]);
};
const jpeg = (fill: number) =>
  Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, fill), Buffer.from([0xff, 0xd9])]);
const mjpegBody = () =>
  Buffer.concat(
    [1, 2, 3].map((i) =>
      Buffer.concat([Buffer.from(`--cam\r\nContent-Type: image/jpeg\r\n\r\n`), jpeg(i), Buffer.from('\r\n')]),
    ),
  );
const adtsBody = () =>
  Buffer.concat(
    Array.from({ length: 20 }, (_, i) =>
      Buffer.concat([
        buildAdtsHeader({ objectType: 2, sampleRate: 44100, channelConfig: 2 }, 30),
        Buffer.alloc(30, i),
      ]),
    ),
  );

describe('HTTP source driver', { timeout: 20000 }, () => {
  const kinds: [string, string | undefined, () => Buffer, string[]][] = [
    ['HTTP-FLV', 'video/x-flv', flvBody, ['H264', 'AAC']],
    ['MPEG-TS', 'video/mp2t', tsBody, ['H264', 'AAC']],
    ['MJPEG', 'multipart/x-mixed-replace; boundary=cam', mjpegBody, ['JPEG']],
    [
      'raw H.264',
      'video/h264',
      () => Buffer.concat(syntheticVideo(30).map((f) => avccToAnnexB(f.data))),
      ['H264'],
    ],
    ['ADTS', 'audio/aac', adtsBody, ['AAC']],
    ['MPEG-TS under application/octet-stream', 'application/octet-stream', tsBody, ['H264', 'AAC']],
    ['HTTP-FLV without a Content-Type', undefined, flvBody, ['H264', 'AAC']],
  ];
  for (const [name, type, body, codecs] of kinds) {
    test(`driver.connect() reads a ${name} body into tracks ${codecs.join(' + ')} and frames`, async () => {
      serve('/media', type, body());
      const { conn, frames } = await connect(`${base}/media`);
      assert.deepEqual(
        conn.medias.map((m) => m.codecs[0].name),
        codecs,
      );
      await waitUntil(() => frames.length >= 2, 2000, 'frames');
      assert.equal(frames[0][1].keyframe, true);
    });
  }

  test('driver.connect() polls a JPEG snapshot every #interval and delivers each picture as a keyframe', async () => {
    let n = 0;
    routes.set('/snap.jpg', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(jpeg(++n));
    });
    const { conn, frames } = await connect(`${base}/snap.jpg#interval=0.1`);
    assert.equal(conn.medias[0].codecs[0].name, 'JPEG');
    await waitUntil(() => frames.length >= 3, 3000, 'three pictures');
    assert.deepEqual(
      frames.slice(0, 3).map(([, f]) => f.data[10]),
      [1, 2, 3],
    );
    assert.ok(frames[1][1].dts > frames[0][1].dts);
  });

  test('driver.connect() reads https:// from a server with a self-signed certificate', async () => {
    const secure = createHttpsServer(TEST_TLS, (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/x-flv' });
      res.write(flvBody());
    });
    secure.on('secureConnection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    const a = secure.address();
    const { conn } = await connect(`https://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/live.flv`);
    assert.equal(conn.medias.length, 2);
    conn.close();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => secure.close(resolve));
  });

  test('driver.connect() sends #header options and the URL credentials as Basic auth', async () => {
    serve('/auth', 'video/x-flv', flvBody());
    await connect(`http://u:p%40ss@${base.slice(7)}/auth#header=X-Token: abc#header=User-Agent: cam-client`);
    const h = seenHeaders['/auth'];
    assert.equal(h['x-token'], 'abc');
    assert.equal(h['user-agent'], 'cam-client');
    assert.equal(h.authorization, `Basic ${Buffer.from('u:p@ss').toString('base64')}`);
  });

  test('driver.connect() follows up to 5 redirects and rejects a sixth', async () => {
    serve('/final', 'video/x-flv', flvBody());
    for (let i = 0; i < 6; i++) {
      routes.set(`/r${i}`, (_req, res) => {
        res.writeHead(i % 2 ? 302 : 301, { location: i === 0 ? '/final' : `/r${i - 1}` });
        res.end();
      });
    }
    const { conn } = await connect(`${base}/r4`);
    assert.equal(conn.medias.length, 2);
    await assert.rejects(connect(`${base}/r5`), /more than 5 redirects/);
  });

  test('driver.connect() rejects with the status for a 404, and unrecognized content', async () => {
    await assert.rejects(connect(`${base}/missing`), /HTTP 404/);
    serve('/page', 'text/html', Buffer.from('<!DOCTYPE html><html><body>login</body></html>'), true);
    await assert.rejects(connect(`${base}/page`), /unrecognized content \(Content-Type text\/html\)/);
  });

  test('driver.connect() rejects after the connect timeout when no response comes', async () => {
    routes.set('/silent', () => {});
    const t0 = performance.now();
    await assert.rejects(connect(`${base}/silent#timeout=0.3`), /no response within 300 ms/);
    assert.ok(performance.now() - t0 < 2000);
  });

  test('a connection closes with a no-data error when the body stops, and when the server ends it', async () => {
    serve('/stall', 'video/x-flv', flvBody());
    const { conn } = await connect(`${base}/stall#timeout=0.4`);
    const err = await new Promise<Error | undefined>((resolve) => conn.once('close', resolve));
    assert.match(String(err?.message), /no data for/);
    routes.set('/ended', (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/x-flv' });
      res.write(flvBody());
      setTimeout(() => res.end(), 300);
    });
    const ended = await connect(`${base}/ended`);
    const err2 = await new Promise<Error | undefined>((resolve) => ended.conn.once('close', resolve));
    assert.match(String(err2?.message), /ended the response/);
  });

  test('driver.connect() rejects when its signal aborts while waiting for the response', async () => {
    routes.set('/slow', () => {});
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await assert.rejects(connect(`${base}/slow`, abort.signal), /aborted/);
  });
});
