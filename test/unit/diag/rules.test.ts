import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULTS } from '../../../src/config/schema.ts';
import { type Breach, Rules, type Sample, type Thresholds } from '../../../src/diag/rules.ts';
import { Watchdog } from '../../../src/diag/watchdog.ts';

const MB = 1024 * 1024;
const T: Thresholds = {
  ...DEFAULTS.diag,
  heapWindowMs: 60_000,
  heapGrowthBytes: 50 * MB,
  handlesGrowth: 100,
};
const quiet = { count: 100, p99Ms: 2, maxMs: 5, meanMs: 1 };

function sample(at: number, over: Partial<Sample> = {}): Sample {
  return { at, lag: quiet, heapUsedBytes: 100 * MB, handles: 20, sources: [], consumers: [], ...over };
}

function rulesOf(breaches: Breach[]): string[] {
  return breaches.map((b) => b.rule);
}

describe('Rules', () => {
  test('rules.evaluate() reports nothing for a quiet process', () => {
    const rules = new Rules(T);
    for (let i = 0; i < 100; i++) assert.deepEqual(rules.evaluate(sample(i * 2000)), []);
  });

  test('rules.evaluate() reports event_loop_lag when the max or the p99 of the interval is over its limit', () => {
    const rules = new Rules(T);
    const stall = rules.evaluate(
      sample(0, {
        lag: { count: 90, p99Ms: 3, maxMs: 500, meanMs: 6 },
        consumers: [{ stream: 'door', id: 1, type: 'rtsp', frames: 0, drops: 0, bytes: 0 }],
      }),
    );
    assert.deepEqual(rulesOf(stall), ['event_loop_lag']);
    assert.equal(stall[0].values.maxMs, 500);
    assert.deepEqual(stall[0].streams, ['door'], 'the streams with consumers are the ones affected');
    assert.match(stall[0].message, /max 500 ms/);
    const slow = rules.evaluate(sample(2000, { lag: { count: 90, p99Ms: 250, maxMs: 300, meanMs: 100 } }));
    assert.deepEqual(rulesOf(slow), ['event_loop_lag']);
    assert.deepEqual(
      rules.evaluate(sample(4000, { lag: { count: 90, p99Ms: 199, maxMs: 399, meanMs: 9 } })),
      [],
    );
  });

  test('rules.evaluate() ignores the lag of an interval excused by a heap snapshot (lag undefined)', () => {
    assert.deepEqual(new Rules(T).evaluate(sample(0, { lag: undefined })), []);
  });

  test('rules.evaluate() reports heap_growth when the heap floor rises by the limit over a full window, not for a sawtooth', () => {
    const saw = new Rules(T);
    for (let i = 0; i <= 40; i++) {
      // garbage: up 80 MB and back every other sample
      const breaches = saw.evaluate(sample(i * 2000, { heapUsedBytes: (i % 2 ? 180 : 100) * MB }));
      assert.deepEqual(breaches, [], `sawtooth at ${i}`);
    }
    const leak = new Rules(T);
    let fired: Breach[] = [];
    for (let i = 0; i <= 40 && fired.length === 0; i++) {
      fired = leak.evaluate(sample(i * 2000, { heapUsedBytes: (100 + i * 3) * MB }));
      if (i * 2000 < T.heapWindowMs) assert.deepEqual(fired, [], 'not before the window is full');
    }
    assert.deepEqual(rulesOf(fired), ['heap_growth']);
    assert.ok(Number(fired[0].values.growth) >= 50 * MB);
    assert.match(fired[0].message, /heap grew from 10\d\.\d MB to/);
  });

  test('rules.evaluate() reports handles_growth when active handles keep growing', () => {
    const rules = new Rules(T);
    let fired: Breach[] = [];
    for (let i = 0; i <= 40 && fired.length === 0; i++)
      fired = rules.evaluate(sample(i * 2000, { handles: 20 + i * 5 }));
    assert.deepEqual(rulesOf(fired), ['handles_growth']);
    assert.match(fired[0].message, /active handles grew from 20 to \d+/);
  });

  test('rules.evaluate() reports source_stall for a source with readers and no frames for source_stall_seconds', () => {
    const rules = new Rules(T);
    const src = (at: number, frames: number, readers: number) =>
      sample(at, {
        sources: [
          { stream: 'door', index: 0, url: 'rtsp://cam/1', state: 'online', readers, frames, bytes: 0 },
        ],
      });
    // No readers: an idle source is not stalled however long it sends nothing.
    for (let t = 0; t <= 20_000; t += 2000) assert.deepEqual(rules.evaluate(src(t, 5, 0)), []);
    // Readers and frames flowing: fine.
    for (let t = 22_000, f = 5; t <= 40_000; t += 2000, f += 50)
      assert.deepEqual(rules.evaluate(src(t, f, 1)), []);
    // Frames stop at 40 s.
    const last = 5 + 50 * 10;
    assert.deepEqual(rules.evaluate(src(42_000, last, 1)), []);
    assert.deepEqual(rules.evaluate(src(48_000, last, 1)), []);
    const fired = rules.evaluate(src(52_000, last, 1));
    assert.deepEqual(rulesOf(fired), ['source_stall']);
    assert.deepEqual(fired[0].streams, ['door']);
    assert.match(fired[0].message, /door \(rtsp:\/\/cam\/1\) for 10 s/);
  });

  test('rules.evaluate() reports consumer_drops for a consumer dropping at least consumer_drop_rate of its frames', () => {
    const rules = new Rules(T);
    const c = (at: number, frames: number, drops: number) =>
      sample(at, { consumers: [{ stream: 'door', id: 7, type: 'webrtc', frames, drops, bytes: 0 }] });
    assert.deepEqual(rules.evaluate(c(0, 0, 0)), [], 'the first sample is the baseline');
    assert.deepEqual(rules.evaluate(c(2000, 100, 10)), [], '10% dropped');
    assert.deepEqual(rules.evaluate(c(4000, 101, 15)), [], 'too few frames offered to judge');
    const fired = rules.evaluate(c(6000, 131, 75));
    assert.deepEqual(rulesOf(fired), ['consumer_drops']);
    assert.match(fired[0].message, /webrtc #7 of door dropped 67% of its frames \(limit 50%\)/);
  });
});

describe('Watchdog', () => {
  test('watchdog.evaluate() asks for one incident per rule per cooldown and health() stays degraded for the hold time', () => {
    const incidents: Breach[] = [];
    const dog = new Watchdog({
      thresholds: T,
      healthHoldMs: 10_000,
      cooldownMs: 60_000,
      onIncident: (b) => incidents.push(b),
    });
    const stall = { count: 90, p99Ms: 3, maxMs: 800, meanMs: 9 };
    assert.deepEqual(dog.health(0), { status: 'ok' });
    dog.evaluate(sample(1000, { lag: stall }));
    dog.evaluate(sample(3000, { lag: stall }));
    assert.equal(incidents.length, 1, 'the second breach is within the cooldown');
    const health = dog.health(5000);
    assert.equal(health.status, 'degraded');
    assert.match(
      (health as { reasons: string[] }).reasons[0],
      /^event_loop_lag: event loop blocked: max 800 ms/,
    );
    assert.deepEqual(dog.health(13_001), { status: 'ok' }, 'healthy again after the hold time');
    dog.evaluate(sample(61_000, { lag: stall }));
    assert.equal(incidents.length, 2, 'a new incident after the cooldown');
  });
});
