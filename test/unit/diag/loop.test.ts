import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAG_BUCKETS, LoopMonitor } from '../../../src/diag/loop.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

let before: ResourceCounts;
let loop: LoopMonitor;
beforeEach(() => {
  before = activeResources();
  loop = new LoopMonitor(10);
});
afterEach(async () => {
  loop.close();
  loop.close();
  await assertNoLeaks(before);
});

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

describe('LoopMonitor', { timeout: 10000 }, () => {
  test('loop.take() reports a small delay for an idle loop', async () => {
    loop.reset();
    await sleep(200);
    const lag = loop.take();
    assert.ok(lag.count > 5, `samples: ${lag.count}`);
    assert.ok(lag.maxMs < 150, `max ${lag.maxMs} ms`);
  });

  test('loop.take() sees a 300 ms stall in the interval as its max', async () => {
    loop.reset();
    await sleep(50);
    block(300);
    await sleep(50);
    const lag = loop.take();
    assert.ok(lag.maxMs >= 250 && lag.maxMs < 1000, `max ${lag.maxMs} ms`);
    assert.ok(
      loop.bucketCounts[LAG_BUCKETS.indexOf(0.1)] < loop.count,
      'the stall is above the 0.1 s bucket',
    );
  });

  test('loop.take() sees a stall that starts right after the previous take (the histogram misses it)', async () => {
    loop.reset();
    await sleep(50);
    loop.take();
    block(300);
    await sleep(50);
    const lag = loop.take();
    assert.ok(lag.maxMs >= 250, `max ${lag.maxMs} ms`);
  });

  test('loop.take() accumulates cumulative, non-decreasing Prometheus buckets', async () => {
    loop.reset();
    await sleep(100);
    loop.take();
    await sleep(100);
    loop.take();
    for (let i = 1; i < LAG_BUCKETS.length; i++) assert.ok(loop.bucketCounts[i] >= loop.bucketCounts[i - 1]);
    assert.ok(loop.bucketCounts.at(-1)! <= loop.count);
    assert.ok(loop.count > 10);
  });
});
