import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FailureThrottle } from '../../../src/auth/throttle.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

describe('FailureThrottle', { timeout: 10000 }, () => {
  let leaks: ResourceCounts;
  before(() => {
    leaks = activeResources();
  });
  after(async () => {
    await assertNoLeaks(leaks);
  });

  test('delayFor() is 0 for the free failures, then doubles per failure up to the maximum', () => {
    const t = new FailureThrottle({ freeFailures: 2, baseDelayMs: 100, maxDelayMs: 1000 });
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(t.delayFor('10.0.0.1', 0));
      t.fail('10.0.0.1', 0);
    }
    assert.deepEqual(delays, [0, 0, 100, 200, 400, 800, 1000, 1000]);
    assert.equal(t.delayFor('10.0.0.2', 0), 0, 'other addresses are not slowed');
    t.close();
  });

  test('admit() makes a request of a failing address wait its delay, and refuses beyond maxWaiting', async () => {
    const t = new FailureThrottle({ freeFailures: 0, baseDelayMs: 150, maxWaiting: 2 });
    assert.equal(await t.admit('10.0.0.1'), true, 'no failures: no wait');
    t.fail('10.0.0.1');
    const t0 = performance.now();
    const waits = [t.admit('10.0.0.1'), t.admit('10.0.0.1'), t.admit('10.0.0.1')];
    assert.deepEqual(await Promise.all(waits), [true, true, false]);
    assert.ok(performance.now() - t0 >= 140, 'the admitted ones waited the delay');
    t.close();
  });

  test('close() refuses the requests still waiting and stops every timer', async () => {
    const t = new FailureThrottle({ freeFailures: 0, baseDelayMs: 60_000 });
    t.fail('10.0.0.1');
    const waiting = t.admit('10.0.0.1');
    t.close();
    t.close();
    assert.equal(await waiting, false);
    assert.equal(await t.admit('10.0.0.9'), false, 'a closed throttle admits nothing');
    assert.equal(t.size, 0);
  });

  test('sweep() forgets an address a window after its last failure and a success does not reset it', () => {
    const t = new FailureThrottle({ freeFailures: 0, baseDelayMs: 100, windowMs: 1000 });
    t.fail('10.0.0.1', 0);
    t.fail('10.0.0.1', 500);
    assert.equal(t.failures('10.0.0.1', 1400), 2);
    t.sweep(1400);
    assert.equal(t.size, 1);
    t.sweep(1600);
    assert.equal(t.size, 0);
    assert.equal(t.delayFor('10.0.0.1', 1600), 0);
    t.close();
  });

  test('fail() keeps at most maxAddresses, dropping the address that failed longest ago', () => {
    const t = new FailureThrottle({ maxAddresses: 3 });
    for (const a of ['a', 'b', 'c']) t.fail(a, 0);
    t.fail('a', 1); // a is now the most recent
    t.fail('d', 2);
    assert.equal(t.size, 3);
    assert.equal(t.failures('b', 3), 0);
    assert.deepEqual(
      ['a', 'c', 'd'].map((x) => t.failures(x, 3)),
      [2, 1, 1],
    );
    t.close();
  });
});
