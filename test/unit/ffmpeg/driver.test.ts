import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { InvalidStateError, TimeoutError } from '../../../src/core/errors.ts';
import type { Frame } from '../../../src/core/media.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import type { SourceConnection } from '../../../src/core/source.ts';
import { liveChildren } from '../../../src/diag/children.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { ChildSourceConnection } from '../../../src/protocols/exec/connection.ts';
import { ChildSourceDriver, type ChildSourceSpec } from '../../../src/protocols/exec/driver.ts';
import { RtspLoopback } from '../../../src/protocols/rtsp/server/loopback.ts';
import { RtspServer } from '../../../src/protocols/rtsp/server/server.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { TestRtspClient } from '../rtsp/server-client.ts';

const SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=pub',
  't=0 0',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=control:streamid=0',
  '',
].join('\r\n');

/** ffmpeg making a small H.264 test picture in real time, `extra` before the output. */
function ffmpegTestsrc(output: string[], seconds?: number): string[] {
  return [
    'ffmpeg',
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=160x120:rate=25',
    ...(seconds ? ['-t', String(seconds)] : []),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '25',
    ...output,
  ];
}

let before: ResourceCounts;
let registry: StreamRegistry;
let server: RtspServer;
let loopback: RtspLoopback;
const conns: SourceConnection[] = [];
const clients: TestRtspClient[] = [];

function driver(spec: Partial<ChildSourceSpec> & Pick<ChildSourceSpec, 'argv'>): ChildSourceDriver {
  return new ChildSourceDriver(
    { mode: 'mpegts', owner: 'test', what: 'exec', timeoutMs: 5000, ...spec },
    { loopback, log: silentLogger() },
  );
}

async function connect(d: ChildSourceDriver, frames: Frame[] = [], signal = new AbortController().signal) {
  const conn = (await d.connect((_i, f) => frames.push(f), signal)) as ChildSourceConnection;
  conns.push(conn);
  return conn;
}

async function until(what: string, ms: number, probe: () => boolean): Promise<void> {
  const deadline = performance.now() + ms;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function closed(conn: SourceConnection): Promise<Error | undefined> {
  return new Promise((resolve) => conn.once('close', resolve));
}

beforeEach(async () => {
  before = activeResources();
  registry = new StreamRegistry(new SchemeTable());
  loopback = new RtspLoopback();
  server = new RtspServer({ registry, log: silentLogger(), loopback }, { host: '127.0.0.1', port: 0 });
  const { port } = await server.listen();
  loopback.address = { host: '127.0.0.1', port };
});
afterEach(async () => {
  for (const c of conns.splice(0)) {
    c.close();
    await (c as ChildSourceConnection).child.exited;
  }
  for (const c of clients.splice(0)) c.close();
  registry.close();
  await server.close();
  await assertNoLeaks(before);
  assert.deepEqual(
    liveChildren().filter((c) => c.owner === 'test'),
    [],
    'every child exited',
  );
});

describe('ChildSourceDriver', { timeout: 30000 }, () => {
  test('driver.connect() of a command that publishes to {output} adopts its RTSP publish without creating a stream', async () => {
    const frames: Frame[] = [];
    const conn = await connect(
      driver({ argv: ffmpegTestsrc(['-f', 'rtsp', '{output}']), mode: 'publish' }),
      frames,
    );
    assert.deepEqual(
      conn.medias.map((m) => `${m.kind}:${m.codecs[0].name}`),
      ['video:H264'],
    );
    assert.ok(conn.medias[0].codecs[0].fmtp?.['sprop-parameter-sets'], 'parameter sets from the SDP');
    await until('frames', 5000, () => frames.length >= 10);
    assert.ok(frames[0].keyframe);
    assert.deepEqual(registry.names(), [], 'the private path is no stream');
    assert.equal(loopback.pending, 0, 'the route is used once and removed');
    const done = closed(conn);
    conn.close();
    assert.equal(await done, undefined, 'close() emits close without an error');
    const exit = await conn.child.exited;
    assert.equal(exit.stopped, true);
  });

  test('driver.connect() of a command without {output} demuxes the MPEG-TS on its stdout', async () => {
    const frames: Frame[] = [];
    const conn = await connect(driver({ argv: ffmpegTestsrc(['-f', 'mpegts', '-']) }), frames);
    assert.equal(conn.medias[0].codecs[0].name, 'H264');
    await until('frames', 5000, () => frames.length >= 10);
    assert.ok(frames[0].keyframe, 'frames start at a keyframe');
  });

  test('driver.connect() rejects with the exit code and the last stderr lines when the child exits first', async () => {
    const d = driver({
      argv: [process.execPath, '-e', "console.error('no camera at /dev/video9'); process.exit(3)"],
    });
    await assert.rejects(
      d.connect(() => undefined, new AbortController().signal),
      (err: Error) => {
        assert.match(err.message, /^exec exited with code 3: no camera at \/dev\/video9$/);
        return true;
      },
    );
  });

  test('driver.connect() rejects with TimeoutError and stops the child when no media comes within the timeout', async () => {
    const d = driver({
      argv: [process.execPath, '-e', "console.error('waiting'); setInterval(() => {}, 1000)"],
      timeoutMs: 400,
    });
    const t0 = performance.now();
    await assert.rejects(
      d.connect(() => undefined, new AbortController().signal),
      (err: Error) => {
        assert.ok(err instanceof TimeoutError);
        assert.match(err.message, /no media within 0.4 s \(stderr: waiting\)/);
        return true;
      },
    );
    assert.ok(performance.now() - t0 < 2000);
    await until('the child to exit', 3000, () => !liveChildren().some((c) => c.owner === 'test'));
  });

  test('driver.connect() rejects and stops the child when its signal aborts', async () => {
    const ac = new AbortController();
    const d = driver({ argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'] });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(
      d.connect(() => undefined, ac.signal),
      InvalidStateError,
    );
    await until('the child to exit', 3000, () => !liveChildren().some((c) => c.owner === 'test'));
  });

  test('connection closes with the exit and stderr when the child exits after it started', async () => {
    const argv = [
      'sh',
      '-c',
      `${ffmpegTestsrc(['-f', 'mpegts', '-'], 0.5).join(' ')}; echo 'camera went away' >&2; exit 4`,
    ];
    const conn = await connect(driver({ argv }));
    const err = await closed(conn);
    assert.match(err?.message ?? '', /exited with code 4: camera went away/);
  });

  test('connection closes with TimeoutError when the child stops sending, and its whole group is stopped', async () => {
    const argv = ['sh', '-c', `${ffmpegTestsrc(['-f', 'mpegts', '-'], 0.5).join(' ')}; sleep 30`];
    const conn = await connect(driver({ argv, timeoutMs: 1000 }));
    const err = await closed(conn);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.match(err.message, /no data for 1 s/);
    const exit = await conn.child.exited;
    assert.equal(exit.stopped, true, 'the sleeping shell was stopped, not waited for');
  });

  test('RECORD on a private path nobody waits for is answered 404 and creates no stream', async () => {
    const c = await TestRtspClient.connect(loopback.address!.port);
    clients.push(c);
    const url = loopback.url('_mediagate/00112233445566778899aabbccddeeff')!;
    const ann = await c.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, Buffer.from(SDP));
    assert.equal(ann.status, 200);
    const setup = await c.request('SETUP', `${url}/streamid=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
    });
    assert.equal(setup.status, 200);
    const session = setup.headers.get('session')!.split(';')[0];
    assert.equal((await c.request('RECORD', url, { Session: session })).status, 404);
    assert.deepEqual(registry.names(), []);
  });
});
