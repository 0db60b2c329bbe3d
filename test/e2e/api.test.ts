import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('gateway process: REST API', { timeout: 60000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway(
      'streams:\n  # a comment that must survive API writes\n  fromconfig: file:/nowhere/x.mp4\n',
    );
  });
  after(async () => {
    if (gw.proc.exitCode === null) await gw.stop('SIGKILL');
  });

  test('GET /api/streams lists the built-in demo stream and the configured one', async () => {
    const res = await gw.api('/api/streams');
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, { producers: { url: string }[] }>;
    assert.deepEqual(Object.keys(body).sort(), ['demo', 'fromconfig']);
    assert.match(body.demo.producers[0].url, /^file:.*demo\.mp4$/);
    const one = await gw.api('/api/streams?src=demo');
    assert.equal(((await one.json()) as { name: string }).name, 'demo');
  });

  test('bad requests get a 4xx with a JSON message and the server keeps running', async () => {
    const cases: [string, string, number, RegExp][] = [
      ['PUT', '/api/streams?name=a&src=nope://x', 400, /unknown source scheme/],
      ['PUT', '/api/streams?name=a', 400, /missing \?src/],
      ['PUT', '/api/streams?name=demo&src=file:/x.mp4', 409, /already exists/],
      ['DELETE', '/api/streams?src=missing', 404, /not found/],
      ['GET', '/api/streams?src=missing', 404, /not found/],
      ['PUT', `/api/streams?name=${'x'.repeat(300)}&src=file:/x.mp4`, 400, /invalid stream name/],
      ['PUT', '/api/streams?name=e&src=exec:rm%20-rf%20/', 400, /config file|unknown source scheme/],
      ['POST', '/api', 405, /not allowed/],
      ['GET', '/api/nothing', 404, /no such endpoint/],
    ];
    for (const [method, path, status, message] of cases) {
      const res = await gw.api(path, { method });
      assert.equal(res.status, status, `${method} ${path}`);
      const body = (await res.json()) as { error: string };
      assert.match(body.error, message, `${method} ${path}`);
    }
    const big = await gw.api('/api/streams?name=b&src=file:/x.mp4', {
      method: 'PATCH',
      body: 'x'.repeat(2 * 1024 * 1024),
    });
    assert.equal(big.status, 413);
    const up = await gw.api('/api');
    assert.equal(up.status, 200);
  });

  test('200 concurrent PUT/PATCH/DELETE over 20 names get no 5xx and the final listing agrees with the successes', async () => {
    type Op = { method: string; name: string; url: string; status?: number };
    const ops: Op[] = [];
    for (let i = 0; i < 200; i++) {
      const name = `n${i % 20}`;
      const method = ['PUT', 'PATCH', 'DELETE'][(i * 7) % 3];
      ops.push({ method, name, url: `file:/media/${name}-${i}.mp4` });
    }
    await Promise.all(
      ops.map(async (op) => {
        const q =
          op.method === 'DELETE' ? `src=${op.name}` : `name=${op.name}&src=${encodeURIComponent(op.url)}`;
        const res = await gw.api(`/api/streams?${q}`, { method: op.method });
        op.status = res.status;
        await res.arrayBuffer();
      }),
    );
    for (const op of ops) {
      assert.ok(op.status! < 500, `${op.method} ${op.name}: ${op.status}`);
      assert.ok([200, 201, 404, 409].includes(op.status!), `${op.method} ${op.name}: ${op.status}`);
    }
    const final = (await (await gw.api('/api/streams')).json()) as Record<
      string,
      { producers: { url: string }[] }
    >;
    for (let n = 0; n < 20; n++) {
      const name = `n${n}`;
      const mine = ops.filter((o) => o.name === name);
      if (final[name]) {
        // The stream's source must come from a PUT or PATCH on that name that succeeded.
        const url = final[name].producers[0].url;
        const writer = mine.find((o) => o.url === url);
        assert.ok(
          writer && writer.method !== 'DELETE' && writer.status! < 300,
          `${name}: ${url} from a successful write`,
        );
      } else {
        assert.ok(
          mine.some((o) => o.method === 'DELETE' && o.status === 200),
          `${name} absent, so a DELETE on it must have succeeded`,
        );
      }
      const created = mine.filter((o) => o.method === 'PUT' && o.status === 201).length;
      const conflicts = mine.filter((o) => o.method === 'PUT' && o.status === 409).length;
      assert.equal(created + conflicts, mine.filter((o) => o.method === 'PUT').length);
    }
    assert.equal((await gw.api('/api')).status, 200, 'the process stays up');
  });

  test('streams changed through the API are written back to the config file with its comments kept', async () => {
    const put = await gw.api('/api/streams?name=written&src=file:/media/w.mp4', { method: 'PUT' });
    assert.equal(put.status, 201);
    let doc: { streams: Record<string, unknown> } | undefined;
    // The write is asynchronous; allow for a loaded machine.
    for (let i = 0; i < 250; i++) {
      const text = readFileSync(gw.configPath, 'utf8');
      doc = parse(text);
      if (doc?.streams?.written) {
        assert.match(text, /# a comment that must survive API writes/);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(doc?.streams.written, 'file:/media/w.mp4');
  });

  test('SIGTERM makes the gateway exit 0 within 3 s', async () => {
    const { code, ms } = await gw.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(ms < 3000, `took ${ms} ms`);
  });
});

describe('gateway process: start-up', { timeout: 60000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mediagate-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'bin/mediagate.js'), ...args], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 20000,
    });

  test('mediagate with a bad config exits 1 naming the file, line and key', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'api:\n  listen: ":1984"\nrtsp:\n  listen: nonsense\n');
    const r = run('-c', path);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${path}:4: rtsp.listen: must be "\\[host\\]:port"`));
  });

  test('mediagate --version and --help print and exit 0', () => {
    const v = run('--version');
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^mediagate \d+\.\d+\.\d+/);
    const h = run('--help');
    assert.equal(h.status, 0);
    assert.match(h.stdout, /-c, --config FILE/);
    const bad = run('--bogus');
    assert.equal(bad.status, 2);
  });
});
