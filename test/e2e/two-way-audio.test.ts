/**
 * Two-way audio against the real gateway process and the test camera (an RTSP server with an
 * ONVIF back channel, test/fixtures/backchannel-camera.ts): Chromium's player, with the talk
 * button and a 440 Hz oscillator as its microphone, is heard by the camera as PCMA within 2% of
 * the tone while it plays the camera's G.711 as Opus; `POST /api/streams?dst=cam&src=file:...`
 * plays a file to the camera and `src=` stops it; `?backchannel=1` shows ffprobe the extra section.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BackchannelCamera } from '../fixtures/backchannel-camera.ts';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const DEMO = fileURLToPath(new URL('../../assets/demo.mp4', import.meta.url));

async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Frequency of a tone from its rising zero crossings (as test/unit/audio/helpers.ts). */
function toneFrequency(pcm: Int16Array, rate: number): number {
  let first = -1;
  let last = -1;
  let periods = 0;
  for (let i = 1; i < pcm.length; i++) {
    if (pcm[i - 1] < 0 && pcm[i] >= 0) {
      const t = i - 1 + -pcm[i - 1] / (pcm[i] - pcm[i - 1]);
      if (first < 0) first = t;
      else periods++;
      last = t;
    }
  }
  return periods > 0 ? (periods * rate) / (last - first) : 0;
}

/** Power of `hz` in `pcm` (Goertzel), for a tone among others. */
function power(pcm: Int16Array, rate: number, hz: number): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const x of pcm) {
    const s = x + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

interface StreamInfo {
  producers: { url: string; transcoder?: boolean }[];
  consumers: { type: string }[];
}

const MIC_440 = `
  navigator.mediaDevices.getUserMedia = async () => {
    const ctx = new AudioContext({ sampleRate: 48000 });
    const osc = ctx.createOscillator();
    osc.frequency.value = 440;
    const gain = ctx.createGain();
    gain.gain.value = 0.3;
    const dst = ctx.createMediaStreamDestination();
    osc.connect(gain).connect(dst);
    osc.start();
    await ctx.resume();
    window.micContext = ctx;
    return dst.stream;
  };
`;

let cam: BackchannelCamera;
let gw: GatewayProcess;
let browser: TestBrowser;

before(async () => {
  cam = await BackchannelCamera.start();
  gw = await startGateway(`streams:\n  cam: ${cam.url()}\n`);
  browser = await launchBrowser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);
});
after(async () => {
  await browser?.close();
  if (gw) {
    const { code } = await gw.stop();
    if (code !== 0) console.error(gw.output());
  }
  await cam?.close();
});

async function info(): Promise<StreamInfo> {
  return (await (await gw.api('/api/streams?src=cam')).json()) as StreamInfo;
}

describe('two-way audio', { timeout: 60000 }, () => {
  test('<video-stream talk> (the talk button of stream.html) sends a 440 Hz microphone from Chromium to the camera as PCMA within 2%, while the camera G.711 plays as Opus', async () => {
    const page = await browser.context.newPage();
    try {
      await page.addInitScript(MIC_440);
      await page.goto(`http://127.0.0.1:${gw.apiPort}/stream.html?src=cam&mode=webrtc`, { timeout: 10000 });
      const status = () =>
        page.evaluate(
          () =>
            (document.querySelector('video-stream') as unknown as { status: Record<string, string> }).status,
        );
      await until('the player to play', 10000, async () => (await status()).state === 'playing');
      const producers = (await info()).producers;
      assert.ok(
        producers.some((p) => p.transcoder && p.url.startsWith('audio:cam#opus/48000')),
        `an in-process PCMA → Opus transcoder: ${JSON.stringify(producers)}`,
      );
      const from = cam.received.length;
      await page.click('#talk');
      const s = await until('talking', 10000, async () => {
        const st = await status();
        return st.state === 'playing' && st.talk === 'on' && st;
      });
      assert.equal(s.mode, 'webrtc');
      // 2 s of the microphone.
      await until('2 s of back-channel audio', 10000, () => cam.received.length - from >= 100);
      const got = cam.received.slice(from);
      assert.ok(
        got.every((p) => p.payloadType === 8 && p.payload.length === 160),
        'PCMA, 20 ms packets',
      );
      const pcm = cam.receivedPcm(from + 25); // past the start of the oscillator
      const hz = toneFrequency(pcm, 8000);
      assert.ok(Math.abs(hz - 440) / 440 < 0.02, `${hz} Hz`);
    } finally {
      await page.close();
    }
    await until('the viewer to leave', 5000, async () =>
      (await info()).consumers.every((c) => c.type !== 'webrtc'),
    );
  });

  test('POST /api/streams?dst=cam&src=file:... plays the file to the camera, and src= stops it', async () => {
    const res = await gw.api(`/api/streams?dst=cam&src=${encodeURIComponent(`file:${DEMO}`)}`, {
      method: 'POST',
    });
    const body = (await res.json()) as { input?: string; output?: string; error?: string };
    assert.equal(res.status, 200, body.error);
    assert.equal(body.output, 'PCMA/8000');
    assert.match(body.input ?? '', /^OPUS\/48000/);
    assert.ok((await info()).consumers.some((c) => c.type === 'backchannel'));
    const from = cam.received.length;
    await until('1 s of the file at the camera', 8000, () => cam.received.length - from >= 50);
    const pcm = cam.receivedPcm(from);
    // The demo's audio is a 440 Hz sine with a short 1760 Hz beep each second.
    assert.ok(power(pcm, 8000, 440) > 10 * power(pcm, 8000, 600), 'the 440 Hz tone of the file');

    const stop = await gw.api('/api/streams?dst=cam&src=', { method: 'POST' });
    assert.deepEqual(await stop.json(), { stream: 'cam', stopped: true });
    await sleep(200);
    const count = cam.received.length;
    await sleep(500);
    assert.equal(cam.received.length, count, 'nothing more after the stop');
    assert.ok((await info()).consumers.every((c) => c.type !== 'backchannel'));
  });

  test('ffprobe rtsp://gateway/cam?backchannel=1 sees the extra a=sendonly PCMA section', async () => {
    const url = `rtsp://127.0.0.1:${gw.ports.RTSP}/cam?backchannel=1`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        'ffprobe',
        [
          '-v',
          'error',
          '-rtsp_transport',
          'tcp',
          '-analyzeduration',
          '500000',
          '-show_streams',
          '-of',
          'json',
          url,
        ],
        { timeout: 15000 },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      );
    });
    const streams = (JSON.parse(out) as { streams: { codec_type: string; codec_name: string }[] }).streams;
    assert.deepEqual(
      streams.map((s) => `${s.codec_type}:${s.codec_name}`),
      ['video:h264', 'audio:pcm_alaw', 'audio:pcm_alaw'],
    );
  });
});
