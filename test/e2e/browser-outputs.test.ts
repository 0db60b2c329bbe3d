/**
 * End to end: the MSE, HLS and MP4 outputs against headless Chromium and ffprobe, and the web UI
 * (add a stream through the form, see it listed, play it). One gateway and one browser for the file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const DEMO_FILE = new URL('../../assets/demo.mp4', import.meta.url).pathname;
const run = promisify(execFile);

interface Probe {
  streams: {
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
    nb_read_frames?: string;
  }[];
  format: { duration?: string };
}

async function ffprobe(input: string, extra: string[] = []): Promise<Probe> {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      ...extra,
      '-show_entries',
      'stream=codec_type,codec_name,width,height,nb_read_frames:format=duration',
      '-of',
      'json',
      input,
    ],
    { timeout: 30_000, killSignal: 'SIGKILL' },
  );
  return JSON.parse(stdout) as Probe;
}

/** The player's state as the page sees it. */
function playerState(page: Page) {
  return page.evaluate(() => {
    const p = document.querySelector('video-stream') as HTMLElement & {
      video: HTMLVideoElement;
      status: { state: string; mode: string; error: string };
    };
    const v = p.video;
    return { ...p.status, width: v.videoWidth, height: v.videoHeight, time: v.currentTime };
  });
}

describe('browser outputs: MSE, HLS, MP4 and the web UI', { timeout: 90_000 }, () => {
  let gw: GatewayProcess;
  let browser: TestBrowser;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'mediagate-outputs-'));

  before(async () => {
    [gw, browser] = await Promise.all([startGateway(), launchBrowser()]);
    base = `http://127.0.0.1:${gw.apiPort}`;
  });
  after(async () => {
    await browser?.close();
    if (gw && gw.proc.exitCode === null) await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `fn` with a fresh page; on failure the browser console is part of the message. */
  async function withPage(fn: (page: Page) => Promise<void>): Promise<void> {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(20_000);
    try {
      await fn(page);
    } catch (err) {
      (err as Error).message += `\nbrowser console:\n${browser.console.slice(-20).join('\n')}`;
      throw err;
    } finally {
      await page.close();
    }
  }

  test('<video-stream mode="mse"> plays demo at 640x360 with currentTime advancing for 5 s and disconnects while the page is hidden', async () => {
    await withPage(async (page) => {
      await page.goto(`${base}/stream.html?src=demo&mode=mse`);
      await page.waitForFunction(
        () =>
          (document.querySelector('video-stream') as unknown as { status: { state: string } })?.status
            .state === 'playing',
      );
      const start = await playerState(page);
      assert.equal(start.mode, 'mse');
      let last = start.time;
      for (let i = 0; i < 5; i++) {
        await page.waitForTimeout(1000);
        const s = await playerState(page);
        assert.equal(s.state, 'playing', `second ${i + 1}: ${s.error}`);
        assert.deepEqual([s.width, s.height], [640, 360]);
        assert.ok(s.time > last, `second ${i + 1}: currentTime ${s.time} after ${last}`);
        last = s.time;
      }
      assert.ok(last - start.time > 4, `played ${last - start.time} s in 5 s`);
      const overlay = await page.evaluate(
        () =>
          document.querySelector('video-stream')?.shadowRoot?.querySelector('.overlay')?.textContent ?? '',
      );
      assert.match(overlay, /^MSE · 640×360 · \d+ kb\/s$/);

      // Hidden page: the player disconnects, and comes back when the page is visible again.
      const mseViewers = async () =>
        (
          (await (await gw.api('/api/streams?src=demo')).json()) as { consumers: { type: string }[] }
        ).consumers.filter((c) => c.type === 'mse').length;
      assert.equal(await mseViewers(), 1);
      const setHidden = (hidden: boolean) =>
        page.evaluate((h) => {
          Object.defineProperty(document, 'hidden', { value: h, configurable: true });
          document.dispatchEvent(new Event('visibilitychange'));
        }, hidden);
      await setHidden(true);
      assert.equal((await playerState(page)).state, 'paused');
      for (let i = 0; i < 50 && (await mseViewers()) > 0; i++) await page.waitForTimeout(100);
      assert.equal(await mseViewers(), 0, 'no MSE consumer while hidden');
      await setHidden(false);
      await page.waitForFunction(
        () =>
          (document.querySelector('video-stream') as unknown as { status: { state: string } }).status
            .state === 'playing',
      );
    });
  });

  test('<video-stream mode="mse"> shows the server\'s error for an unknown stream', async () => {
    await withPage(async (page) => {
      await page.goto(`${base}/stream.html?src=nope&mode=mse`);
      await page.waitForFunction(() =>
        /not found/.test(document.getElementById('status')?.textContent ?? ''),
      );
      const s = await playerState(page);
      assert.equal(s.state, 'retrying');
      assert.equal(s.error, 'stream "nope" not found');
    });
  });

  test('ffprobe reads GET /api/stream.m3u8?src=demo as H.264 640x360 with Opus audio', async () => {
    const info = await ffprobe(`${base}/api/stream.m3u8?src=demo`);
    const video = info.streams.find((s) => s.codec_type === 'video');
    const audio = info.streams.find((s) => s.codec_type === 'audio');
    assert.equal(video?.codec_name, 'h264');
    assert.deepEqual([video?.width, video?.height], [640, 360]);
    assert.equal(audio?.codec_name, 'opus');
  });

  test('GET /api/stream.mp4?src=demo&duration=3 is a chunked video/mp4 that ffprobe reads as H.264 with audio, about 3 s', async () => {
    const t0 = performance.now();
    const res = await gw.api('/api/stream.mp4?src=demo&duration=3', { signal: AbortSignal.timeout(20_000) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'video/mp4');
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const file = join(dir, 'three.mp4');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds < 6, `the download took ${seconds.toFixed(1)} s for 3 s of media`);
    const info = await ffprobe(file);
    assert.equal(info.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    assert.equal(info.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'opus');
    const duration = Number(info.format.duration);
    assert.ok(duration > 2.8 && duration < 3.3, `duration ${duration}`);
  });

  test('GET /api/frame.mp4?src=demo answers one keyframe as a small MP4', async () => {
    const res = await gw.api('/api/frame.mp4?src=demo', { signal: AbortSignal.timeout(15_000) });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(Number(res.headers.get('content-length')), body.length);
    assert.ok(body.length < 100_000, `${body.length} bytes`);
    const file = join(dir, 'frame.mp4');
    writeFileSync(file, body);
    const info = await ffprobe(file, ['-count_frames']);
    assert.deepEqual(
      info.streams.map((s) => [s.codec_name, s.width, s.nb_read_frames]),
      [['h264', 640, '1']],
    );
    const missing = await gw.api('/api/frame.mp4?src=nope');
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: string }).error, /stream "nope" not found/);
  });

  test('the web UI adds a stream through its form, lists it, shows the JSON error of a duplicate and plays it', async () => {
    await withPage(async (page) => {
      await page.goto(`${base}/`);
      await page.waitForSelector('tr[data-stream="demo"]');
      await page.fill('input[name="name"]', 'copy');
      await page.fill('textarea[name="sources"]', `file:${DEMO_FILE}`);
      await page.click('#submit');
      await page.waitForSelector('tr[data-stream="copy"]');
      assert.match((await page.textContent('tr[data-stream="copy"]')) ?? '', /demo\.mp4/);
      // The same name again: the server's JSON error text is shown.
      await page.fill('input[name="name"]', 'copy');
      await page.fill('textarea[name="sources"]', `file:${DEMO_FILE}`);
      await page.click('#submit');
      await page.waitForFunction(() =>
        /already exists/.test(document.getElementById('form-error')?.textContent ?? ''),
      );
      assert.equal(await page.textContent('#form-error'), '409: stream "copy" already exists');
      await page.click('tr[data-stream="copy"] a.stream-link');
      await page.waitForURL(/stream\.html\?src=copy$/);
      // Auto mode: WebRTC first, then MSE, then HLS; whichever plays.
      await page.waitForFunction(
        () => {
          const p = document.querySelector('video-stream') as unknown as {
            status: { state: string };
            video: HTMLVideoElement;
          };
          return p?.status.state === 'playing' && p.video.currentTime > 0.5;
        },
        undefined,
        { timeout: 30_000 },
      );
      const s = await playerState(page);
      assert.deepEqual([s.width, s.height], [640, 360], `mode ${s.mode}`);
      const listed = (await (await gw.api('/api/streams?src=copy')).json()) as {
        consumers: { type: string }[];
      };
      assert.ok(listed.consumers.length >= 1, 'the player is a consumer of copy');
    });
  });

  test('the links page lists every output URL of a stream', async () => {
    await withPage(async (page) => {
      await page.goto(`${base}/links.html?src=demo`);
      const text = (await page.textContent('#links')) ?? '';
      for (const url of [
        'rtsp://127.0.0.1:8554/demo',
        `ws://127.0.0.1:${gw.apiPort}/api/ws?src=demo`,
        `${base}/api/stream.m3u8?src=demo`,
        `${base}/api/stream.mp4?src=demo`,
        `${base}/api/frame.mp4?src=demo`,
        `${base}/api/frame.jpeg?src=demo`,
      ]) {
        assert.ok(text.includes(url), `${url} in the links page`);
      }
    });
  });

  test('the log page shows the log or a friendly message when GET /api/log does not exist', async () => {
    await withPage(async (page) => {
      await page.goto(`${base}/log.html`);
      await page.waitForFunction(() => (document.getElementById('log')?.textContent ?? '').length > 0);
      const text = (await page.textContent('#log')) ?? '';
      const status = (await gw.api('/api/log')).status;
      if (status === 404) assert.match(text, /not available on this gateway yet/);
      else assert.match(text, /INFO/);
    });
  });
});
