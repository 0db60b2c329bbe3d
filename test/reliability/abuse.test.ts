/**
 * Abuse at every listening port of a running gateway process: RTSP (TCP), WebRTC (UDP and TCP on
 * one number), HTTP and WebSocket on the API port. Random bytes, mutated protocol messages (the
 * fuzz engine over real requests), truncated and oversized messages, slow clients that never
 * finish (slowloris), hundreds of connections at once. Meanwhile well-behaved clients are watched:
 * an RTSP reader keeps getting packets, `GET /api/streams` keeps answering, a WebRTC session's
 * connectivity checks keep getting answers. At the end the process is alive, its memory is within
 * bounds and it exits 0 on SIGTERM with no error in its log.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseSession } from '../../src/protocols/rtsp/transport.ts';
import { frame as frame4571 } from '../../src/protocols/webrtc/framing.ts';
import { bindingRequest, StunClass, StunMessage } from '../../src/protocols/webrtc/stun/index.ts';
import { mutate, Rng } from '../fuzz/engine.ts';
import { TestRtspClient } from '../unit/rtsp/server-client.ts';
import { RFC5769 } from '../unit/webrtc/stun-vectors.ts';
import {
  exchange,
  hold,
  nextDatagram,
  pool,
  serverFrames,
  type Trickler,
  trickle,
  udpFlood,
  wsConnect,
  wsFrame,
} from './clients.ts';
import { config, errorLines, type Gateway, gcHeapUsed, launch, rssBytes, waitFor } from './gateway.ts';
import { recordIfAsked } from './record.ts';

const SEED = 0xab05e;
const DEMO = new URL('../../assets/demo.mp4', import.meta.url).pathname;
const OFFER = readFileSync(
  new URL('../unit/sdp/fixtures/chromium-offer.sdp', import.meta.url),
  'utf8',
).replace('a=sendrecv', 'a=recvonly');
const RTSP_MAX_CONNECTIONS = 300;
/** RSS may grow this much over the whole abuse run (heap pages kept by V8 and glibc included). */
const RSS_GROWTH_LIMIT = 96 * 1024 * 1024;
/** Used heap after a forced GC may grow this much. */
const HEAP_GROWTH_LIMIT = 16 * 1024 * 1024;

/** Abusive inputs sent, by port and kind; the figures of docs/reliability.md. */
const tally: Record<string, Record<string, number>> = {};
const refusals: Record<string, string> = {};
function count(port: string, kind: string, n = 1): void {
  tally[port] ??= {};
  tally[port][kind] = (tally[port][kind] ?? 0) + n;
}

describe('abuse at every port of the gateway process', { timeout: 180_000 }, () => {
  let gw: Gateway;
  let reader: TestRtspClient;
  let slow: { rtsp: Trickler; http: Trickler; webrtc: Trickler; startedAt: number } | undefined;
  const rss: Record<string, number> = {};
  const slowFigures: Record<string, string> = {};
  const heap: Record<string, number> = {};
  const rng = new Rng(SEED);

  /** Frames the long-lived RTSP reader got so far. */
  const frames = () => reader.frames.length;
  /** Runs `abuse` and checks that the reader got packets and the API answered while it ran. */
  async function whileServing<T>(what: string, abuse: () => Promise<T>): Promise<T> {
    const before = frames();
    let apiOk = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const res = await gw.api('/api/streams?src=keep').catch(() => undefined);
        if (res?.status === 200) apiOk++;
        await res?.arrayBuffer().catch(() => undefined);
        await sleep(100);
      }
    })();
    let result: T;
    try {
      result = await abuse();
      await waitFor(() => frames() > before + 10, 3000);
    } finally {
      polling = false;
      await poller;
    }
    assert.ok(frames() > before + 10, `${what}: the RTSP reader got ${frames() - before} frames`);
    assert.ok(apiOk >= 1, `${what}: GET /api/streams answered ${apiOk} times`);
    return result;
  }

  before(async () => {
    gw = await launch(
      config({
        rtsp: `max_connections: ${RTSP_MAX_CONNECTIONS}`,
        extra: `streams:\n  keep: "file:${DEMO}"\n`,
      }),
    );
    reader = await TestRtspClient.connect(gw.ports.RTSP);
    const url = `rtsp://127.0.0.1:${gw.ports.RTSP}/keep`;
    assert.equal((await reader.request('DESCRIBE', url)).status, 200);
    const s = await reader.request('SETUP', `${url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(
      (await reader.request('PLAY', url, { Session: parseSession(s.headers.get('session') ?? '').id }))
        .status,
      200,
    );
    assert.ok(await waitFor(() => frames() > 20, 5000), 'the reader plays');
    await gcHeapUsed(gw); // warm the route
    rss.before = rssBytes(gw.pid);
    heap.before = await gcHeapUsed(gw);
    // Slow clients start first and run under everything else; their own test checks at the end.
    slow = {
      rtsp: trickle(
        gw.ports.RTSP,
        40,
        'OPTIONS rtsp://127.0.0.1/keep RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: ',
        'a',
        400,
      ),
      http: trickle(gw.apiPort, 40, 'GET /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 'a', 400),
      webrtc: trickle(gw.ports.WebRTC, 40, '', '\u0000', 400),
      startedAt: performance.now(),
    };
    count('RTSP TCP', 'slowloris connections', 40);
    count('HTTP', 'slowloris connections', 40);
    count('WebRTC TCP', 'slowloris connections', 40);
  });

  after(async () => {
    slow?.rtsp.stop();
    slow?.http.stop();
    slow?.webrtc.stop();
    reader?.close();
    if (gw && gw.proc.exitCode === null) await gw.stop('SIGKILL');
  });

  test('the RTSP port answers mutated requests, random bytes, truncated and oversized messages with 400 or a close, and keeps serving', async () => {
    const corpus = readdirRtsp();
    const inputs: Buffer[][] = [];
    for (let i = 0; i < 300; i++) {
      inputs.push(
        Array.from({ length: 1 + rng.int(4) }, () => mutate(rng.pick(corpus), rng, { corpus, text: true })),
      );
    }
    for (let i = 0; i < 60; i++) inputs.push([rng.bytes(1 + rng.int(40_000))]);
    for (let i = 0; i < 40; i++) {
      const c = rng.pick(corpus);
      inputs.push([c.subarray(0, rng.int(c.length))]); // truncated, then the client leaves
    }
    inputs.push([Buffer.from(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`)]);
    inputs.push([
      Buffer.from('ANNOUNCE rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 100000\r\n\r\n'),
    ]);
    inputs.push([Buffer.concat([Buffer.from([0x24, 0, 0xff, 0xff]), rng.bytes(70_000)])]);
    const results = await whileServing('RTSP abuse', () =>
      pool(inputs, 40, (data) => exchange(gw.ports.RTSP, data, 400)),
    );
    count(
      'RTSP TCP',
      'mutated requests',
      inputs.slice(0, 300).reduce((n, list) => n + list.length, 0),
    );
    count('RTSP TCP', 'random bytes', 60);
    count('RTSP TCP', 'truncated messages', 40);
    count('RTSP TCP', 'oversized messages', 3);
    const oversized = results.slice(-3);
    assert.match(oversized[0].response.toString(), /^RTSP\/1.0 400/, 'a 20 KB header block gets 400');
    assert.ok(oversized[0].closedByServer, 'and the connection closed');
    assert.match(oversized[1].response.toString(), /^RTSP\/1.0 400/, 'a 100 KB body gets 400');
    refusals['RTSP TCP'] = 'header block > 16 KiB or body > 64 KiB: 400 and close; undecodable input: close';
  });

  test(`the RTSP port holds ${RTSP_MAX_CONNECTIONS} connections and closes the rest of 500 at once`, async () => {
    const held = await whileServing('500 RTSP connections', async () => {
      const h = await hold(gw.ports.RTSP, 500);
      await sleep(500);
      return h;
    });
    const refused = [...held.closedAt.values()].filter((ms) => ms < 500).length;
    held.closeAll();
    count('RTSP TCP', 'connections at once', 500);
    // The reader and the 40 slow clients hold some of the slots too (and, on a busy machine, a
    // few connections of the previous test whose close the server has not seen yet).
    assert.ok(refused >= 500 - RTSP_MAX_CONNECTIONS, `${refused} of 500 refused`);
    assert.ok(refused <= 500 - RTSP_MAX_CONNECTIONS + 100, `${refused} of 500 refused`);
    refusals['RTSP TCP'] +=
      `; over max_connections (${RTSP_MAX_CONNECTIONS}): closed at once (${refused} of 500)`;
    await sleep(200);
    const good = await TestRtspClient.connect(gw.ports.RTSP);
    assert.equal((await good.request('DESCRIBE', `rtsp://127.0.0.1:${gw.ports.RTSP}/keep`)).status, 200);
    good.close();
  });

  test('the HTTP port answers random bytes, mutated requests, a 20 KB header and a 2 MB body with 4xx, and 500 connections at once are served', async () => {
    const reqs = [
      'GET /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n',
      'GET /api/stream.m3u8?src=keep HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      'PUT /api/streams?name=fz&src=rtsp://127.0.0.1:1/x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n',
      `POST /api/webrtc?src=keep HTTP/1.1\r\nHost: h\r\nContent-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(OFFER)}\r\n\r\n${OFFER}`,
      'GET /api/ws?src=keep HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ].map((r) => Buffer.from(r));
    const inputs: Buffer[] = [];
    for (let i = 0; i < 400; i++) inputs.push(mutate(rng.pick(reqs), rng, { corpus: reqs, text: true }));
    for (let i = 0; i < 60; i++) inputs.push(rng.bytes(1 + rng.int(20_000)));
    inputs.push(Buffer.from(`GET /api/streams HTTP/1.1\r\nHost: h\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`));
    inputs.push(
      Buffer.from('PUT /api/streams?name=big&src=x HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n'),
    );
    const results = await whileServing('HTTP abuse', () =>
      pool(inputs, 40, (data) => exchange(gw.apiPort, data, 400)),
    );
    count('HTTP', 'mutated requests', 400);
    count('HTTP', 'random bytes', 60);
    count('HTTP', 'oversized messages', 2);
    const [header, body] = results.slice(-2).map((r) => r.response.toString().split('\r\n')[0]);
    assert.equal(header, 'HTTP/1.1 431 Request Header Fields Too Large');
    assert.equal(body, 'HTTP/1.1 413 Payload Too Large');
    const statuses = results
      .map((r) => /^HTTP\/1.1 (\d{3})/.exec(r.response.toString())?.[1])
      .filter(Boolean);
    assert.ok(!statuses.includes('500'), `no 500 among ${statuses.length} answers`);
    const held = await whileServing('500 HTTP connections', async () => {
      const h = await hold(gw.apiPort, 500);
      const res = await gw.api('/api/streams');
      assert.equal(res.status, 200, 'served while 500 connections are open');
      await res.arrayBuffer();
      return h;
    });
    const dropped = [...held.closedAt.values()].filter((ms) => ms < 500).length;
    held.closeAll();
    count('HTTP', 'connections at once', 500);
    assert.equal(dropped, 0, 'under the 2048 limit nothing is refused');
    refusals.HTTP =
      'headers > 16 KiB: 431; body > api.max_body_bytes: 413; headers not complete in 15 s: 408 and close; over 2048 connections: closed at once';
  });

  test('the WebSocket endpoint closes on bad frames and huge messages, answers bad JSON and unknown types with an error, and stays up', async () => {
    const path = '/api/ws?src=keep';
    const badFrames = [
      wsFrame(0x1, Buffer.from('{"type":"mse"}'), { mask: false }), // unmasked client frame
      wsFrame(0x3, Buffer.from('x')), // reserved opcode
      wsFrame(0x1, Buffer.from('x'), { rsv: 4 }), // RSV1 without an extension
      wsFrame(0x2, Buffer.alloc(0), { length: 2n ** 62n }), // a length nobody can send
      wsFrame(0x9, Buffer.alloc(200)), // a control frame over 125 bytes
      wsFrame(0x8, Buffer.from([0x03])), // a close frame with a one-byte body
      wsFrame(0x0, Buffer.from('x')), // a continuation with nothing to continue
    ];
    const closes = await whileServing('WebSocket bad frames', () =>
      pool(
        Array.from({ length: 140 }, (_, i) => badFrames[i % badFrames.length]),
        20,
        async (f) => {
          const s = await wsConnect(gw.apiPort, path);
          const got: Buffer[] = [];
          s.on('data', (c: Buffer) => got.push(c));
          s.write(f);
          const closed = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(false), 2000);
            s.once('close', () => {
              clearTimeout(t);
              resolve(true);
            });
          });
          s.destroy();
          return closed;
        },
      ),
    );
    count('WebSocket', 'bad frames', closes.length);
    assert.ok(
      closes.every(Boolean),
      `${closes.filter((c) => !c).length} connections not closed after a bad frame`,
    );

    // A text message over the 256 KiB limit: close 1009.
    const huge = await wsConnect(gw.apiPort, path);
    const hugeData: Buffer[] = [];
    huge.on('data', (c: Buffer) => hugeData.push(c));
    huge.write(wsFrame(0x1, Buffer.alloc(300 * 1024, 0x61)));
    await new Promise((r) => huge.once('close', r));
    const closeFrame = serverFrames(Buffer.concat(hugeData)).find((f) => f.opcode === 0x8);
    assert.equal(closeFrame?.payload.readUInt16BE(0), 1009, 'message too big');
    count('WebSocket', 'oversized messages', 1);

    // Bad JSON, unknown types and mutated real messages on a few long-lived connections: each gets
    // an answer and the connection stays open.
    // (webrtc/candidate is left out: it is accepted without an answer.)
    const corpus = ['mse.txt', 'unknown.txt', 'mse-empty.txt'].map((n) =>
      readFileSync(new URL(`../fuzz/corpus/ws/${n}`, import.meta.url)),
    );
    let sent = 0;
    let errors = 0;
    await whileServing('WebSocket bad messages', () =>
      pool([0, 1, 2, 3, 4], 5, async () => {
        const s = await wsConnect(gw.apiPort, '/api/ws?src=nonexistent');
        const got: Buffer[] = [];
        s.on('data', (c: Buffer) => got.push(c));
        for (let i = 0; i < 80; i++) {
          // Text frames must be UTF-8 (else close 1007): mutated bytes go through a string.
          const msg =
            i % 4 === 0
              ? Buffer.from(`{"type":"x${i}","value":1}`)
              : Buffer.from(mutate(rng.pick(corpus), rng, { text: true }).toString('utf8'));
          s.write(wsFrame(0x1, msg));
          sent++;
        }
        await waitFor(
          () => serverFrames(Buffer.concat(got)).filter((f) => f.opcode === 0x1).length >= 80,
          5000,
        );
        const answers = serverFrames(Buffer.concat(got)).filter((f) => f.opcode === 0x1);
        errors += answers.filter((f) => f.payload.toString().startsWith('{"type":"error"')).length;
        assert.ok(!s.destroyed, 'the connection stays open');
        s.destroy();
      }),
    );
    count('WebSocket', 'bad JSON, unknown types and mutated messages', sent);
    assert.ok(errors >= sent * 0.9, `${errors} error answers to ${sent} bad messages`);
    refusals.WebSocket =
      'bad frame: close 1002; message > 256 KiB: close 1009; bad JSON or unknown type: {"type":"error"} and the connection stays';
  });

  /** A WHEP session and a connectivity check for it over `protocol`; resolves with the answer's STUN class. */
  async function stunCheck(protocol: 'udp' | 'tcp', session?: { ufrag: string; pwd: string }) {
    let creds = session;
    if (!creds) {
      const res = await gw.api('/api/webrtc?src=keep', {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: OFFER,
      });
      const answer = await res.text();
      assert.equal(res.status, 201, answer);
      creds = {
        ufrag: /a=ice-ufrag:(\S+)/.exec(answer)?.[1] ?? '',
        pwd: /a=ice-pwd:(\S+)/.exec(answer)?.[1] ?? '',
      };
    }
    const req = bindingRequest({
      username: `${creds.ufrag}:FdsQ`,
      remotePwd: creds.pwd,
      priority: 1,
      iceControlling: 1n,
    });
    let reply: Buffer | undefined;
    if (protocol === 'udp') {
      // As an ICE agent does, the check is sent again until answered: a flood may drop either way.
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      for (let attempt = 0; attempt < 8 && !reply; attempt++) {
        s.send(req, gw.ports.WebRTC, '127.0.0.1');
        reply = await nextDatagram(s, 500);
      }
      s.close();
    } else {
      const r = await exchange(gw.ports.WebRTC, frame4571(req), 1000);
      reply = r.response.length > 2 ? r.response.subarray(2) : undefined;
    }
    return { creds, cls: reply ? StunMessage.parse(reply).cls : undefined };
  }

  test('the WebRTC UDP port drops random, mutated STUN, DTLS- and RTP-looking datagrams and still answers a real connectivity check', async () => {
    const { creds, cls } = await stunCheck('udp');
    assert.equal(cls, StunClass.SuccessResponse, 'a success response before');
    const vectors = Object.values(RFC5769);
    const packets: Buffer[] = [];
    for (let i = 0; i < 12_000; i++) {
      const kind = i % 4;
      if (kind === 0) packets.push(rng.bytes(rng.int(1400)));
      else if (kind === 1) packets.push(mutate(rng.pick(vectors), rng, { corpus: vectors }));
      else if (kind === 2)
        packets.push(Buffer.concat([Buffer.from([20 + rng.int(44)]), rng.bytes(rng.int(300))]));
      else packets.push(Buffer.concat([Buffer.from([0x80 | rng.int(64)]), rng.bytes(rng.int(1200))]));
    }
    const flood = udpFlood(gw.ports.WebRTC, packets);
    await whileServing('WebRTC UDP flood', async () => {
      await sleep(200);
      const during = await stunCheck('udp', creds);
      assert.equal(during.cls, StunClass.SuccessResponse, 'a success response during the flood');
      await flood;
    });
    count('WebRTC UDP', 'random, mutated STUN, DTLS- and RTP-range datagrams', packets.length);
    const afterFlood = await stunCheck('udp', creds);
    assert.equal(afterFlood.cls, StunClass.SuccessResponse, 'a success response after');
    refusals['WebRTC UDP'] =
      'from an address no session owns, anything but an authenticated STUN Binding request: dropped and counted';
  });

  test('the WebRTC TCP port closes bad framing, evicts idle connections over 256 and still answers a real connectivity check', async () => {
    // A transport whose only (TCP) path closes is closed with it: every check below uses a new session.
    assert.equal((await stunCheck('tcp')).cls, StunClass.SuccessResponse, 'a success response before');
    const inputs: Buffer[] = [];
    for (let i = 0; i < 120; i++) inputs.push(rng.bytes(1 + rng.int(4000)));
    for (let i = 0; i < 60; i++) inputs.push(Buffer.concat([Buffer.from([0xff, 0xff]), rng.bytes(100)])); // frame > 18432
    for (let i = 0; i < 120; i++) inputs.push(frame4571(mutate(rng.pick(Object.values(RFC5769)), rng)));
    const results = await whileServing('WebRTC TCP abuse', () =>
      pool(inputs, 40, (d) => exchange(gw.ports.WebRTC, d, 300)),
    );
    count('WebRTC TCP', 'random bytes', 120);
    count('WebRTC TCP', 'oversized frames', 60);
    count('WebRTC TCP', 'framed mutated STUN', 120);
    assert.ok(
      results.slice(120, 180).every((r) => r.closedByServer),
      'an oversized frame closes the connection',
    );

    const held = await hold(gw.ports.WebRTC, 500);
    const during = await stunCheck('tcp');
    await sleep(300);
    const evicted = [...held.closedAt.values()].filter((ms) => ms < 1000).length;
    held.closeAll();
    count('WebRTC TCP', 'connections at once', 500);
    assert.equal(
      during.cls,
      StunClass.SuccessResponse,
      'a success response while 500 idle connections are open',
    );
    assert.ok(evicted >= 500 - 256, `${evicted} of 500 idle connections evicted`);
    refusals['WebRTC TCP'] =
      'frame > 18432 bytes or bad framing: close; no valid STUN in 5 s: close; over 256 unauthenticated: the oldest closed';
  });

  test('slow clients that never finish a request are closed by each port on its own timeout', async () => {
    assert.ok(slow);
    const { rtsp, http, webrtc, startedAt } = slow;
    const closedAll = (t: Trickler) => t.closedAfter.every((ms) => ms !== undefined);
    const elapsed = performance.now() - startedAt;
    // RTSP: 10 s for the first request; WebRTC TCP: 5 s for the first STUN; HTTP: 15 s for the headers, checked every 5 s.
    assert.ok(
      await waitFor(
        () => closedAll(rtsp) && closedAll(webrtc) && closedAll(http),
        Math.max(1000, 28_000 - elapsed),
        200,
      ),
    );
    const range = (t: Trickler) => {
      const v = t.closedAfter.map((ms) => ms ?? 0);
      return [Math.min(...v), Math.max(...v)].map((ms) => Math.round(ms / 100) / 10);
    };
    const [rtspMin, rtspMax] = range(rtsp);
    const [webrtcMin, webrtcMax] = range(webrtc);
    const [httpMin, httpMax] = range(http);
    assert.ok(rtspMin >= 9 && rtspMax <= 16, `RTSP closed them after ${rtspMin}-${rtspMax} s`);
    assert.ok(webrtcMin >= 4 && webrtcMax <= 10, `WebRTC TCP closed them after ${webrtcMin}-${webrtcMax} s`);
    assert.ok(httpMin >= 14 && httpMax <= 25, `HTTP closed them after ${httpMin}-${httpMax} s`);
    assert.ok(
      http.received.every((r) => r.startsWith('HTTP/1.1 408')),
      'HTTP answers 408',
    );
    slowFigures.rtsp = `${rtspMin}-${rtspMax} s`;
    slowFigures.webrtc = `${webrtcMin}-${webrtcMax} s`;
    slowFigures.http = `${httpMin}-${httpMax} s`;
  });

  test('after the abuse the process is alive, memory is within bounds, and SIGTERM exits 0 within 3 s with no error logged', async () => {
    const res = await gw.api('/api/streams');
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    await sleep(500);
    rss.after = rssBytes(gw.pid);
    heap.after = await gcHeapUsed(gw);
    assert.ok(rss.after - rss.before < RSS_GROWTH_LIMIT, `RSS ${mb(rss.before)} -> ${mb(rss.after)} MB`);
    assert.ok(
      heap.after - heap.before < HEAP_GROWTH_LIMIT,
      `heap ${mb(heap.before)} -> ${mb(heap.after)} MB`,
    );
    reader.close();
    const { code, ms } = await gw.stop();
    assert.equal(code, 0);
    assert.ok(ms < 3000, `exit took ${Math.round(ms)} ms`);
    assert.deepEqual(errorLines(gw.output()), []);
    recordIfAsked('abuse', {
      at: new Date().toISOString(),
      seed: SEED,
      ports: Object.entries(tally).map(([port, kinds]) => ({
        port,
        inputs: Object.values(kinds).reduce((a, b) => a + b, 0),
        kinds,
        refusal: refusals[port] ?? '',
      })),
      slowloris: slowFigures,
      rssBytes: rss,
      heapUsedBytes: heap,
      shutdownMs: Math.round(ms),
    });
  });
});

function readdirRtsp(): Buffer[] {
  const dir = new URL('../fuzz/corpus/rtsp/', import.meta.url);
  return [
    'announce-ffmpeg.txt',
    'ffmpeg-describe.txt',
    'setup-udp.txt',
    'setup-tcp-session.txt',
    'play-range.txt',
    'record-then-rtp.bin',
  ].map((n) => readFileSync(new URL(n, dir)));
}

const mb = (b: number | undefined) => Math.round(((b ?? 0) / 1024 / 1024) * 10) / 10;
