/**
 * Lifecycle storms against gateway processes: the API creating, replacing and deleting the same
 * streams while consumers of every protocol attach to them; readers joining and leaving while the
 * camera (gst-rtsp-server) is killed and restarted under an rtsp:// source; streams deleted while
 * a WHEP offer for them is being negotiated; and SIGTERM while WebRTC (UDP and TCP), RTSP
 * (readers over TCP and UDP, publishers), MSE, HLS and MP4 clients are all playing. Nothing may
 * answer 5xx, log an error or keep the process from exiting 0 within 3 s.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { Socket as UdpSocket } from 'node:dgram';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { WebSocket } from 'ws';
import { Rng } from '../fuzz/engine.ts';
import { freePort, gstMissing, kill, startGst } from '../helpers/gst.ts';
import type { TestRtspClient } from '../unit/rtsp/server-client.ts';
import { pool } from './clients.ts';
import { config, errorLines, type Gateway, handles, launch, waitFor } from './gateway.ts';
import { recordIfAsked } from './record.ts';
import {
  hlsSession,
  http,
  mp4Session,
  mseSession,
  OFFER,
  rtspPlay,
  rtspPublisherSession,
  whepSession,
} from './sessions.ts';

const DEMO = new URL('../../assets/demo.mp4', import.meta.url).pathname;
const SEED = 0x5707;

const figures: Record<string, unknown> = {};
const gateways: Gateway[] = [];
const children = new Set<ChildProcess>();

async function start(yaml: string): Promise<Gateway> {
  const gw = await launch(yaml);
  gateways.push(gw);
  return gw;
}

/** Stops `gw` with SIGTERM and checks the exit: 0, within 3 s, nothing logged at error level. */
async function stopCleanly(gw: Gateway): Promise<number> {
  const { code, ms } = await gw.stop();
  assert.equal(code, 0, gw.output().slice(-2000));
  assert.ok(ms < 3000, `exit took ${Math.round(ms)} ms`);
  assert.deepEqual(errorLines(gw.output()), []);
  return Math.round(ms);
}

after(async () => {
  for (const gw of gateways)
    if (gw.proc.exitCode === null && gw.proc.signalCode === null) await gw.stop('SIGKILL');
  for (const p of children) p.kill('SIGKILL');
  recordIfAsked('storms', { at: new Date().toISOString(), ...figures });
});

describe('lifecycle storms', { timeout: 180_000 }, () => {
  test('API PUT/PATCH/DELETE storms on 8 names while RTSP, MSE, WHEP, HLS and MP4 consumers attach get no 5xx, and nothing is left after', async () => {
    const gw = await start(config());
    const rng = new Rng(SEED);
    const names = Array.from({ length: 8 }, (_, i) => `storm-${i}`);
    const src = encodeURIComponent(`file:${DEMO}`);
    const statuses: Record<string, number> = {};
    const tallyStatus = (s: number) => {
      statuses[s] = (statuses[s] ?? 0) + 1;
    };
    const before = await handles(gw);
    let apiOps = 0;
    let consumers = 0;
    const failures: string[] = [];
    const api = pool(
      Array.from({ length: 400 }, (_, i) => i),
      16,
      async () => {
        const name = rng.pick(names);
        const op = rng.int(3);
        const r =
          op === 0
            ? await http(gw.apiPort, 'PUT', `/api/streams?name=${name}&src=${src}`)
            : op === 1
              ? await http(gw.apiPort, 'PATCH', `/api/streams?name=${name}&src=${src}`)
              : await http(gw.apiPort, 'DELETE', `/api/streams?src=${name}`);
        apiOps++;
        tallyStatus(r.status);
        await sleep(rng.int(10));
      },
    );
    const kinds = [
      (n: string) => rtspPlay(gw.ports.RTSP, n, 'tcp').then((c: TestRtspClient) => c.close()),
      (n: string) => mseSession(gw.apiPort, n),
      (n: string) => whepSession(gw.apiPort, n),
      (n: string) => hlsSession(gw.apiPort, n),
      (n: string) => mp4Session(gw.apiPort, n),
    ];
    const attach = pool(
      Array.from({ length: 150 }, (_, i) => i),
      12,
      async (i) => {
        consumers++;
        // Failures are expected (the stream was just deleted, or replaced mid-negotiation): only
        // the way they fail matters, and that shows in the statuses and the log.
        await kinds[i % kinds.length](rng.pick(names)).catch((err: Error) => {
          const status = /: (\d{3})\b/.exec(err.message)?.[1];
          if (status) tallyStatus(Number(status));
          if (Number(status) >= 500) failures.push(err.message);
        });
      },
    );
    await Promise.all([api, attach]);
    // RTSP answers 503 to a DESCRIBE whose stream closed during negotiation (the documented
    // mapping of InvalidStateError: "try again"); anything else of 5xx is a bug.
    const fiveXx = Object.entries(statuses).filter(([s]) => Number(s) >= 500 && s !== '503');
    assert.deepEqual(
      fiveXx,
      [],
      `statuses: ${JSON.stringify(statuses)}\n${errorLines(gw.output()).slice(0, 5).join('\n')}\n${failures.slice(0, 10).join('\n')}`,
    );
    for (const name of names) await http(gw.apiPort, 'DELETE', `/api/streams?src=${name}`);
    const list = JSON.parse((await http(gw.apiPort, 'GET', '/api/streams')).body.toString()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(
      Object.keys(list).filter((n) => n.startsWith('storm-')),
      [],
    );
    assert.deepEqual(JSON.parse((await http(gw.apiPort, 'GET', '/api/webrtc')).body.toString()), []);
    assert.ok(
      await waitFor(async () => (await handles(gw)).sockets <= before.sockets, 5000),
      "the consumers' sockets are gone",
    );
    figures.apiStorm = { apiOps, consumers, statuses, shutdownMs: await stopCleanly(gw) };
  });

  test('readers joining and leaving while the camera is killed and restarted 3 times: the source reconnects and a reader attached throughout gets keyframes again', {
    skip: gstMissing,
  }, async () => {
    const port = await freePort();
    const camera = await startGst(port, children, '--audio', 'none');
    const gw = await start(
      config({
        extra: `streams:\n  relay: "rtsp://127.0.0.1:${port}/test#timeout=2"\nsource:\n  idle_timeout: 1\n`,
      }),
    );
    const steady = await rtspPlay(gw.ports.RTSP, 'relay', 'tcp');
    let joins = 0;
    let joinFailures = 0;
    let running = true;
    const churn = pool([0, 1, 2, 3], 4, async (k) => {
      while (running) {
        joins++;
        try {
          if (k === 3) await mseSession(gw.apiPort, 'relay');
          else {
            const c = await rtspPlay(gw.ports.RTSP, 'relay', k === 2 ? 'udp' : 'tcp', 41_000 + k * 2);
            await sleep(100 + k * 100);
            c.close();
          }
        } catch {
          joinFailures++; // while the camera is down
          await sleep(100);
        }
      }
    });
    let cam: ChildProcess = camera;
    for (let round = 0; round < 3; round++) {
      await sleep(800);
      await kill(cam);
      await sleep(300 + round * 400);
      cam = await startGst(port, children, '--audio', 'none');
    }
    const framesAtRestart = steady.frames.length;
    const recovered = await waitFor(() => steady.frames.length > framesAtRestart + 25, 15_000);
    running = false;
    await churn;
    assert.ok(
      recovered,
      `the steady reader got ${steady.frames.length - framesAtRestart} packets after the last restart`,
    );
    const info = JSON.parse((await http(gw.apiPort, 'GET', '/api/streams?src=relay')).body.toString()) as {
      producers: { reconnects: number }[];
      consumers: unknown[];
    };
    // A reader joining a source in backoff retries it at once (it is waiting), so with readers
    // churning most reconnects are theirs, not the backoff timer's (`reconnects` counts those).
    assert.ok(joinFailures > 0, 'readers joined while the camera was down');
    assert.equal(info.consumers.length, 1, 'only the steady reader is left');
    steady.close();
    await kill(cam);
    figures.cameraRestarts = {
      restarts: 3,
      joins,
      joinFailures,
      reconnects: info.producers[0].reconnects,
      shutdownMs: await stopCleanly(gw),
    };
  });

  test('DELETE /api/streams racing a WHEP POST for the same stream 100 times gets no 5xx and leaves no session', async () => {
    const gw = await start(config());
    const rng = new Rng(SEED + 1);
    const src = encodeURIComponent(`file:${DEMO}`);
    const outcomes: Record<string, number> = {};
    for (let round = 0; round < 100; round++) {
      const name = `race-${round % 5}`;
      const put = await http(gw.apiPort, 'PUT', `/api/streams?name=${name}&src=${src}`);
      assert.equal(put.status, 201);
      const [post, del] = await Promise.all([
        http(gw.apiPort, 'POST', `/api/webrtc?src=${name}`, OFFER, { 'content-type': 'application/sdp' }),
        sleep(rng.int(15)).then(() => http(gw.apiPort, 'DELETE', `/api/streams?src=${name}`)),
      ]);
      assert.ok(post.status < 500, `POST ${post.status}: ${post.body.toString()}`);
      assert.equal(del.status, 200);
      outcomes[post.status] = (outcomes[post.status] ?? 0) + 1;
    }
    assert.ok(
      await waitFor(
        async () => (await http(gw.apiPort, 'GET', '/api/webrtc')).body.toString() === '[]',
        3000,
      ),
      'every session of a deleted stream is closed',
    );
    figures.whepDeleteRace = { rounds: 100, postStatuses: outcomes, shutdownMs: await stopCleanly(gw) };
  });

  test('SIGTERM with werift peers over UDP and TCP, RTSP readers over TCP and UDP, RTSP publishers, MSE, HLS and MP4 clients all playing exits 0 within 3 s with no error logged', async () => {
    const gw = await start(config({ extra: `streams:\n  keep: "file:${DEMO}"\n` }));
    const ownSockets = new Set(udpSockets());
    const peers = await Promise.all(
      ['udp', 'udp', 'tcp', 'tcp'].map((t) => wereiftPeer(gw, t as 'udp' | 'tcp')),
    );
    const readers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        rtspPlay(gw.ports.RTSP, 'keep', i % 2 ? 'udp' : 'tcp', 42_000 + i * 2),
      ),
    );
    // Publishers that keep publishing, and viewers of everything that keep viewing.
    let publishing = true;
    const publishers = pool([0, 1, 2], 3, async (k) => {
      while (publishing) await rtspPublisherSession(gw.ports.RTSP, `pub-${k}`).catch(() => undefined);
    });
    const mseBinary = [0, 0, 0, 0];
    const sockets = mseBinary.map((_, i) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.apiPort}/api/ws?src=keep`);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'mse', value: 'avc1.640029,opus' })));
      ws.on('message', (_data, binary) => {
        if (binary) mseBinary[i]++;
      });
      ws.on('error', () => undefined);
      return ws;
    });
    await Promise.all([hlsSession(gw.apiPort, 'keep'), hlsSession(gw.apiPort, 'keep')]);
    const downloads = Array.from({ length: 3 }, () =>
      fetch(`http://127.0.0.1:${gw.apiPort}/api/stream.mp4?src=keep`).then((r) => r.body?.getReader()),
    );
    // (The UDP readers' packets go to ports nobody listens on: their sessions are what counts.)
    const playing = () =>
      peers.every((p) => p.packets > 10) &&
      readers.every((r, i) => i % 2 === 1 || r.frames.length > 0) &&
      mseBinary.every((n) => n > 1);
    assert.ok(
      await waitFor(playing, 10_000),
      `werift packets ${peers.map((p) => p.packets)}, MSE messages ${mseBinary}, RTSP packets ${readers.map((r) => r.frames.length)}`,
    );
    const list = JSON.parse((await http(gw.apiPort, 'GET', '/api/streams?src=keep')).body.toString()) as {
      consumers: { type: string }[];
    };
    const types = [...new Set(list.consumers.map((c) => c.type))].sort();
    for (const type of ['hls', 'mp4', 'mse', 'rtsp', 'webrtc'])
      assert.ok(types.includes(type), `a ${type} consumer in ${types}`);
    let ms = 0;
    try {
      ms = await stopCleanly(gw);
    } finally {
      publishing = false;
      await publishers;
      for (const ws of sockets) ws.terminate();
      for (const r of readers) r.close();
      for (const d of downloads) void d.then((r) => r?.cancel()).catch(() => undefined);
      for (const p of peers) await p.pc.close().catch(() => undefined);
      // werift 0.25.2 leaves the ICE sockets of a connected peer open after close().
      for (const s of udpSockets()) {
        if (ownSockets.has(s)) continue;
        try {
          s.close();
        } catch {
          // closed already
        }
      }
    }
    figures.shutdownUnderLoad = {
      webrtcPeers: peers.length,
      rtspReaders: readers.length,
      rtspPublishers: 3,
      mse: sockets.length,
      hls: 2,
      mp4: downloads.length,
      consumerTypes: types,
      shutdownMs: ms,
    };
  });
});

function udpSockets(): UdpSocket[] {
  const all = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return all.filter((h): h is UdpSocket => h instanceof UdpSocket);
}

/** A werift peer playing `keep` through WHEP over `transport`; counts the RTP packets it gets. */
async function wereiftPeer(gw: Gateway, transport: 'udp' | 'tcp') {
  const pc = new RTCPeerConnection({
    bundlePolicy: 'max-bundle',
    iceUseIpv6: false,
    iceUseTcp: transport === 'tcp',
    iceTcpPassive: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
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
  const peer = { pc, packets: 0 };
  for (const kind of ['video', 'audio'] as const) {
    pc.addTransceiver(kind, { direction: 'recvonly' }).onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe(() => {
        peer.packets++;
      }),
    );
  }
  await pc.setLocalDescription(await pc.createOffer());
  const res = await http(
    gw.apiPort,
    'POST',
    `/api/webrtc?src=keep&transport=${transport}`,
    pc.localDescription?.sdp ?? '',
    {
      'content-type': 'application/sdp',
    },
  );
  assert.equal(res.status, 201, res.body.toString());
  await pc.setRemoteDescription({ type: 'answer', sdp: res.body.toString() });
  return peer;
}
