/**
 * RTMP against the real gateway process: ffmpeg publishes over RTMP into a stream that ffprobe
 * reads back over RTMP (play) and RTSP and that Chromium plays over WebRTC; the `rtmp://` source
 * client plays from ffmpeg's own RTMP server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';
import {
  codecsOf,
  ffprobe,
  freePort,
  H264_AAC,
  killAll,
  liveInputs,
  startFfmpeg,
  until,
} from '../unit/http-source/media-tools.ts';

interface StreamInfo {
  producers: { url: string; state: string; medias: string[]; publisher: boolean }[];
  consumers: { type: string }[];
}

describe('gateway process: RTMP', { timeout: 60000 }, () => {
  let gw: GatewayProcess;
  let rtmp = '';
  let rtsp = '';
  let extPort = 0;
  let browser: TestBrowser | undefined;

  const info = async (name: string) =>
    (await (await gw.api(`/api/streams?src=${name}`)).json()) as StreamInfo;

  before(async () => {
    extPort = await freePort();
    gw = await startGateway(
      `rtmp:\n  listen: "127.0.0.1:0"\nstreams:\n  ext: rtmp://127.0.0.1:${extPort}/live/x\n`,
    );
    assert.ok(gw.ports.RTMP > 0, 'the RTMP port is in the log ("RTMP listening")');
    rtmp = `rtmp://127.0.0.1:${gw.ports.RTMP}`;
    rtsp = `rtsp://127.0.0.1:${gw.ports.RTSP}`;
    // The publisher runs for the whole file; everything below reads its stream.
    startFfmpeg([...liveInputs(50), ...H264_AAC, '-f', 'flv', `${rtmp}/live/cam`]);
    await until('the RTMP publisher', 10000, async () => {
      const s = await info('cam');
      return s.producers.some((p) => p.publisher && p.medias.length === 2);
    });
  });

  after(async () => {
    await browser?.close();
    await killAll();
    if (gw) {
      const { code } = await gw.stop();
      if (code !== 0) console.error(gw.output());
    }
  });

  test('ffmpeg publishes RTMP into a stream: its producer is a publisher with H.264 and AAC', async () => {
    const s = await info('cam');
    assert.deepEqual(s.producers[0].medias, ['video:H264/90000', 'audio:AAC/44100']);
    assert.match(s.producers[0].url, /^rtmp:\/\/127\.0\.0\.1:\d+\/live\/cam$/);
  });

  test('ffprobe reads the published stream back over RTMP play (rtmp://HOST/live/NAME) and over RTSP', async () => {
    const [overRtmp, overRtsp] = await Promise.all([
      ffprobe(`${rtmp}/live/cam`),
      ffprobe(`${rtsp}/cam`, ['-rtsp_transport', 'tcp']),
    ]);
    assert.deepEqual(codecsOf(overRtmp), ['aac', 'h264 320x240']);
    assert.deepEqual(codecsOf(overRtsp), ['aac', 'h264 320x240']);
  });

  test('Chromium plays the RTMP-published stream over WebRTC (WHEP): video frames are decoded', async () => {
    browser = await launchBrowser();
    const page: Page = await browser.context.newPage();
    try {
      await page.goto(`http://127.0.0.1:${gw.apiPort}/webrtc-test.html`, { timeout: 10000 });
      await page.evaluate(
        (opts) => (window as unknown as { play: (o: object) => Promise<void> }).play(opts),
        { src: 'cam', mode: 'whep', transport: 'any' },
      );
      const frames = await until('25 decoded frames', 20000, async () => {
        const s = await page.evaluate(() =>
          (window as unknown as { stats: () => Promise<{ framesDecoded: number }> }).stats(),
        );
        return s.framesDecoded >= 25 && s.framesDecoded;
      });
      assert.ok(frames >= 25);
    } finally {
      await page.evaluate(() => (window as unknown as { stop: () => void }).stop()).catch(() => {});
      await page.close();
    }
  });

  test('the rtmp:// source plays from ffmpeg as RTMP server (-listen 1), read through RTSP', async () => {
    startFfmpeg([
      ...liveInputs(30, false),
      ...H264_AAC.slice(0, 8),
      '-f',
      'flv',
      '-listen',
      '1',
      `rtmp://127.0.0.1:${extPort}/live/x`,
    ]);
    // ffmpeg needs a moment to listen; the gateway's source retries with backoff.
    const probe = await until('ffprobe of the rtmp:// source', 20000, () =>
      ffprobe(`${rtsp}/ext`, ['-rtsp_transport', 'tcp'], 8000),
    );
    assert.deepEqual(codecsOf(probe), ['h264 320x240']);
  });
});
