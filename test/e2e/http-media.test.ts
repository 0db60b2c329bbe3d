/**
 * HTTP media against the real gateway process: HTTP-FLV, MPEG-TS and MJPEG sources served by
 * ffmpeg (`-listen 1`), the MPEG-TS, FLV and ADTS outputs read by ffprobe, and ingest of FLV and
 * MPEG-TS bodies POSTed by ffmpeg.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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
}

describe('gateway process: HTTP sources, outputs and ingest', { timeout: 90000 }, () => {
  let gw: GatewayProcess;
  let api = '';
  let rtsp = '';
  const ports = { flv: 0, ts: 0, mjpeg: 0 };
  const tcp = ['-rtsp_transport', 'tcp'];
  /** Live outputs: a second of media tells the codecs. */
  const fast = ['-analyzeduration', '1000000'];

  const info = async (name: string) =>
    (await (await gw.api(`/api/streams?src=${name}`)).json()) as StreamInfo;

  before(async () => {
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    gw = await startGateway(
      [
        'streams:',
        `  flv: http://127.0.0.1:${ports.flv}/live.flv`,
        `  ts: http://127.0.0.1:${ports.ts}/live.ts`,
        `  mj: http://127.0.0.1:${ports.mjpeg}/live.mjpeg`,
        '',
      ].join('\n'),
    );
    api = `http://127.0.0.1:${gw.apiPort}`;
    rtsp = `rtsp://127.0.0.1:${gw.ports.RTSP}`;
    // ffmpeg's HTTP servers wait for their one client before they encode anything.
    const serve = (format: string, url: string, codec: string[], audio = true) =>
      startFfmpeg([...liveInputs(60, audio), ...codec, '-f', format, '-listen', '1', url]);
    serve('flv', `http://127.0.0.1:${ports.flv}/live.flv`, H264_AAC);
    serve('mpegts', `http://127.0.0.1:${ports.ts}/live.ts`, H264_AAC);
    serve('mpjpeg', `http://127.0.0.1:${ports.mjpeg}/live.mjpeg`, ['-c:v', 'mjpeg', '-r', '10'], false);
  });

  after(async () => {
    await killAll();
    if (gw) {
      const { code } = await gw.stop();
      if (code !== 0) console.error(gw.output());
    }
  });

  test('an HTTP-FLV source served by ffmpeg plays through RTSP as H.264 and AAC', async () => {
    const probe = await until('the HTTP-FLV source', 15000, () => ffprobe(`${rtsp}/flv`, tcp, 8000));
    assert.deepEqual(codecsOf(probe), ['aac', 'h264 320x240']);
  });

  test('an MPEG-TS source served by ffmpeg plays through RTSP as H.264 and AAC', async () => {
    const probe = await until('the MPEG-TS source', 15000, () => ffprobe(`${rtsp}/ts`, tcp, 8000));
    assert.deepEqual(codecsOf(probe), ['aac', 'h264 320x240']);
  });

  test('an MJPEG source served by ffmpeg (-f mpjpeg) appears with a JPEG video track', async () => {
    // An audio-only output connects the source and names what it offers in its error.
    const res = await fetch(`${api}/api/stream.aac?src=mj`);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /video:JPEG/);
    const s = await info('mj');
    assert.deepEqual(s.producers[0].medias, ['video:JPEG/90000']);
    assert.equal(s.producers[0].state, 'online');
  });

  test('ffprobe reads /api/stream.ts and /api/stream.flv of the demo stream (H.264; Opus goes into TS only)', async () => {
    const [ts, flv] = await Promise.all([
      ffprobe(`${api}/api/stream.ts?src=demo`, fast),
      ffprobe(`${api}/api/stream.flv?src=demo`, fast),
    ]);
    assert.deepEqual(codecsOf(ts), ['h264 640x360', 'opus']);
    assert.ok(codecsOf(flv).includes('h264 640x360'), codecsOf(flv).join());
  });

  test('an AAC source published over RTSP comes out of /api/stream.ts, .flv and .aac with its audio', async () => {
    startFfmpeg([...liveInputs(40), ...H264_AAC, '-f', 'rtsp', '-rtsp_transport', 'tcp', `${rtsp}/aacsrc`]);
    await until('the RTSP publisher', 10000, async () => (await info('aacsrc')).producers.length > 0);
    const [ts, flv, aac] = await Promise.all([
      ffprobe(`${api}/api/stream.ts?src=aacsrc`, fast),
      ffprobe(`${api}/api/stream.flv?src=aacsrc`, fast),
      ffprobe(`${api}/api/stream.aac?src=aacsrc`, fast),
    ]);
    assert.deepEqual(codecsOf(ts), ['aac', 'h264 320x240']);
    assert.deepEqual(codecsOf(flv), ['aac', 'h264 320x240']);
    assert.deepEqual(codecsOf(aac), ['aac']);
  });

  test('ffmpeg POSTs FLV to /api/stream.flv?dst= and MPEG-TS to /api/stream.ts?dst=: both play through RTSP', async () => {
    startFfmpeg([...liveInputs(40), ...H264_AAC, '-f', 'flv', `${api}/api/stream.flv?dst=pushflv`]);
    startFfmpeg([...liveInputs(40), ...H264_AAC, '-f', 'mpegts', `${api}/api/stream.ts?dst=pushts`]);
    for (const name of ['pushflv', 'pushts']) {
      await until(
        `the ${name} publisher`,
        10000,
        async () => (await info(name)).producers[0]?.medias.length === 2,
      );
      assert.equal((await info(name)).producers[0].publisher, true);
    }
    const [flv, ts] = await Promise.all([ffprobe(`${rtsp}/pushflv`, tcp), ffprobe(`${rtsp}/pushts`, tcp)]);
    assert.deepEqual(codecsOf(flv), ['aac', 'h264 320x240']);
    assert.deepEqual(codecsOf(ts), ['aac', 'h264 320x240']);
  });
});
