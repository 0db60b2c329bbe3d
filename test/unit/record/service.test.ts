import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { HttpServer } from '../../../src/api/http.ts';
import type { RecordConfig } from '../../../src/config/schema.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import { createLogging } from '../../../src/log/logger.ts';
import { partName, segmentName } from '../../../src/protocols/record/naming.ts';
import { mountRecordRoutes } from '../../../src/protocols/record/routes.ts';
import { RecordService } from '../../../src/protocols/record/service.ts';
import { FakeDriver } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { DEMO_AUDIO, DEMO_VIDEO, demoFrames, files, GatedFs, tempDir, until } from './support.ts';

const MEDIAS = [
  { kind: 'video' as const, direction: 'recvonly' as const, codecs: [DEMO_VIDEO.codec] },
  { kind: 'audio' as const, direction: 'recvonly' as const, codecs: [DEMO_AUDIO.codec] },
];

describe('RecordService and the recording API', { timeout: 20000 }, () => {
  let leaks: ResourceCounts;
  let tmp: ReturnType<typeof tempDir>;
  let registry: StreamRegistry;
  let drivers: FakeDriver[];
  let http: HttpServer;
  let service: RecordService | undefined;
  let base: string;
  let logs: string[];

  beforeEach(() => {
    leaks = activeResources();
    tmp = tempDir();
    drivers = [];
    logs = [];
    const schemes = new SchemeTable();
    schemes.register('fake', () => {
      const d = new FakeDriver(MEDIAS);
      drivers.push(d);
      return d;
    });
    registry = new StreamRegistry(schemes, { idleTimeoutMs: 50, minBackoffMs: 10 });
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
    registry.close();
    await http?.close();
    tmp.remove();
    await assertNoLeaks(leaks);
  });

  async function setup(config: Partial<RecordConfig> = {}, fs?: GatedFs): Promise<RecordService> {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    const logging = createLogging({ level: 'debug' }, sink);
    const cfg: RecordConfig = { path: tmp.dir, segmentSeconds: 1, retention: {}, streams: {}, ...config };
    service = new RecordService({
      config: cfg,
      registry,
      log: logging.module('record'),
      fs,
      tickMs: 20,
      retentionIntervalMs: 50,
    });
    http = new HttpServer({ maxBodyBytes: 1024, log: logging.module('api') });
    mountRecordRoutes(http, service);
    const addr = await http.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${addr.port}`;
    return service;
  }

  const api = (path: string, init?: RequestInit) =>
    fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000), ...init });
  const json = async (path: string, init?: RequestInit) => {
    const res = await api(path, init);
    return { status: res.status, body: await res.json() };
  };
  function send(from: number, to: number): void {
    for (const t of demoFrames(from, to)) drivers.at(-1)!.last.send(t.kind === 'video' ? 0 : 1, t.frame);
  }

  test('POST /api/record starts a recorder, GET /api/record shows it, DELETE answers once the last segment is finished', async () => {
    await setup();
    await registry.create('cam', ['fake://cam']);
    const started = await json('/api/record?src=cam&segment=1', { method: 'POST' });
    assert.equal(started.status, 201);
    assert.equal(started.body.state, 'recording');
    assert.equal(started.body.segment, 1);
    send(0, 2.5);
    await until(async () => (await json('/api/record')).body[0].segments === 2);
    const list = await json('/api/record');
    assert.equal(list.body.length, 1);
    assert.equal(list.body[0].stream, 'cam');
    assert.equal(list.body[0].origin, 'api');
    assert.match(list.body[0].file, /^\d{4}-.*\.mp4$/);
    assert.equal(list.body[0].segments, 2);
    const stopped = await json('/api/record?src=cam', { method: 'DELETE' });
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.state, 'stopped');
    assert.equal(stopped.body.segments, 3, 'the last segment counted: it is finished');
    assert.deepEqual((await json('/api/record')).body, []);
    const segs = await json('/api/recordings?src=cam');
    assert.deepEqual(
      segs.body.map((s: { duration: number }) => s.duration),
      [1, 1, 0.52],
    );
    const [first] = segs.body;
    assert.equal(first.url, `/api/recordings/file?src=cam&name=${first.name}`);
    assert.equal(first.start, new Date(Date.parse(first.start)).toISOString());
    assert.ok(first.size > 1000);
    const streams = await json('/api/recordings');
    assert.deepEqual(
      streams.body.map((s: { name: string; segments: number }) => [s.name, s.segments]),
      [['cam', 3]],
    );
    assert.deepEqual((await json('/api/recordings?src=cam&limit=1')).body.length, 1);
  });

  test('GET /api/recordings/file serves a segment whole or by Range, DELETE removes it, and no name reaches outside the folder', async () => {
    await setup();
    const name = segmentName(Date.UTC(2024, 4, 1));
    mkdirSync(join(tmp.dir, 'cam'));
    const body = Buffer.from('0123456789abcdef');
    writeFileSync(join(tmp.dir, 'cam', name), body);
    writeFileSync(join(tmp.dir, 'secret.mp4'), 'secret');
    const url = `/api/recordings/file?src=cam&name=${name}`;
    const whole = await api(url);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.equal(whole.headers.get('content-type'), 'video/mp4');
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), body);
    const part = await api(url, { headers: { range: 'bytes=4-7' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 4-7/16');
    assert.equal(await part.text(), '4567');
    const tail = await api(url, { headers: { range: 'bytes=-3' } });
    assert.equal(await tail.text(), 'def');
    const bad = await api(url, { headers: { range: 'bytes=99-' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('content-range'), 'bytes */16');
    await bad.text();
    for (const q of [
      'src=cam&name=../secret.mp4',
      'src=cam&name=..%2Fsecret.mp4',
      'src=cam&name=secret.mp4',
      'src=cam&name=%2Etmp',
      'src=&name=' + name,
    ]) {
      const res = await api(`/api/recordings/file?${q}`);
      assert.equal(res.status, 400, q);
      await res.text();
    }
    for (const src of ['..', '../cam', '.', 'cam/..', '/']) {
      const res = await api(`/api/recordings/file?src=${encodeURIComponent(src)}&name=${name}`);
      assert.equal(res.status, 404, src);
      await res.text();
    }
    assert.equal((await json(url, { method: 'DELETE' })).status, 200);
    assert.equal((await json(url, { method: 'DELETE' })).status, 404);
    assert.deepEqual(files(join(tmp.dir, 'cam')), []);
    assert.equal(readFileSync(join(tmp.dir, 'secret.mp4'), 'latin1'), 'secret');
  });

  test('POST /api/record answers 404 for an unknown stream, 409 when it is recorded already, 400 for bad parameters', async () => {
    await setup();
    await registry.create('cam', ['fake://cam']);
    assert.equal((await json('/api/record?src=nope', { method: 'POST' })).status, 404);
    assert.equal((await json('/api/record', { method: 'POST' })).status, 400);
    assert.equal((await json('/api/record?src=cam&segment=0', { method: 'POST' })).status, 400);
    assert.equal((await json('/api/record?src=cam', { method: 'POST' })).status, 201);
    const again = await json('/api/record?src=cam', { method: 'POST' });
    assert.equal(again.status, 409);
    assert.match(again.body.error, /recorded already/);
    assert.equal((await json('/api/record?src=nope', { method: 'DELETE' })).status, 404);
  });

  test('service.start() repairs leftover parts, records the configured streams and re-attaches when the stream closes its recorder', async () => {
    await registry.create('cam', ['fake://cam']);
    mkdirSync(join(tmp.dir, 'cam'));
    writeFileSync(join(tmp.dir, 'cam', partName(segmentName(0))), 'torn before the first keyframe');
    const s = await setup({ streams: { cam: { retention: {} } } });
    await s.start();
    assert.deepEqual(files(join(tmp.dir, 'cam')), [], 'the part held nothing: removed');
    await until(() => s.list()[0]?.state === 'recording');
    assert.equal(s.list()[0].origin, 'config');
    send(0, 0.5);
    // Replacing the sources closes the stream's consumers; the job comes back on the new source.
    await registry.upsert('cam', ['fake://cam2']);
    await until(() => drivers[1]?.connections.length === 1);
    send(0, 0.5);
    await s.close();
    assert.equal(files(join(tmp.dir, 'cam')).length, 2, 'one segment per recorder');
    assert.ok(logs.some((l) => /repaired|removed a leftover/.test(l)));
  });

  test('GET /api/record shows the error of a failed write (disk full); the part is repaired and the job retries', async () => {
    const fs = new GatedFs();
    await setup({}, fs);
    await registry.create('cam', ['fake://cam']);
    await json('/api/record?src=cam', { method: 'POST' });
    send(0, 1.5);
    await until(() => files(join(tmp.dir, 'cam')).some((n) => n.endsWith('.mp4')));
    fs.failWith = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    send(1.5, 2);
    await until(async () => (await json('/api/record')).body[0]?.error !== undefined);
    const [job] = (await json('/api/record')).body;
    assert.match(job.error, /ENOSPC/);
    assert.ok(['waiting', 'starting', 'recording'].includes(job.state));
    assert.ok(logs.some((l) => /recording of \\"cam\\" failed: ENOSPC/.test(l)));
    await until(() => !files(join(tmp.dir, 'cam')).some((n) => n.endsWith('.part')));
    const names = files(join(tmp.dir, 'cam'));
    assert.equal(names.filter((n) => n.endsWith('.part')).length, 0, `repaired: ${names}`);
    assert.equal(names.length, 2);
  });

  test("service.start() runs retention from the module's one timer, deleting segments older than the age", async () => {
    mkdirSync(join(tmp.dir, 'cam'));
    const old = segmentName(Date.now() - 3 * 3600_000);
    const recent = segmentName(Date.now() - 60_000);
    writeFileSync(join(tmp.dir, 'cam', old), 'x');
    writeFileSync(join(tmp.dir, 'cam', recent), 'x');
    const s = await setup({ retention: { maxAgeMs: 3600_000 } });
    await s.start();
    await until(() => files(join(tmp.dir, 'cam')).length === 1);
    assert.deepEqual(files(join(tmp.dir, 'cam')), [recent]);
  });
});
