/**
 * Chromium against the real gateway process: playback of the built-in demo stream over WS
 * signaling and WHEP, UDP and TCP-only; WHIP publishing from Chromium's fake camera; and the DTLS
 * close alert reaching the browser when the gateway is stopped with SIGTERM.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

interface PageStats {
  framesDecoded: number;
  audioPackets: number;
  audioSamples: number;
  protocol: string;
  remotePort: number;
}

interface PageRtc {
  states: [string, number][];
  connectedAt: number;
  leftConnectedAt: number;
  /** When the DTLS transport went "closed" (the close alert) or "failed". */
  dtlsEndedAt: number;
  location: string;
  error: string;
}

const rtcOf = (page: Page) => page.evaluate(() => (window as unknown as { rtc: PageRtc }).rtc);
const statsOf = (page: Page) =>
  page.evaluate(() => (window as unknown as { stats: () => Promise<PageStats> }).stats());

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function openPlayer(
  browser: TestBrowser,
  gw: GatewayProcess,
  mode: 'ws' | 'whep',
  transport: 'udp' | 'tcp' | 'any',
) {
  const page = await browser.context.newPage();
  await page.goto(`http://127.0.0.1:${gw.apiPort}/webrtc-test.html`, { timeout: 10000 });
  await page.evaluate((opts) => (window as unknown as { play: (o: object) => Promise<void> }).play(opts), {
    src: 'demo',
    mode,
    transport,
  });
  const rtc = await until('connected', 5000, async () => {
    const r = await rtcOf(page);
    return r.connectedAt > 0 && r;
  });
  return { page, connectedAt: rtc.connectedAt };
}

async function consumersOf(gw: GatewayProcess, stream: string): Promise<number> {
  const res = await gw.api(`/api/streams?src=${stream}`);
  return ((await res.json()) as { consumers: unknown[] }).consumers.length;
}

let browser: TestBrowser;
before(async () => {
  browser = await launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
});
after(async () => {
  await browser?.close();
});

describe('WebRTC playback in Chromium', { timeout: 60000 }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    if (gw) {
      const { code } = await gw.stop();
      if (code !== 0) console.error(gw.output());
    }
  });

  for (const [mode, transport] of [
    ['ws', 'udp'],
    ['whep', 'udp'],
    ['ws', 'tcp'],
    ['whep', 'tcp'],
  ] as const) {
    test(`Chromium plays the demo stream through ${mode === 'ws' ? 'WS signaling' : 'WHEP'} over ${transport.toUpperCase()}: 50 frames within 5 s, with audio`, async () => {
      const { page, connectedAt } = await openPlayer(browser, gw, mode, transport);
      try {
        const stats = await until(
          '50 decoded frames and audio',
          connectedAt + 5000 - Date.now(),
          async () => {
            const s = await statsOf(page);
            return s.framesDecoded >= 50 && s.audioPackets > 0 && s.audioSamples > 0 && s;
          },
        );
        assert.equal(stats.protocol, transport, 'the selected pair uses the requested protocol');
        if (mode === 'whep') assert.match((await rtcOf(page)).location, /^\/api\/webrtc\?id=/);
        assert.equal(await consumersOf(gw, 'demo'), 1);
      } finally {
        await page.evaluate(() => (window as unknown as { stop: () => void }).stop());
        await page.close();
      }
      // The browser closing its peer connection (close alert) frees the session.
      await until('the viewer to be removed', 3000, async () => (await consumersOf(gw, 'demo')) === 0);
    });
  }

  test('the web player <video-stream mode="webrtc"> plays the demo stream with go2rtc signaling, trickled candidates included', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`http://127.0.0.1:${gw.apiPort}/stream.html?src=demo&mode=webrtc`);
      const state = await until('the player to play', 8000, async () => {
        const s = await page.evaluate(() => {
          const p = document.querySelector('video-stream') as HTMLElement & {
            video: HTMLVideoElement;
            status: { state: string; mode: string; error: string };
          };
          return p && { ...p.status, width: p.video.videoWidth, time: p.video.currentTime };
        });
        return s && s.state === 'playing' && s.time > 1 && s;
      });
      assert.equal(state.mode, 'webrtc');
      assert.equal(state.width, 640);
      const sessions = (await (await gw.api('/api/webrtc')).json()) as { role: string; state: string }[];
      assert.deepEqual(
        sessions.map((s) => `${s.role}:${s.state}`),
        ['viewer:connected'],
      );
    } finally {
      await page.close();
    }
    // The page is gone without a close alert: the WebSocket closing ends the session.
    await until('the viewer to be removed', 3000, async () => (await consumersOf(gw, 'demo')) === 0);
  });

  test('POST /api/webrtc?transport=tcp answers TCP candidates only, and ?transport=udp UDP ones only', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`http://127.0.0.1:${gw.apiPort}/webrtc-test.html`);
      const offer = await page.evaluate(async () => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        pc.addTransceiver('audio', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        const sdp = pc.localDescription?.sdp ?? '';
        pc.close();
        return sdp;
      });
      for (const transport of ['tcp', 'udp']) {
        const res = await gw.api(`/api/webrtc?src=demo&transport=${transport}`, {
          method: 'POST',
          headers: { 'content-type': 'application/sdp' },
          body: offer,
        });
        assert.equal(res.status, 201);
        const candidates = (await res.text()).split('\r\n').filter((l) => l.startsWith('a=candidate:'));
        assert.ok(candidates.length > 0);
        for (const c of candidates) assert.equal(c.split(' ')[2], transport, c);
        assert.ok(
          candidates.every((c) => c.includes(` ${gw.ports.WebRTC} typ host`)),
          'UDP and TCP share the port',
        );
        assert.equal((await gw.api(res.headers.get('location') ?? '', { method: 'DELETE' })).status, 200);
      }
    } finally {
      await page.close();
    }
  });

  test('Chromium publishes its camera with WHIP (?dst=) and another Chromium page plays it back over WebRTC', async () => {
    const publisher = await browser.context.newPage();
    let viewer: Page | undefined;
    try {
      await publisher.goto(`http://127.0.0.1:${gw.apiPort}/webrtc-test.html`);
      await publisher.evaluate(() =>
        (window as unknown as { publish: (o: object) => Promise<void> }).publish({
          dst: 'cam1',
          mode: 'whep',
        }),
      );
      await until('the published stream', 5000, async () => {
        const res = await gw.api('/api/streams?src=cam1');
        if (res.status !== 200) return false;
        const info = (await res.json()) as { producers: { medias: string[] }[] };
        return info.producers.length === 1 && info.producers[0].medias.length === 2;
      });
      viewer = await browser.context.newPage();
      await viewer.goto(`http://127.0.0.1:${gw.apiPort}/webrtc-test.html`);
      await viewer.evaluate(() =>
        (window as unknown as { play: (o: object) => Promise<void> }).play({ src: 'cam1', mode: 'ws' }),
      );
      const stats = await until('frames of the published camera', 8000, async () => {
        const s = await statsOf(viewer as Page);
        return s.framesDecoded >= 20 && s.audioPackets > 0 && s;
      });
      assert.ok(stats.framesDecoded >= 20);
    } finally {
      for (const page of [viewer, publisher]) {
        await page?.evaluate(() =>
          (window as unknown as { stop: () => void; publisher?: RTCPeerConnection }).publisher?.close(),
        );
        await page?.close();
      }
    }
    await until('the publisher to leave', 3000, async () => {
      const info = (await (await gw.api('/api/streams?src=cam1')).json()) as { producers: unknown[] };
      return info.producers.length === 0;
    });
  });
});

describe('WebRTC shutdown', { timeout: 30000 }, () => {
  test('SIGTERM while Chromium plays over TCP and UDP: the gateway exits 0 within 3 s and its DTLS close alert reaches both browsers within 1 s of the exit', async (t) => {
    const gw = await startGateway();
    const players: Page[] = [];
    try {
      for (const transport of ['tcp', 'udp'] as const) {
        const { page } = await openPlayer(browser, gw, 'ws', transport);
        players.push(page);
        await until('frames', 5000, async () => (await statsOf(page)).framesDecoded >= 10);
      }
      const killedAt = Date.now();
      const { code, ms } = await gw.stop('SIGTERM');
      const exitedAt = killedAt + ms;
      assert.equal(code, 0, gw.output());
      assert.ok(ms < 3000, `exit took ${Math.round(ms)} ms`);
      t.diagnostic(`exited ${Math.round(ms)} ms after SIGTERM`);
      for (const [i, page] of players.entries()) {
        const rtc = await until('the browser to leave connected', 3000, async () => {
          const r = await rtcOf(page);
          return r.leftConnectedAt > 0 && r;
        });
        const states = JSON.stringify(rtc.states);
        t.diagnostic(`${['tcp', 'udp'][i]}: DTLS closed ${rtc.dtlsEndedAt - exitedAt} ms after the exit`);
        // "closed", not "failed": a close_notify, not a broken connection or ICE giving up.
        assert.ok(
          rtc.states.some(([s]) => s === 'dtls-closed'),
          `${['tcp', 'udp'][i]}: ${states}`,
        );
        assert.ok(
          rtc.dtlsEndedAt - exitedAt < 1000,
          `${['tcp', 'udp'][i]}: DTLS closed ${rtc.dtlsEndedAt - exitedAt} ms after the exit`,
        );
        assert.ok(
          rtc.leftConnectedAt - exitedAt < 1000,
          `${['tcp', 'udp'][i]}: left connected ${rtc.leftConnectedAt - exitedAt} ms after the exit ${states}`,
        );
      }
    } finally {
      for (const page of players) await page.close();
      if (gw.proc.exitCode === null && gw.proc.signalCode === null) await gw.stop('SIGKILL');
    }
  });
});
