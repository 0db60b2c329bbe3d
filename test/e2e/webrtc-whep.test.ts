/**
 * WHEP/WHIP against the real gateway process from Node: 100 sessions opened and deleted one after
 * another leave the gateway's handles and file descriptors where they were, and werift peers that
 * really connect receive H.264 and Opus and are cleaned up the same way.
 */
import assert from 'node:assert/strict';
import { Socket as UdpSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const OFFER = readFileSync(
  new URL('../unit/sdp/fixtures/chromium-offer.sdp', import.meta.url),
  'utf8',
).replace('a=sendrecv', 'a=recvonly');

/** The UDP sockets of this process (werift's ICE sockets). */
function udpSockets(): UdpSocket[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h): h is UdpSocket => h instanceof UdpSocket);
}

interface Handles {
  counts: Record<string, number>;
}

describe('WHEP sessions against the gateway process', { timeout: 60000 }, () => {
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

  const fds = () => readdirSync(`/proc/${gw.proc.pid}/fd`).length;
  const handles = async () => {
    const res = await gw.api('/api/debug/handles');
    assert.equal(res.status, 200);
    const { counts } = (await res.json()) as Handles;
    // Timers and requests come and go with the polling itself.
    const { Timeout: _t, FSReqCallback: _f, ...rest } = counts;
    return rest;
  };
  const consumers = async () =>
    ((await (await gw.api('/api/streams?src=demo')).json()) as { consumers: unknown[] }).consumers.length;

  async function whep(body: string): Promise<{ location: string; answer: string }> {
    const res = await gw.api('/api/webrtc?src=demo', {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body,
    });
    const answer = await res.text();
    assert.equal(res.status, 201, answer);
    return { location: res.headers.get('location') ?? '', answer };
  }

  async function settle(baseline: { fds: number; handles: Record<string, number> }) {
    let now = { fds: 0, handles: {} as Record<string, number> };
    for (let i = 0; i < 40; i++) {
      now = { fds: fds(), handles: await handles() };
      if (now.fds <= baseline.fds && JSON.stringify(now.handles) === JSON.stringify(baseline.handles)) break;
      await sleep(50);
    }
    return now;
  }

  test('100 WHEP sessions opened and deleted one after another leave handles and file descriptors at their starting count', async (t) => {
    const warm = await whep(OFFER); // the API keep-alive connection and lazily made objects
    assert.equal((await gw.api(warm.location, { method: 'DELETE' })).status, 200);
    const baseline = { fds: fds(), handles: await handles() };
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      const { location } = await whep(OFFER);
      const del = await gw.api(location, { method: 'DELETE' });
      assert.equal(del.status, 200);
      await del.arrayBuffer();
    }
    t.diagnostic(`100 POST + DELETE in ${Math.round(performance.now() - started)} ms`);
    assert.equal(await consumers(), 0);
    assert.deepEqual(await (await gw.api('/api/webrtc')).json(), [], 'no session left');
    const now = await settle(baseline);
    assert.deepEqual(now.handles, baseline.handles);
    assert.ok(now.fds <= baseline.fds, `fds ${baseline.fds} -> ${now.fds}`);
  });

  test('werift peers connected through WHEP receive H.264 and Opus, and DELETE frees them', async () => {
    const baseline = { fds: fds(), handles: await handles() };
    const ownSockets = new Set(udpSockets());
    const peers: { pc: RTCPeerConnection; location: string; packets: { video: number; audio: number } }[] =
      [];
    try {
      for (let i = 0; i < 3; i++) {
        const pc = new RTCPeerConnection({
          codecs: {
            video: [
              new RTCRtpCodecParameters({
                mimeType: 'video/H264',
                clockRate: 90000,
                payloadType: 102,
                rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
                parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
              }),
            ],
            audio: [
              new RTCRtpCodecParameters({
                mimeType: 'audio/opus',
                clockRate: 48000,
                channels: 2,
                payloadType: 111,
              }),
            ],
          },
        });
        const packets = { video: 0, audio: 0 };
        for (const kind of ['video', 'audio'] as const) {
          pc.addTransceiver(kind, { direction: 'recvonly' }).onTrack.subscribe((track) =>
            track.onReceiveRtp.subscribe(() => packets[kind]++),
          );
        }
        await pc.setLocalDescription(await pc.createOffer());
        const { location, answer } = await whep(pc.localDescription?.sdp ?? '');
        await pc.setRemoteDescription({ type: 'answer', sdp: answer });
        peers.push({ pc, location, packets });
      }
      const deadline = Date.now() + 8000;
      while (peers.some((p) => p.packets.video < 20 || p.packets.audio < 10) && Date.now() < deadline)
        await sleep(100);
      for (const p of peers)
        assert.ok(p.packets.video >= 20 && p.packets.audio >= 10, JSON.stringify(p.packets));
      assert.equal(await consumers(), 3);
      const live = (await (await gw.api('/api/webrtc')).json()) as { state: string; path: string }[];
      assert.deepEqual(
        live.map((s) => s.state),
        ['connected', 'connected', 'connected'],
      );
      assert.ok(live.every((s) => s.path.startsWith('udp:')));
      for (const p of peers) assert.equal((await gw.api(p.location, { method: 'DELETE' })).status, 200);
      assert.equal(await consumers(), 0);
    } finally {
      for (const p of peers) await p.pc.close();
      // werift 0.25.2 leaves the ICE sockets of a connected peer open after close(); they are this
      // test process's, not the gateway's, and would keep the test file from exiting.
      for (const socket of udpSockets()) {
        if (ownSockets.has(socket)) continue;
        try {
          socket.close();
        } catch {
          // already closing
        }
      }
    }
    const now = await settle(baseline);
    assert.deepEqual(now.handles, baseline.handles);
    assert.ok(now.fds <= baseline.fds, `fds ${baseline.fds} -> ${now.fds}`);
  });
});
