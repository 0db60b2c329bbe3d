/**
 * End to end in headless Chromium against a gateway with `auth:` users: a page that holds only a
 * viewer token for `demo` (no password) plays demo over WebRTC (WHEP) and MSE (WebSocket), and
 * the same token is refused for another stream; the login page stores a working credential.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const DEMO_FILE = new URL('../../assets/demo.mp4', import.meta.url).pathname;
const ADMIN = { authorization: `Basic ${Buffer.from('admin:admin-pass').toString('base64')}` };

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** In the page: WHEP to `url`; resolves with the status, and keeps the peer connection in window.pc. */
function whep(page: Page, url: string) {
  return page.evaluate(async (target) => {
    const pc = new RTCPeerConnection();
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: pc.localDescription?.sdp,
    });
    if (res.status !== 201) {
      pc.close();
      return { status: res.status, location: '' };
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    return { status: res.status, location: res.headers.get('location') ?? '' };
  }, url);
}

/** In the page: video frames decoded by window.pc so far. */
function framesDecoded(page: Page) {
  return page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    let frames = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded ?? 0;
    });
    return frames;
  });
}

/** In the page: MSE over the WebSocket at `url` into a <video>; window.mse says how far it got. */
function playMse(page: Page, url: string) {
  return page.evaluate(async (target) => {
    const state = { opened: false, closed: false, error: '', mime: '', bytes: 0 };
    const video = document.createElement('video');
    video.muted = true;
    document.body.append(video);
    const source = new MediaSource();
    video.src = URL.createObjectURL(source);
    await new Promise((resolve) => source.addEventListener('sourceopen', resolve, { once: true }));
    const queue: ArrayBuffer[] = [];
    let buffer: SourceBuffer | undefined;
    const pump = () => {
      if (!buffer || buffer.updating) return;
      if (queue.length > 0) buffer.appendBuffer(queue.shift() as ArrayBuffer);
      else if (buffer.buffered.length > 0 && video.currentTime < buffer.buffered.start(0))
        video.currentTime = buffer.buffered.start(0); // a live stream does not start at 0
    };
    // Only what this browser decodes, as a player would ask.
    const codecs = ['avc1.640029', 'avc1.4d401e', 'avc1.42e01e', 'mp4a.40.2', 'opus'].filter((c) =>
      MediaSource.isTypeSupported(`video/mp4; codecs="${c}"`),
    );
    const ws = new WebSocket(target);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      state.opened = true;
      ws.send(JSON.stringify({ type: 'mse', value: codecs.join(',') }));
    };
    ws.onclose = () => {
      state.closed = true;
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        const msg = JSON.parse(ev.data) as { type: string; value: string };
        if (msg.type === 'mse') {
          buffer = source.addSourceBuffer(msg.value);
          buffer.addEventListener('error', () => {
            state.error = `append failed: ${video.error?.message ?? source.readyState}`;
          });
          state.mime = msg.value;
          buffer.addEventListener('updateend', pump);
          void video.play().catch(() => undefined);
        } else if (msg.type === 'error') state.error = msg.value;
        return;
      }
      state.bytes += (ev.data as ArrayBuffer).byteLength;
      queue.push(ev.data as ArrayBuffer);
      pump();
    };
    const w = window as unknown as { mse: object; mseVideo: HTMLVideoElement; mseWs: WebSocket };
    w.mse = state;
    w.mseVideo = video;
    w.mseWs = ws;
  }, url);
}

const mseState = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { mse: Record<string, unknown>; mseVideo: HTMLVideoElement };
    const v = w.mseVideo;
    return { ...w.mse, time: v.currentTime, width: v.videoWidth } as {
      opened: boolean;
      closed: boolean;
      error: string;
      mime: string;
      bytes: number;
      time: number;
      width: number;
    };
  });

describe('Chromium with a stream token and no password', { timeout: 60_000 }, () => {
  let gw: GatewayProcess;
  let browser: TestBrowser;
  let token: string;
  let base: string;

  before(async () => {
    [gw, browser] = await Promise.all([
      startGateway(
        [
          'streams:',
          `  other: file:${DEMO_FILE}`,
          'auth:',
          '  users:',
          '    admin: { password: admin-pass, role: admin }',
          '    alice: { password: alice-pass, streams: [demo] }',
          '',
        ].join('\n'),
      ),
      launchBrowser(),
    ]);
    base = `http://127.0.0.1:${gw.apiPort}`;
    // tsx compiles the functions given to page.evaluate with esbuild's keepNames: supply its helper.
    await browser.context.addInitScript('window.__name = (fn) => fn;');
    const res = await gw.api('/api/token?src=demo&ttl=300', { headers: ADMIN });
    token = ((await res.json()) as { token: string }).token;
  });
  after(async () => {
    await browser?.close();
    if (gw) {
      const { code } = await gw.stop();
      if (code !== 0) console.error(gw.output());
    }
  });

  test('a page with a viewer token for demo plays demo over WebRTC (WHEP) and gets 403 for another stream', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${base}/login.html`);
      assert.equal((await whep(page, `/api/webrtc?src=demo`)).status, 401, 'no token: no session');
      const played = await whep(page, `/api/webrtc?src=demo&token=${encodeURIComponent(token)}`);
      assert.equal(played.status, 201);
      const frames = await until(
        'decoded video frames',
        15_000,
        async () => (await framesDecoded(page)) > 10,
      );
      assert.ok(frames);
      // The session URL from Location ends the session without the token (its id is the capability).
      const end = await page.evaluate(
        async (loc) => (await fetch(loc, { method: 'DELETE' })).status,
        played.location,
      );
      assert.equal(end, 200);
      await page.evaluate(() => (window as unknown as { pc: RTCPeerConnection }).pc.close());
      assert.equal(
        (await whep(page, `/api/webrtc?src=other&token=${encodeURIComponent(token)}`)).status,
        403,
      );
    } finally {
      await page.close();
    }
  });

  test('a page with a viewer token for demo plays demo over MSE (WebSocket) and the WebSocket of another stream is refused', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${base}/login.html`);
      const ws = `ws://127.0.0.1:${gw.apiPort}/api/ws`;
      await playMse(page, `${ws}?src=demo&token=${encodeURIComponent(token)}`);
      let last: unknown;
      const playing = await until('MSE playback', 15_000, async () => {
        const s = await mseState(page);
        last = s;
        return s.time > 1 && s;
      }).catch((err) => {
        throw new Error(`${err.message}: ${JSON.stringify(last)}`);
      });
      assert.match(playing.mime, /^video\/mp4; codecs="avc1\./);
      assert.equal(playing.width, 640);
      assert.ok(playing.bytes > 10_000);
      await page.evaluate(() => (window as unknown as { mseWs: WebSocket }).mseWs.close());
      await playMse(page, `${ws}?src=other&token=${encodeURIComponent(token)}`);
      const refused = await until('the refused WebSocket to close', 5000, async () => {
        const s = await mseState(page);
        return s.closed && s;
      });
      assert.equal(refused.opened, false);
      assert.equal(refused.bytes, 0);
    } finally {
      await page.close();
    }
  });

  test('login.html stores the credential of a right password and /api/me answers with it; a wrong one shows an error', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${base}/login.html?next=log.html`);
      await page.fill('input[name="user"]', 'alice');
      await page.fill('input[name="password"]', 'wrong');
      await page.click('button[type="submit"]');
      await until('the error', 5000, async () =>
        (await page.textContent('#error'))?.includes('wrong user name'),
      );
      await page.fill('input[name="password"]', 'alice-pass');
      await Promise.all([
        page.waitForURL(/\/log\.html$/, { timeout: 5000 }),
        page.click('button[type="submit"]'),
      ]);
      const me = await page.evaluate(async () => {
        const module = '/auth.js'; // the page's own module, not one of this test's
        const auth = (await import(module)) as { me: () => Promise<unknown> };
        return auth.me();
      });
      assert.deepEqual(me, {
        auth: true,
        user: 'alice',
        role: 'viewer',
        via: 'basic',
        streams: ['demo'],
        publish: [],
      });
    } finally {
      await page.close();
    }
  });
});
