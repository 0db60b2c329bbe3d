import assert from 'node:assert/strict';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';
import { parsePromText, samplesOf } from '../unit/diag/prom-text.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mediagate-diag-e2e-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('gateway process: diagnostics', { timeout: 60000 }, () => {
  let gw: GatewayProcess;
  // A second gateway with the test fault runs alongside, so that its 3 s countdown overlaps.
  let faulty: GatewayProcess;
  let faultyReadyAt: number;
  let faultyHealthAtStart: number;
  before(async () => {
    [gw, faulty] = await Promise.all([
      startGateway(),
      startGateway('', 15000, { MEDIAGATE_TEST_FAULT: 'block-loop' }).then(async (g) => {
        faultyReadyAt = performance.now();
        const health = await g.api('/api/health');
        faultyHealthAtStart = health.status;
        await health.arrayBuffer();
        return g;
      }),
    ]);
  });
  after(async () => {
    await Promise.all([gw?.stop('SIGTERM'), faulty?.stop('SIGTERM')]);
  });

  test('GET /metrics returns Prometheus text with process, stream and HTTP families', async () => {
    await (await gw.api('/api/streams')).arrayBuffer();
    const res = await gw.api('/metrics');
    assert.equal(res.status, 200);
    const prom = parsePromText(await res.text());
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'nodejs_eventloop_delay_seconds',
      'nodejs_active_resources',
      'process_open_fds',
      'mediagate_child_processes',
      'mediagate_source_state',
      'mediagate_stream_consumers',
      'mediagate_sessions_open',
      'mediagate_http_requests_total',
    ]) {
      assert.ok(prom.types.has(name), name);
    }
    assert.ok(samplesOf(prom, 'process_open_fds')[0].value > 3);
    assert.equal(samplesOf(prom, 'mediagate_source_state', { stream: 'demo', state: 'idle' })[0]?.value, 1);
    assert.equal(
      samplesOf(prom, 'mediagate_http_requests_total', {
        route: '/api/streams',
        method: 'GET',
        status: '200',
      })[0]?.value,
      1,
    );
  });

  test('GET /api/debug/cpu?seconds=1 returns a CPU profile', async () => {
    const t0 = performance.now();
    const res = await gw.api('/api/debug/cpu?seconds=1');
    assert.equal(res.status, 200);
    const profile = (await res.json()) as {
      nodes: unknown[];
      samples: number[];
      startTime: number;
      endTime: number;
    };
    assert.ok(performance.now() - t0 >= 900);
    assert.ok(profile.nodes.length > 0);
    assert.ok(Array.isArray(profile.samples));
    assert.ok(profile.endTime - profile.startTime >= 900_000, 'about 1 s, in microseconds');
  });

  test('GET /api/debug/heap streams a heap snapshot that parses', async () => {
    const res = await gw.api('/api/debug/heap');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /\.heapsnapshot"$/);
    const file = join(tmp, 'gateway.heapsnapshot');
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(file));
    const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
      snapshot: object;
      nodes: number[];
      strings: string[];
    };
    assert.ok(snapshot.snapshot);
    assert.ok(snapshot.nodes.length > 1000);
    assert.ok(snapshot.strings.includes('StreamRegistry'), "the gateway's own classes are in it");
  });

  test('GET /api/streams.dot, /api/debug/handles, /api/log and /diag.html answer', async () => {
    const dot = await (await gw.api('/api/streams.dot')).text();
    assert.match(dot, /^digraph mediagate \{/);
    assert.match(dot, /label="demo";/);
    const handles = (await (await gw.api('/api/debug/handles')).json()) as { servers: { owner?: string }[] };
    assert.ok(handles.servers.some((s) => s.owner === 'api'));
    const log = (await (await gw.api('/api/log?limit=5')).json()) as { msg: string }[];
    assert.ok(log.length > 0 && log.length <= 5);
    const page = await gw.api('/diag.html');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /api\/health/);
  });

  test('MEDIAGATE_TEST_FAULT=block-loop makes an incident with a CPU profile on disk within 10 s and /api/health degraded', async () => {
    assert.equal(faultyHealthAtStart, 200, 'healthy before the fault');
    type Listed = { id: string; rule: string; files: { name: string; url: string }[] };
    let incident: Listed | undefined;
    let cpuFile: string | undefined;
    while (performance.now() - faultyReadyAt < 10_000) {
      const list = (await (await faulty.api('/api/incidents')).json()) as Listed[];
      incident = list.find((i) => i.rule === 'event_loop_lag');
      cpuFile = incident?.files.find((f) => f.name.endsWith('.cpuprofile'))?.name;
      if (cpuFile) break;
      await sleep(200);
    }
    assert.ok(
      incident && cpuFile,
      `an event_loop_lag incident with a CPU profile within 10 s:\n${faulty.output()}`,
    );
    const onDisk = join(dirname(faulty.configPath), '.diag', 'incidents', cpuFile);
    assert.ok(existsSync(onDisk), onDisk);
    const profile = JSON.parse(readFileSync(onDisk, 'utf8')) as { nodes: unknown[]; startTime: number };
    assert.ok(profile.nodes.length > 0);

    const health = await faulty.api('/api/health');
    assert.equal(health.status, 503);
    const body = (await health.json()) as { status: string; reasons: string[] };
    assert.equal(body.status, 'degraded');
    assert.ok(
      body.reasons.some((r) => /^event_loop_lag: event loop blocked: max \d+ ms/.test(r)),
      body.reasons.join(),
    );
  });
});
