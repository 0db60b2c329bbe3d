/**
 * ffmpeg: and exec: sources, JPEG snapshots and MJPEG against the real gateway process, and the
 * gateway without ffmpeg. Every child the gateway starts must be gone after its consumers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';
import { childrenOf, ffprobe, summary, trackedChildren, until } from '../unit/ffmpeg/helpers.ts';

const TESTSRC =
  '-hide_banner -loglevel error -re -f lavfi -i testsrc=size=160x120:rate=25 -c:v libx264 -preset ultrafast -g 25';

const CONFIG = `
source:
  idle_timeout: 1
streams:
  scaled: ffmpeg:demo#video=h264#width=160
  pub: exec:ffmpeg ${TESTSRC} -f rtsp {output}
  ts: exec:ffmpeg ${TESTSRC} -f mpegts -
  broken: exec:sh -c "echo camera offline >&2; exit 3"
`;

describe('ffmpeg: and exec: sources, snapshots', { timeout: 90000 }, () => {
  let gw: GatewayProcess;
  let rtsp: string;
  before(async () => {
    gw = await startGateway(CONFIG);
    rtsp = `rtsp://127.0.0.1:${gw.ports.RTSP}`;
  });
  after(async () => {
    if (gw) {
      const { code } = await gw.stop();
      if (code !== 0) console.error(gw.output());
    }
  });

  test('an ffmpeg: source reading another stream by name is played scaled over RTSP', async () => {
    assert.deepEqual(summary(await ffprobe(`${rtsp}/scaled`)), ['h264 160x90']);
  });

  test('an exec: command publishing to {output} and one writing MPEG-TS to stdout are both played over RTSP', async () => {
    const [pub, ts] = await Promise.all([ffprobe(`${rtsp}/pub`), ffprobe(`${rtsp}/ts`)]);
    assert.deepEqual(summary(pub), ['h264 160x120']);
    assert.deepEqual(summary(ts), ['h264 160x120']);
    const streams = (await (await gw.api('/api/streams')).json()) as Record<string, unknown>;
    assert.ok(
      !Object.keys(streams).some((n) => n.startsWith('_mediagate')),
      'private publish paths are no streams',
    );
  });

  test('an exec: command that exits at once fails its reader, and the API shows its exit code and stderr', async () => {
    await assert.rejects(ffprobe(`${rtsp}/broken`, undefined, 10000));
    const info = (await (await gw.api('/api/streams?src=broken')).json()) as {
      producers: { error?: string }[];
    };
    assert.match(info.producers[0].error ?? '', /exited with code 3: camera offline/);
  });

  test('PUT /api/streams refuses exec: and ffmpeg: with raw arguments or files, and accepts ffmpeg: of a URL', async () => {
    const put = (src: string) =>
      gw.api(`/api/streams?name=x&src=${encodeURIComponent(src)}`, { method: 'PUT' });
    for (const [src, why] of [
      ['exec:ffmpeg -f lavfi -i testsrc -f rtsp {output}', /"exec:" sources run programs/],
      ['ffmpeg:rtsp://192.0.2.1/s#video=h264#raw=-vf hflip', /#raw= arguments/],
      ['ffmpeg:/etc/passwd', /a file input/],
    ] as const) {
      const res = await put(src);
      assert.equal(res.status, 400, src);
      assert.match(((await res.json()) as { error: string }).error, why);
    }
    const ok = await put('ffmpeg:rtsp://192.0.2.1/s#video=h264');
    assert.equal(ok.status, 201);
    assert.equal((await gw.api('/api/streams?src=x', { method: 'DELETE' })).status, 200);
  });

  test('GET /api/frame.jpeg?src=demo&width=320 returns a 320-wide JPEG of the latest keyframe, cached for a few seconds', async () => {
    const res = await gw.api('/api/frame.jpeg?src=demo&width=320');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    const jpeg = Buffer.from(await res.arrayBuffer());
    assert.deepEqual(summary(await ffprobe('-', jpeg)), ['mjpeg 320x180']);
    const again = Buffer.from(await (await gw.api('/api/frame.jpeg?src=demo&width=320')).arrayBuffer());
    assert.ok(again.equals(jpeg), 'the same picture from the cache');
    const full = Buffer.from(await (await gw.api('/api/frame.jpeg?src=pub')).arrayBuffer());
    assert.deepEqual(summary(await ffprobe('-', full)), ['mjpeg 160x120']);
    assert.equal((await gw.api('/api/frame.jpeg?src=nope')).status, 404);
    assert.equal((await gw.api('/api/frame.jpeg?src=demo&width=abc')).status, 400);
  });

  test('GET /api/stream.mjpeg streams JPEG parts from one ffmpeg, which stops when the client leaves', async () => {
    const ac = new AbortController();
    const res = await gw.api('/api/stream.mjpeg?src=pub', { signal: ac.signal });
    assert.equal(res.status, 200);
    const boundary = /boundary=(\S+)/.exec(res.headers.get('content-type') ?? '')?.[1];
    assert.ok(boundary);
    const reader = res.body!.getReader();
    let body = Buffer.alloc(0);
    const deadline = Date.now() + 8000;
    while (body.toString('latin1').split(`--${boundary}`).length < 7 && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      body = Buffer.concat([body, Buffer.from(value)]);
    }
    ac.abort();
    await reader.cancel().catch(() => undefined);
    const parts = body.toString('latin1').split(`--${boundary}\r\n`).slice(1);
    assert.ok(parts.length >= 5, `${parts.length} parts`);
    for (const part of parts.slice(0, -1)) {
      assert.match(part, /^Content-Type: image\/jpeg\r\nContent-Length: \d+\r\n\r\n\xff\xd8/);
    }
    await until('the MJPEG ffmpeg to exit', 5000, async () =>
      (await trackedChildren(gw)).every((c) => !c.owner.startsWith('mjpeg:')),
    );
  });

  test('no ffmpeg or command started by the gateway is left a few seconds after the last consumer', async () => {
    let last: unknown;
    await until('every child to exit', 6000, async () => {
      const tracked = await trackedChildren(gw);
      const real = childrenOf(gw.proc.pid!);
      last = { tracked, real };
      return tracked.length === 0 && real.length === 0;
    }).catch((err) => assert.fail(`${err.message}: ${JSON.stringify(last)}`));
  });
});

describe('a gateway without ffmpeg', { timeout: 30000 }, () => {
  test('serves everything else and says why ffmpeg: sources and snapshots are unavailable', async () => {
    const gw = await startGateway(
      'ffmpeg:\n  bin: /nonexistent/ffmpeg\nstreams:\n  conv: ffmpeg:demo#video=h265\n',
    );
    try {
      const rtsp = `rtsp://127.0.0.1:${gw.ports.RTSP}`;
      assert.deepEqual(summary(await ffprobe(`${rtsp}/demo`)), ['h264 640x360', 'opus']);
      const jpeg = await gw.api('/api/frame.jpeg?src=demo');
      assert.equal(jpeg.status, 503);
      const why =
        /ffmpeg not found \(ffmpeg\.bin=\/nonexistent\/ffmpeg\): needed for ffmpeg: sources, transcoding and snapshots/;
      assert.match(((await jpeg.json()) as { error: string }).error, why);
      await assert.rejects(ffprobe(`${rtsp}/conv`, undefined, 10000));
      const info = (await (await gw.api('/api/streams?src=conv')).json()) as {
        producers: { error?: string }[];
      };
      assert.match(info.producers[0].error ?? '', why);
    } finally {
      await gw.stop();
    }
  });
});
