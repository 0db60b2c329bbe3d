/**
 * Leak soaks: 1,000 sessions of each protocol opened and closed against one gateway process, 50
 * at a time: RTSP readers (TCP and UDP), RTSP publishers, WHEP viewers (raw offers, UDP and TCP
 * candidates), MSE viewers over WebSocket, HLS sessions and progressive MP4 downloads. After each
 * protocol the gateway's handles (by type: sockets, timers, servers, child processes), its file
 * descriptors and its used heap after a forced GC are back where they were before it.
 *
 * MEDIAGATE_SOAK=1 runs the long version: MEDIAGATE_SOAK_SESSIONS (default 10,000) per protocol.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pool } from './clients.ts';
import { config, errorLines, fdCount, type Gateway, gcHeapUsed, handles, launch } from './gateway.ts';
import { recordIfAsked } from './record.ts';
import {
  hlsSession,
  http,
  mp4Session,
  mseSession,
  rtspPublisherSession,
  rtspReaderSession,
  whepSession,
} from './sessions.ts';

const LONG = process.env.MEDIAGATE_SOAK === '1';
const SESSIONS = LONG ? Number(process.env.MEDIAGATE_SOAK_SESSIONS ?? 10_000) : 1000;
const CONCURRENCY = 50;
/** HLS sessions live until their stream goes: a batch shares one stream, deleted after it (HLS allows 256 at once). */
const HLS_BATCH = 250;
/** Used heap after a forced GC may grow this much over one protocol's sessions. */
const HEAP_GROWTH_LIMIT = 6 * 1024 * 1024;
const DEMO = new URL('../../assets/demo.mp4', import.meta.url).pathname;
/** Resources that come and go with the measuring itself (fs reads of /metrics, DNS, immediates). */
const TRANSIENT = new Set([
  'FSReqCallback',
  'FSReqPromise',
  'GetAddrInfoReqWrap',
  'Immediate',
  'TTYWrap',
  'PipeWrap',
]);

interface Snapshot {
  handles: Record<string, number>;
  fds: number;
  heapUsedBytes: number;
}

interface ProtocolFigures {
  protocol: string;
  sessions: number;
  failed: number;
  ms: number;
  before: Snapshot;
  after: Snapshot;
}

const figures: ProtocolFigures[] = [];

describe('leak soak: sessions of every protocol opened and closed against the gateway process', {
  timeout: LONG ? 4 * 3600_000 : 240_000,
}, () => {
  let gw: Gateway;

  async function snapshot(): Promise<Snapshot> {
    const heapUsedBytes = await gcHeapUsed(gw);
    const h = await handles(gw);
    const counts = Object.fromEntries(Object.entries(h.counts).filter(([type]) => !TRANSIENT.has(type)));
    return { handles: { ...counts, children: h.children }, fds: fdCount(gw.pid), heapUsedBytes };
  }

  /** Types of which `now` has more than `base`, as `type: base -> now`. */
  function grown(base: Snapshot, now: Snapshot): string[] {
    const types = new Set([...Object.keys(base.handles), ...Object.keys(now.handles)]);
    return [...types]
      .filter((t) => (now.handles[t] ?? 0) > (base.handles[t] ?? 0))
      .map((t) => `${t}: ${base.handles[t] ?? 0} -> ${now.handles[t]}`);
  }

  /** Waits up to 10 s for the handles and fds to come back to `base` or below; returns the last snapshot. */
  async function settle(base: Snapshot): Promise<Snapshot> {
    let now = await snapshot();
    for (let i = 0; i < 40; i++) {
      if (now.fds <= base.fds && grown(base, now).length === 0) break;
      await sleep(250);
      now = await snapshot();
    }
    return now;
  }

  /** Runs `count` sessions, `CONCURRENCY` at a time; `run(i, slot)` is one session. Returns the failures. */
  async function sessions(
    count: number,
    run: (i: number, slot: number) => Promise<unknown>,
  ): Promise<string[]> {
    const failures: string[] = [];
    let next = 0;
    await pool(
      Array.from({ length: CONCURRENCY }, (_, slot) => slot),
      CONCURRENCY,
      async (slot) => {
        while (next < count) {
          const i = next++;
          await run(i, slot).catch((err: Error) => failures.push(`session ${i}: ${err.message}`));
        }
      },
    );
    return failures;
  }

  const RTSP = () => gw.ports.RTSP;
  const PROTOCOLS: { protocol: string; run: (count: number) => Promise<string[]> }[] = [
    {
      protocol: 'RTSP reader (TCP and UDP)',
      run: (n) =>
        sessions(n, (i, slot) => rtspReaderSession(RTSP(), 'keep', i % 2 ? 'udp' : 'tcp', 40_000 + slot * 2)),
    },
    {
      protocol: 'RTSP publisher',
      run: (n) => sessions(n, (_i, slot) => rtspPublisherSession(RTSP(), `soakpub-${slot}`)),
    },
    {
      protocol: 'WHEP (UDP and TCP candidates)',
      run: (n) =>
        sessions(n, async (i) => {
          const status = await whepSession(gw.apiPort, 'keep', i % 2 ? 'tcp' : 'udp');
          if (status !== 201) throw new Error(`WHEP answered ${status}`);
        }),
    },
    { protocol: 'MSE over WebSocket', run: (n) => sessions(n, () => mseSession(gw.apiPort, 'keep')) },
    {
      protocol: 'HLS',
      run: async (n) => {
        const failures: string[] = [];
        for (let b = 0; b * HLS_BATCH < n; b++) {
          const name = `hls-${b}`;
          const put = await http(
            gw.apiPort,
            'PUT',
            `/api/streams?name=${name}&src=${encodeURIComponent(`file:${DEMO}`)}`,
          );
          assert.equal(put.status, 201, put.body.toString());
          const batch = Math.min(HLS_BATCH, n - b * HLS_BATCH);
          const results = await Promise.allSettled(
            Array.from({ length: batch }, () => hlsSession(gw.apiPort, name)),
          );
          for (const r of results) if (r.status === 'rejected') failures.push(String(r.reason));
          const del = await http(gw.apiPort, 'DELETE', `/api/streams?src=${name}`);
          assert.equal(del.status, 200, 'the stream and with it its HLS sessions are deleted');
        }
        return failures;
      },
    },
    { protocol: 'HTTP MP4 download', run: (n) => sessions(n, () => mp4Session(gw.apiPort, 'keep')) },
  ];

  before(async () => {
    gw = await launch(config({ extra: `streams:\n  keep: "file:${DEMO}"\n` }));
    // One round of everything first: lazily made objects (HLS sweeper, WebSocket server, the
    // publishers' streams soakpub-0..49) belong to the baseline, not to a leak.
    for (const p of PROTOCOLS) {
      const failures = await p.run(p.protocol === 'HLS' ? 10 : CONCURRENCY);
      assert.deepEqual(failures, [], `warm-up of ${p.protocol}`);
    }
  });

  after(async () => {
    if (!gw) return;
    const { code } = await gw.stop();
    assert.equal(code, 0);
    assert.deepEqual(errorLines(gw.output()), []);
    recordIfAsked(LONG ? 'soakLong' : 'soak', {
      at: new Date().toISOString(),
      sessionsPerProtocol: SESSIONS,
      concurrency: CONCURRENCY,
      protocols: figures,
    });
  });

  for (const p of [
    'RTSP reader (TCP and UDP)',
    'RTSP publisher',
    'WHEP (UDP and TCP candidates)',
    'MSE over WebSocket',
    'HLS',
    'HTTP MP4 download',
  ]) {
    test(`${SESSIONS} ${p} sessions opened and closed leave handles, timers, sockets, fds and children where they started, and the heap within ${HEAP_GROWTH_LIMIT >> 20} MB`, async (t) => {
      const protocol = PROTOCOLS.find((x) => x.protocol === p);
      assert.ok(protocol);
      const base = await snapshot();
      const t0 = performance.now();
      const failures = await protocol.run(SESSIONS);
      const ms = Math.round(performance.now() - t0);
      const now = await settle(base);
      figures.push({
        protocol: p,
        sessions: SESSIONS,
        failed: failures.length,
        ms,
        before: base,
        after: now,
      });
      t.diagnostic(
        `${SESSIONS} sessions in ${ms} ms; fds ${base.fds} -> ${now.fds}; heap ${mb(base.heapUsedBytes)} -> ${mb(now.heapUsedBytes)} MB; handles ${JSON.stringify(now.handles)}`,
      );
      assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${SESSIONS} sessions failed`);
      assert.deepEqual(grown(base, now), [], 'no more handles of any type than before');
      assert.ok(now.fds <= base.fds, `fds ${base.fds} -> ${now.fds}`);
      assert.ok(
        now.heapUsedBytes - base.heapUsedBytes < HEAP_GROWTH_LIMIT,
        `heap ${mb(base.heapUsedBytes)} -> ${mb(now.heapUsedBytes)} MB`,
      );
    });
  }
});

const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
