/**
 * Every close path called twice, in one gateway (in-process, so that its handles can be checked
 * with `process.getActiveResourcesInfo()`): consumers of every protocol, WebRTC sessions, streams,
 * the WebSocket hub, the HTTP server, every module and the gateway itself. Each must be idempotent
 * (mediasoup's rule: `close()` is synchronous, safe to call twice, emits `close` once), and after
 * the gateway's close nothing of it may be left.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { loadConfig } from '../../src/config/load.ts';
import { NotFoundError } from '../../src/core/errors.ts';
import { Gateway } from '../../src/gateway.ts';
import { createLogging } from '../../src/log/logger.ts';
import type { PeerSessions } from '../../src/protocols/webrtc/peer/sessions.ts';
import { activeResources, assertNoLeaks } from '../helpers/leaks.ts';
import { hlsSession, http, OFFER, rtspPlay, rtspPublisherSession } from './sessions.ts';

const DEMO = new URL('../../assets/demo.mp4', import.meta.url).pathname;

test('close() of every consumer, session, stream, server, module and of the gateway, each called twice, emits close once, throws nothing and leaves no handle', {
  timeout: 60_000,
}, async () => {
  const before = activeResources();
  const dir = mkdtempSync(join(tmpdir(), 'mediagate-close-'));
  const file = join(dir, 'mediagate.yaml');
  writeFileSync(
    file,
    `api:\n  listen: "127.0.0.1:0"\nrtsp:\n  listen: "127.0.0.1:0"\nwebrtc:\n  listen: "127.0.0.1:0"\ndiag:\n  incident_dir: ${dir}/diag\nstreams:\n  keep: "file:${DEMO}"\n`,
  );
  const lines: string[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const gateway = new Gateway(loadConfig([file], {}), createLogging({ level: 'info' }, out));
  await gateway.start();
  const api = gateway.apiAddress?.port ?? 0;
  const rtspPort = Number(/"address":"[^"]*:(\d+)","msg":"RTSP listening"/.exec(lines.join(''))?.[1]);
  assert.ok(rtspPort > 0, 'the RTSP port is in the log');
  try {
    // One of everything: an RTSP reader and publisher, a WHEP session, an MSE viewer, HLS, MP4.
    const reader = await rtspPlay(rtspPort, 'keep', 'tcp');
    await rtspPublisherSession(rtspPort, 'pushed');
    const whep = await http(api, 'POST', '/api/webrtc?src=keep', OFFER, {
      'content-type': 'application/sdp',
    });
    assert.equal(whep.status, 201);
    const ws = new WebSocket(`ws://127.0.0.1:${api}/api/ws?src=keep`);
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ type: 'mse', value: 'avc1.640029,opus' })));
      ws.on('message', (_d, binary) => binary && resolve());
      ws.on('error', reject);
    });
    await hlsSession(api, 'keep');
    const mp4 = await fetch(`http://127.0.0.1:${api}/api/stream.mp4?src=keep`);
    const body = mp4.body?.getReader();
    await body?.read();

    const stream = gateway.registry.require('keep');
    const consumers = [...stream.consumers];
    assert.deepEqual([...new Set(consumers.map((c) => c.type))].sort(), [
      'hls',
      'mp4',
      'mse',
      'rtsp',
      'webrtc',
    ]);
    const closes = new Map(consumers.map((c) => [c, 0]));
    for (const c of consumers) c.on('close', () => closes.set(c, (closes.get(c) ?? 0) + 1));

    // The WebRTC session by its API path, twice: the second is a 404, not a crash.
    const sessions = (
      gateway.modules.find((m) => m.name === 'webrtc') as unknown as { sessions: PeerSessions }
    ).sessions;
    const [session] = sessions.list();
    let sessionCloses = 0;
    session.on('close', () => sessionCloses++);
    sessions.close(session.id);
    assert.throws(() => sessions.close(session.id), NotFoundError);
    session.close();
    assert.equal(sessionCloses, 1);

    // Every consumer, twice.
    for (const c of consumers) {
      c.close();
      c.close();
    }
    assert.deepEqual(
      [...closes.values()],
      consumers.map(() => 1),
    );
    assert.equal(stream.consumers.length, 0);

    // The stream, twice; then its name is gone and deleting it again is a 404.
    let streamCloses = 0;
    stream.on('close', () => streamCloses++);
    stream.close();
    stream.close();
    assert.equal(streamCloses, 1);
    await gateway.registry.delete('keep');
    await assert.rejects(gateway.registry.delete('keep'), NotFoundError);

    // The hub and the HTTP server, twice, then every module twice, then the gateway three times.
    gateway.ws.close();
    gateway.ws.close();
    ws.terminate();
    reader.close();
    void body?.cancel().catch(() => undefined);
    const httpClosed = [gateway.http.close(), gateway.http.close()];
    for (const m of gateway.modules) {
      await m.close();
      await m.close();
    }
    await Promise.all(httpClosed);
    const a = gateway.close();
    const b = gateway.close();
    assert.equal(a, b, 'one shutdown, shared');
    await a;
    await gateway.close();
  } finally {
    await gateway.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(
    lines.filter((l) => /"level":(50|60|"error"|"fatal")/.test(l)),
    [],
    'nothing logged at error level',
  );
  await assertNoLeaks(before, 5000);
});
