/**
 * Automatic transcoding against the real gateway and Chromium: an H.265 camera (ffmpeg publishing
 * libx265 over RTSP) plays over WebRTC as H.264, an AAC camera is heard as Opus, without any
 * transcoding config; the transcoders stop after the last viewer and with their stream.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';
import { childrenOf, ffprobe, summary, trackedChildren, until } from '../unit/ffmpeg/helpers.ts';

interface Inbound {
  video: { codec: string; frames: number };
  audio: { codec: string; samples: number };
}

interface StreamInfo {
  producers: { url: string; state: string; transcoder?: boolean }[];
  consumers: { type: string; tracks: string[]; transcoders?: string[] }[];
}

/** Codecs and counters of what the page's peer connection receives. */
function inbound(page: Page): Promise<Inbound> {
  return page.evaluate(async () => {
    const out = { video: { codec: '', frames: 0 }, audio: { codec: '', samples: 0 } };
    const pc = (window as unknown as { pc?: RTCPeerConnection }).pc;
    if (!pc) return out;
    const report = await pc.getStats();
    for (const s of report.values()) {
      if (s.type !== 'inbound-rtp') continue;
      const codec = (report.get(s.codecId) as { mimeType?: string } | undefined)?.mimeType ?? '';
      if (s.kind === 'video') out.video = { codec, frames: s.framesDecoded ?? 0 };
      if (s.kind === 'audio') out.audio = { codec, samples: s.totalSamplesReceived ?? 0 };
    }
    return out;
  });
}

/**
 * The loudness (RMS, 0..1) of the received audio, measured with Web Audio: headless Chromium has
 * no sound card, so the stats' audio levels stay 0 even when the decoded samples are loud.
 */
function loudness(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    const track = pc.getReceivers().find((r) => r.track.kind === 'audio')?.track;
    if (!track) return 0;
    const ctx = new AudioContext();
    try {
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
      let best = 0;
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const buf = new Float32Array(analyser.fftSize);
        analyser.getFloatTimeDomainData(buf);
        best = Math.max(best, Math.sqrt(buf.reduce((sum, x) => sum + x * x, 0) / buf.length));
      }
      return best;
    } finally {
      await ctx.close();
    }
  });
}

async function info(gw: GatewayProcess, name: string): Promise<StreamInfo> {
  return (await (await gw.api(`/api/streams?src=${name}`)).json()) as StreamInfo;
}

async function openPlayer(browser: TestBrowser, gw: GatewayProcess, src: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`http://127.0.0.1:${gw.apiPort}/webrtc-test.html`, { timeout: 10000 });
  await page.evaluate(
    (s) => (window as unknown as { play: (o: object) => Promise<void> }).play({ src: s, mode: 'ws' }),
    src,
  );
  return page;
}

async function closePlayer(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as { stop: () => void }).stop()).catch(() => undefined);
  await page.close();
}

/** The gateway's own children: ffmpeg transcoders and sources (never the test's publishers). */
async function gatewayChildren(gw: GatewayProcess) {
  return { tracked: await trackedChildren(gw), real: childrenOf(gw.proc.pid!) };
}

describe('automatic transcoding', { timeout: 120000 }, () => {
  let gw: GatewayProcess;
  let browser: TestBrowser;
  let rtsp: string;
  const publishers: ChildProcess[] = [];

  /** ffmpeg publishing a 320x240 test picture (and a tone) to the gateway; the test's own child. */
  function publish(name: string, codecArgs: string[], audio: boolean): void {
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=25',
    ];
    if (audio) args.push('-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100');
    args.push(...codecArgs, '-f', 'rtsp', '-rtsp_transport', 'tcp', `${rtsp}/${name}`);
    publishers.push(spawn('ffmpeg', args, { stdio: 'ignore' }));
  }

  before(async () => {
    // idle_timeout 2: a transcoder goes 2 s after its last viewer (the default is 5).
    gw = await startGateway('source:\n  idle_timeout: 2\n');
    rtsp = `rtsp://127.0.0.1:${gw.ports.RTSP}`;
    publish(
      'h265cam',
      ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=25:log-level=error'],
      false,
    );
    publish('aaccam', ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac'], true);
    for (const name of ['h265cam', 'aaccam']) {
      await until(`${name} to be published`, 15000, async () => {
        const res = await gw.api(`/api/streams?src=${name}`);
        return (
          res.status === 200 && ((await res.json()) as StreamInfo).producers.some((p) => p.state === 'online')
        );
      });
    }
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const p of publishers) {
      if (p.exitCode === null && p.signalCode === null) {
        const exited = new Promise((resolve) => p.once('exit', resolve));
        p.kill('SIGKILL');
        await exited;
      }
    }
    if (gw) {
      const { code } = await gw.stop();
      if (code !== 0) console.error(gw.output());
    }
  });

  test('an RTSP reader asking an H.265 camera for ?video=h264 gets H.264 from a transcoder', async () => {
    assert.deepEqual(summary(await ffprobe(`${rtsp}/h265cam?video=h264`)), ['h264 320x240']);
    const producers = (await info(gw, 'h265cam')).producers;
    assert.deepEqual(
      producers.filter((p) => p.transcoder).map((p) => p.url),
      ['ffmpeg:h265cam#video=h264'],
    );
  });

  test('Chromium plays an H.265 camera over WebRTC as H.264 without any config, and the API shows the transcoder serving it', async () => {
    const page = await openPlayer(browser, gw, 'h265cam');
    try {
      const got = await until('20 decoded H.264 frames', 20000, async () => {
        const s = await inbound(page);
        return s.video.frames >= 20 && s;
      });
      assert.equal(got.video.codec, 'video/H264');
      const viewers = (await info(gw, 'h265cam')).consumers.filter((c) => c.type === 'webrtc');
      assert.deepEqual(
        viewers.map((c) => [c.tracks, c.transcoders]),
        [[['video:H264'], ['ffmpeg:h265cam#video=h264']]],
      );
    } finally {
      await closePlayer(page);
    }
  });

  test('Chromium hears an AAC camera over WebRTC as Opus while its H.264 video goes through unchanged', async () => {
    const page = await openPlayer(browser, gw, 'aaccam');
    try {
      const got = await until('a second of Opus and decoded video', 20000, async () => {
        const s = await inbound(page);
        return s.audio.samples > 48000 && s.video.frames >= 10 && s;
      });
      assert.equal(got.audio.codec, 'audio/opus');
      assert.equal(got.video.codec, 'video/H264');
      // The 440 Hz tone at about -21 dBFS: an RMS near 0.09, far above silence.
      const rms = await loudness(page);
      assert.ok(rms > 0.02, `RMS ${rms}`);
      const stream = await info(gw, 'aaccam');
      const viewers = stream.consumers.filter((c) => c.type === 'webrtc');
      assert.deepEqual(
        viewers.map((c) => [c.tracks, c.transcoders]),
        [[['video:H264', 'audio:OPUS'], ['ffmpeg:aaccam#audio=opus']]],
      );
      assert.deepEqual(
        stream.producers.filter((p) => p.transcoder).map((p) => p.url),
        ['ffmpeg:aaccam#audio=opus'],
        'only the audio is transcoded',
      );
    } finally {
      await closePlayer(page);
    }
  });

  test('within five seconds after the last viewer leaves, no ffmpeg started by the gateway remains', async () => {
    const page = await openPlayer(browser, gw, 'h265cam');
    await until('frames', 20000, async () => (await inbound(page)).video.frames >= 5);
    const running = await gatewayChildren(gw);
    assert.ok(
      running.tracked.some((c) => c.owner === 'transcode:h265cam'),
      JSON.stringify(running),
    );
    await closePlayer(page);
    await until('the viewer to leave', 5000, async () =>
      (await info(gw, 'h265cam')).consumers.every((c) => c.type !== 'webrtc'),
    );
    const left = Date.now();
    let last: unknown;
    await until('no gateway children', 5000, async () => {
      const c = await gatewayChildren(gw);
      last = c;
      return c.tracked.length === 0 && c.real.length === 0;
    }).catch((err) => assert.fail(`${err.message}: ${JSON.stringify(last)}`));
    assert.ok(Date.now() - left <= 5000);
  });

  test('deleting a stream whose transcoder runs stops the transcoder at once', async () => {
    const page = await openPlayer(browser, gw, 'h265cam');
    try {
      await until('frames', 20000, async () => (await inbound(page)).video.frames >= 5);
      const pids = (await gatewayChildren(gw)).real.map((c) => c.pid);
      assert.ok(pids.length > 0);
      assert.equal((await gw.api('/api/streams?src=h265cam', { method: 'DELETE' })).status, 200);
      let last: unknown;
      await until('no gateway children', 3000, async () => {
        const c = await gatewayChildren(gw);
        last = c;
        return c.tracked.length === 0 && c.real.length === 0;
      }).catch((err) => assert.fail(`${err.message}: ${JSON.stringify(last)}`));
    } finally {
      await closePlayer(page);
    }
  });
});
