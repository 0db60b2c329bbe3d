import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { HttpServer } from '../../../src/api/http.ts';
import { WsHub } from '../../../src/api/ws.ts';
import { loadConfig } from '../../../src/config/load.ts';
import type { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import { DiagModule } from '../../../src/diag/module.ts';
import { sessionClosed, sessionOpened } from '../../../src/diag/sessions.ts';
import { createLogging } from '../../../src/log/logger.ts';
import { RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { parsePromText, samplesOf } from './prom-text.ts';
import { fakeRegistry } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'mediagate-diag-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

describe('DiagModule', { timeout: 30000 }, () => {
  let leaks: ResourceCounts;
  let registry: StreamRegistry;
  let http: HttpServer;
  let diag: DiagModule;
  let base: string;

  before(async () => {
    leaks = activeResources();
  });
  beforeEach(async () => {
    const configPath = join(dir, 'mediagate.yaml');
    writeFileSync(
      configPath,
      `diag:\n  interval: 60\n  profile_seconds: 0.2\n  incident_dir: ${join(dir, 'incidents')}\n  max_incidents: 3\n`,
    );
    const config = loadConfig([configPath]);
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const logging = createLogging({ level: 'info' }, sink);
    ({ registry } = fakeRegistry());
    http = new HttpServer({ maxBodyBytes: 1024, log: logging.root });
    const ws = new WsHub(http, logging.root);
    diag = new DiagModule({ config, logging, registry, schemes: new SchemeTable(), http, ws }, {});
    await diag.start();
    const address = await http.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${address.port}`;
    logging.root.info({ n: 1 }, 'first line');
    logging.root.info({ n: 2 }, 'second line');
  });
  afterEach(async () => {
    await diag.close();
    await diag.close();
    registry.close();
    await http.close();
    await assertNoLeaks(leaks);
  });

  test('GET /metrics serves valid Prometheus text with the process, stream, protocol and HTTP families', async () => {
    const stream = await registry.create('door', ['fake://door']);
    const consumer = new RecordingConsumer();
    await stream.addConsumer(consumer);
    consumer.play();
    sessionOpened('unit-test');
    sessionOpened('unit-test');
    sessionClosed('unit-test');
    await (await fetch(`${base}/api/health`)).arrayBuffer();
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const prom = parsePromText(await res.text());
    const expected: Record<string, string> = {
      process_cpu_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      nodejs_heap_size_used_bytes: 'gauge',
      nodejs_gc_duration_seconds: 'histogram',
      nodejs_eventloop_delay_seconds: 'histogram',
      nodejs_active_resources: 'gauge',
      process_open_fds: 'gauge',
      mediagate_child_processes: 'gauge',
      mediagate_stream_consumers: 'gauge',
      mediagate_source_state: 'gauge',
      mediagate_source_frames_total: 'counter',
      mediagate_source_bytes_total: 'counter',
      mediagate_source_bitrate_bits: 'gauge',
      mediagate_source_reconnects_total: 'counter',
      mediagate_source_keyframe_requests_total: 'counter',
      mediagate_stream_frames_out_total: 'counter',
      mediagate_stream_bytes_out_total: 'counter',
      mediagate_stream_drops_total: 'counter',
      mediagate_consumers: 'gauge',
      mediagate_sessions_open: 'gauge',
      mediagate_sessions_total: 'counter',
      mediagate_http_requests_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) assert.equal(prom.types.get(name), type, name);
    const one = (name: string, labels: Record<string, string> = {}) => {
      const s = samplesOf(prom, name, labels);
      assert.equal(s.length, 1, `${name} ${JSON.stringify(labels)}`);
      return s[0].value;
    };
    assert.equal(one('mediagate_stream_consumers', { stream: 'door' }), 1);
    assert.equal(
      one('mediagate_source_state', { stream: 'door', source: 'fake://door', state: 'online' }),
      1,
    );
    assert.equal(one('mediagate_consumers', { type: 'test' }), 1);
    assert.equal(one('mediagate_sessions_open', { protocol: 'unit-test' }), 1);
    assert.equal(one('mediagate_sessions_total', { protocol: 'unit-test' }), 2);
    assert.equal(
      one('mediagate_http_requests_total', { route: '/api/health', method: 'GET', status: '200' }),
      1,
    );
    assert.ok(one('process_resident_memory_bytes') > 1e6);
    assert.ok(one('nodejs_eventloop_delay_seconds_bucket', { le: '+Inf' }) >= 0);
    assert.ok(samplesOf(prom, 'nodejs_active_resources').some((s) => s.labels.type === 'TCPServerWrap'));
    sessionClosed('unit-test');
  });

  test('diag.tick() after a 500 ms stall records an incident with profiles and GET /api/health turns 503', async () => {
    assert.deepEqual(await (await fetch(`${base}/api/health`)).json(), { status: 'ok' });
    block(500);
    const { breaches } = diag.tick();
    assert.deepEqual(
      breaches.map((b) => b.rule),
      ['event_loop_lag'],
    );
    await diag.settled();
    const health = await fetch(`${base}/api/health`);
    assert.equal(health.status, 503);
    const body = (await health.json()) as { status: string; reasons: string[] };
    assert.equal(body.status, 'degraded');
    assert.match(body.reasons[0], /^event_loop_lag: event loop blocked: max \d+ ms/);

    const list = (await (await fetch(`${base}/api/incidents`)).json()) as {
      id: string;
      rule: string;
      files: { name: string; url: string }[];
    }[];
    assert.equal(list.length >= 1, true);
    assert.equal(list[0].rule, 'event_loop_lag');
    const names = list[0].files.map((f) => f.name);
    assert.deepEqual(names, [`${list[0].id}.json`, `${list[0].id}.cpuprofile`, `${list[0].id}.heapprofile`]);
    const cpu = await fetch(`${base}${list[0].files[1].url}`);
    assert.equal(cpu.status, 200);
    const profile = (await cpu.json()) as { nodes: unknown[]; startTime: number };
    assert.ok(profile.nodes.length > 0);
    for (const name of ['../mediagate.yaml', '..%2Fmediagate.yaml', `${list[0].id}.exe`]) {
      const res = await fetch(`${base}/api/incidents/file?name=${encodeURIComponent(name)}`);
      assert.equal(res.status, 404, name);
      await res.arrayBuffer();
    }
  });

  test('GET /api/log returns the recent log lines as JSON objects, ?limit=N the last N', async () => {
    const all = (await (await fetch(`${base}/api/log`)).json()) as { msg: string }[];
    assert.ok(all.length >= 2);
    const last = (await (await fetch(`${base}/api/log?limit=1`)).json()) as { msg: string; n: number }[];
    assert.equal(last.length, 1);
    assert.equal(last[0].msg, 'second line');
    const bad = await fetch(`${base}/api/log?limit=-3`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /limit= must be an integer from 1 to/);
  });

  test('GET /api/streams.dot and GET /api/debug/handles describe the streams and the open handles', async () => {
    await registry.create('door', ['fake://door']);
    const dot = await fetch(`${base}/api/streams.dot`);
    assert.equal(dot.headers.get('content-type'), 'text/vnd.graphviz; charset=utf-8');
    assert.match(await dot.text(), /subgraph "cluster_0" \{\n {4}label="door";/);
    const handles = (await (await fetch(`${base}/api/debug/handles`)).json()) as {
      total: number;
      servers: { address: string; owner?: string }[];
      sockets: { kind: string; owner?: string; remote?: string }[];
    };
    assert.ok(handles.total > 0);
    assert.ok(handles.servers.some((s) => s.owner === 'api' && /^127\.0\.0\.1:\d+$/.test(s.address)));
    assert.ok(handles.sockets.some((s) => s.kind === 'tcp' && s.owner === 'api' && s.remote));
  });

  test('GET /api/debug/cpu rejects a bad ?seconds= and a second concurrent profile with 409', async () => {
    const bad = await fetch(`${base}/api/debug/cpu?seconds=61`);
    assert.equal(bad.status, 400);
    await bad.arrayBuffer();
    const first = fetch(`${base}/api/debug/cpu?seconds=1`);
    await new Promise((r) => setTimeout(r, 100));
    const second = await fetch(`${base}/api/debug/cpu?seconds=1`);
    assert.equal(second.status, 409);
    assert.match(((await second.json()) as { error: string }).error, /already running/);
    const res = await first;
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /\.cpuprofile"$/);
    const profile = (await res.json()) as {
      nodes: unknown[];
      samples: number[];
      startTime: number;
      endTime: number;
    };
    assert.ok(
      profile.nodes.length > 0 && Array.isArray(profile.samples) && profile.endTime > profile.startTime,
    );
  });
});
