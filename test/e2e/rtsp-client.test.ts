/**
 * Interop of the RTSP client with GStreamer's gst-rtsp-server (test/fixtures/gst-rtsp-server.py):
 * play over TCP and UDP through a real Stream, survive a server restart with the consumer attached,
 * refuse wrong credentials; then the same through the gateway process when it has an RTSP server.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { after, afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { splitAvcc } from '../../src/codecs/avcc.ts';
import { parseH264Sps } from '../../src/codecs/h264/index.ts';
import type { Frame } from '../../src/core/media.ts';
import { Stream } from '../../src/core/stream.ts';
import { rtspSourceFactory } from '../../src/protocols/rtsp/client/index.ts';
import { RecordingConsumer } from '../helpers/fakes.ts';
import { startGateway } from '../helpers/gateway-process.ts';
import { freePort, gstMissing, kill, startGst } from '../helpers/gst.ts';

const skip = gstMissing;

const procs = new Set<ChildProcess>();
const streams: Stream[] = [];

function newStream(url: string): Stream {
  const stream = new Stream('cam', [{ url, driver: rtspSourceFactory(url) }], { idleTimeoutMs: 500 });
  streams.push(stream);
  return stream;
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await sleep(20);
  }
}

function sizeOf(frame: Frame): [number, number] {
  const sps = splitAvcc(frame.data).find((n) => (n[0] & 0x1f) === 7);
  assert.ok(sps, 'a keyframe carries its SPS');
  const { width, height } = parseH264Sps(sps);
  return [width, height];
}

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await Promise.all([...procs].map((p) => kill(p)));
});
after(async () => {
  await Promise.all([...procs].map((p) => kill(p)));
});

describe('RTSP client against gst-rtsp-server', { skip, timeout: 60000 }, () => {
  for (const transport of ['tcp', 'udp']) {
    test(`a Stream with an rtsp:// source over ${transport.toUpperCase()} delivers 320x240 H.264 at 25 fps to a consumer`, async () => {
      const port = await freePort();
      await startGst(port, procs);
      const stream = newStream(`rtsp://127.0.0.1:${port}/test#transport=${transport}`);
      const consumer = new RecordingConsumer();
      await stream.addConsumer(consumer);
      consumer.play();
      await until(() => consumer.received.some((r) => r.frame.keyframe), 3000, 'no keyframe');
      const first = consumer.received.find((r) => r.frame.keyframe);
      assert.deepEqual(sizeOf(first?.frame as Frame), [320, 240]);
      const n = consumer.received.length;
      await sleep(1000);
      const fps = consumer.received.length - n;
      assert.ok(fps >= 20 && fps <= 30, `${fps} frames in 1 s`);
      const info = stream.info().producers[0];
      assert.deepEqual(info.medias, ['video:H264/90000', 'audio:PCMA/8000']);
      assert.equal(info.state, 'online');
    });
  }

  test('after the server is killed and restarted, the still attached consumer gets keyframes again within 5 s', async (t) => {
    const port = await freePort();
    const gst = await startGst(port, procs);
    const stream = newStream(`rtsp://127.0.0.1:${port}/test`);
    const consumer = new RecordingConsumer();
    await stream.addConsumer(consumer);
    consumer.play();
    await until(
      () => consumer.received.some((r) => r.frame.keyframe),
      3000,
      'no keyframe before the restart',
    );
    await kill(gst);
    await until(
      () => stream.info().producers[0].state !== 'online',
      2000,
      'the source did not notice the kill',
    );
    const seen = consumer.received.length;
    await sleep(1000);
    await startGst(port, procs);
    const restarted = performance.now();
    await until(
      () => consumer.received.slice(seen).some((r) => r.frame.keyframe),
      5000,
      'no keyframe after the restart',
    );
    const ms = Math.round(performance.now() - restarted);
    t.diagnostic(`keyframe again ${ms} ms after the restart`);
    assert.equal(consumer.closed, false, 'the consumer never noticed');
    assert.equal(stream.consumers.length, 1);
    assert.ok(stream.info().producers[0].reconnects >= 1);
    assert.deepEqual(
      sizeOf(consumer.received.slice(seen).find((r) => r.frame.keyframe)?.frame as Frame),
      [320, 240],
    );
    assert.ok(ms < 5000, `video again ${ms} ms after the restart`);
  });

  test('Digest credentials are answered, and a wrong password fails with "authentication failed"', async () => {
    const port = await freePort();
    await startGst(port, procs, '--user', 'admin', '--password', 's3cret', '--auth', 'digest');
    const signal = new AbortController().signal;
    await assert.rejects(
      rtspSourceFactory(`rtsp://admin:wrong@127.0.0.1:${port}/test`).connect(() => undefined, signal),
      (err: Error) => {
        assert.match(
          err.message,
          /^rtsp:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/test: authentication failed \(401 to DESCRIBE with digest credentials\)$/,
        );
        return true;
      },
    );
    let frames = 0;
    const conn = await rtspSourceFactory(`rtsp://admin:s3cret@127.0.0.1:${port}/test`).connect(
      () => frames++,
      signal,
    );
    try {
      await until(() => frames > 0, 3000, 'no frame with the right password');
    } finally {
      conn.close();
    }
  });
});

describe('gateway with an rtsp:// source', { skip, timeout: 60000 }, () => {
  test('ffprobe through the gateway RTSP server sees h264 320x240, and a reader survives a camera restart', async (t) => {
    const port = await freePort();
    const gst = await startGst(port, procs);
    const gw = await startGateway(`streams:\n  cam: rtsp://127.0.0.1:${port}/test\n`);
    t.after(() => gw.stop());
    const rtspPort = gw.ports.RTSP;
    if (rtspPort === undefined) {
      t.skip('the gateway has no RTSP server yet (no "RTSP listening" in its log)');
      return;
    }
    const out = spawnSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=codec_name,width,height',
        '-of',
        'csv=p=0',
        `rtsp://127.0.0.1:${rtspPort}/cam`,
      ],
      { timeout: 15000, encoding: 'utf8' },
    );
    assert.equal(out.stdout.trim(), 'h264,320,240', out.stderr);

    // A reader that stays connected across a restart of the camera.
    const reader = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-i',
        `rtsp://127.0.0.1:${rtspPort}/cam`,
        '-map',
        '0:v',
        '-c',
        'copy',
        '-f',
        'null',
        '-progress',
        'pipe:1',
        '-',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    procs.add(reader);
    let progress = '';
    reader.stdout?.on('data', (c: Buffer) => {
      progress += c.toString();
    });
    const frames = () => Number([...progress.matchAll(/frame=(\d+)/g)].at(-1)?.[1] ?? 0);
    await until(() => frames() > 10, 8000, 'ffmpeg read no video through the gateway');
    await kill(gst);
    await sleep(1000);
    await startGst(port, procs);
    const seen = frames();
    const restarted = performance.now();
    await until(() => frames() > seen + 10, 8000, 'the reader got no video after the restart');
    t.diagnostic(
      `the reader got 10 more frames ${Math.round(performance.now() - restarted)} ms after the restart`,
    );
    assert.equal(reader.exitCode, null, 'the reader stayed connected');
  });
});
