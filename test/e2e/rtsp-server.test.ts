import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { interleavedHeader } from '../../src/protocols/rtsp/message.ts';
import { parseSession } from '../../src/protocols/rtsp/transport.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';
import { startsKeyframe, TestRtspClient } from '../unit/rtsp/server-client.ts';

interface Probe {
  streams: { codec_name: string; width?: number; height?: number }[];
}

function ffprobe(url: string, transport: 'tcp' | 'udp'): Promise<Probe> {
  const args = [
    '-v',
    'error',
    '-rtsp_transport',
    transport,
    '-show_entries',
    'stream=codec_name,width,height',
  ];
  return new Promise((resolve, reject) => {
    execFile('ffprobe', [...args, '-of', 'json', url], { timeout: 15000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ffprobe ${url} (${transport}) failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout) as Probe);
    });
  });
}

function summary(p: Probe): string[] {
  return p.streams.map((s) => (s.width ? `${s.codec_name} ${s.width}x${s.height}` : s.codec_name)).sort();
}

/** Runs DESCRIBE, SETUP (TCP) and PLAY of every track; resolves with when PLAY was sent. */
async function play(c: TestRtspClient, url: string): Promise<number> {
  const desc = await c.request('DESCRIBE', url);
  assert.equal(desc.status, 200);
  const tracks = (desc.body.toString().match(/a=control:trackID=\d+/g) ?? []).length;
  let session: string | undefined;
  for (let i = 0; i < tracks; i++) {
    const s = await c.request('SETUP', `${url}/trackID=${i}`, {
      Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`,
      ...(session ? { Session: session } : {}),
    });
    assert.equal(s.status, 200);
    session = parseSession(s.headers.get('session')!).id;
  }
  const sent = performance.now();
  assert.equal((await c.request('PLAY', url, { Session: session! })).status, 200);
  return sent;
}

describe('gateway process: RTSP server', { timeout: 60000 }, () => {
  let gw: GatewayProcess;
  let base: string;
  const children: ChildProcess[] = [];
  const clients: TestRtspClient[] = [];
  const client = async () => {
    const c = await TestRtspClient.connect(gw.ports.RTSP);
    clients.push(c);
    return c;
  };

  before(async () => {
    gw = await startGateway();
    assert.ok(gw.ports.RTSP > 0, 'the RTSP port is in the log');
    base = `rtsp://127.0.0.1:${gw.ports.RTSP}`;
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    if (gw.proc.exitCode === null) await gw.stop('SIGKILL');
  });

  test('ffprobe over TCP sees the demo stream as h264 640x360 and opus', async () => {
    assert.deepEqual(summary(await ffprobe(`${base}/demo`, 'tcp')), ['h264 640x360', 'opus']);
  });

  test('ffprobe over UDP sees the demo stream as h264 640x360 and opus', async () => {
    assert.deepEqual(summary(await ffprobe(`${base}/demo`, 'udp')), ['h264 640x360', 'opus']);
  });

  test('ffmpeg publishes with ANNOUNCE/RECORD and ffprobe reads the stream back with the same codecs', async () => {
    const ffmpeg = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-re'],
        ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25'],
        ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-c:a', 'libopus'],
        ...['-f', 'rtsp', '-rtsp_transport', 'tcp', `${base}/pushed`],
      ],
      { stdio: 'ignore' },
    );
    children.push(ffmpeg);
    try {
      let online = false;
      for (let i = 0; i < 100 && !online; i++) {
        await sleep(100);
        const res = await gw.api('/api/streams?src=pushed');
        if (res.status === 200) {
          const info = (await res.json()) as { producers: { state: string }[] };
          online = info.producers.some((p) => p.state === 'online');
        } else await res.arrayBuffer();
      }
      assert.ok(online, 'the publisher is online');
      assert.deepEqual(summary(await ffprobe(`${base}/pushed`, 'tcp')), ['h264 320x240', 'opus']);
    } finally {
      ffmpeg.kill('SIGKILL');
    }
  });

  test('a reader joining a running stream gets its first keyframe packet within 300 ms of PLAY', async (t) => {
    const keeper = await client();
    await play(keeper, `${base}/demo`);
    await sleep(1500); // the source runs and the reader joins in the middle of a 1 s GOP
    const late = await client();
    const sent = await play(late, `${base}/demo`);
    const first = await late.waitFor(
      () => late.frames.find((f) => f.channel === 0),
      2000,
      'first video packet',
    );
    assert.ok(startsKeyframe(first.data), 'the first video packet starts an IDR');
    const ms = first.at - sent;
    t.diagnostic(`first keyframe packet ${ms.toFixed(1)} ms after PLAY`);
    assert.ok(ms < 300, `first keyframe after ${ms.toFixed(1)} ms`);
  });

  test('random bytes, a request without CSeq, a 20 KB header and an unknown channel do not stop the server', async () => {
    const junk = await client();
    junk.send(Buffer.concat([Buffer.from('X'), randomBytes(30000)]));
    await junk.waitEnd(3000);
    const noCseq = await client();
    noCseq.send('OPTIONS * RTSP/1.0\r\n\r\n');
    assert.equal((await noCseq.waitFor(() => noCseq.responses[0], 2000)).status, 400);
    const big = await client();
    big.send(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: ${'a'.repeat(20000)}\r\n\r\n`);
    await big.waitEnd(3000);
    const channel = await client();
    channel.send(Buffer.concat([interleavedHeader(42, 3), Buffer.from([1, 2, 3])]));
    assert.equal((await channel.request('OPTIONS', '*')).status, 200);
    assert.deepEqual(summary(await ffprobe(`${base}/demo`, 'tcp')), ['h264 640x360', 'opus']);
  });

  test('SIGTERM with readers connected makes the gateway exit 0 within 3 s and ends their connections', async () => {
    const readers = [await client(), await client()];
    for (const r of readers) await play(r, `${base}/demo`);
    await readers[0].waitFor(() => readers[0].frames[0], 2000, 'media');
    const { code, ms } = await gw.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(ms < 3000, `took ${ms} ms`);
    for (const r of readers) await r.waitEnd(1000);
  });
});
