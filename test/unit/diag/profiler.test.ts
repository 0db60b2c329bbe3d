import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ConflictError, InvalidStateError } from '../../../src/core/errors.ts';
import { Profiler } from '../../../src/diag/profiler.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

let before: ResourceCounts;
let profiler: Profiler;
beforeEach(() => {
  before = activeResources();
  profiler = new Profiler();
});
afterEach(async () => {
  profiler.close();
  await assertNoLeaks(before);
});

function burn(ms: number): number {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  return x;
}

describe('Profiler', { timeout: 20000 }, () => {
  test('profiler.cpuProfile() returns a .cpuprofile with nodes, samples and times', async () => {
    const pending = profiler.cpuProfile(200);
    burn(50);
    const profile = await pending;
    assert.ok(profile.nodes.length > 0);
    assert.ok(Array.isArray(profile.samples));
    assert.ok(profile.endTime > profile.startTime);
    assert.equal(profiler.busy, undefined);
  });

  test('profiler.cpuProfile() rejects with ConflictError while another capture runs', async () => {
    const first = profiler.cpuProfile(100);
    await assert.rejects(profiler.cpuProfile(100), ConflictError);
    await assert.rejects(
      profiler.heapSnapshot(() => undefined),
      /a cpu profile is already running/,
    );
    await first;
  });

  test('profiler.cpuProfile() ends early when its signal aborts', async () => {
    const abort = new AbortController();
    const t0 = performance.now();
    const pending = profiler.cpuProfile(10_000, abort.signal);
    setTimeout(() => abort.abort(), 50);
    const profile = await pending;
    assert.ok(performance.now() - t0 < 2000);
    assert.ok(profile.nodes.length > 0);
  });

  test('profiler.close() rejects a pending capture with InvalidStateError and later calls too', async () => {
    const pending = profiler.capture(10_000);
    setTimeout(() => profiler.close(), 20);
    await assert.rejects(pending, InvalidStateError);
    await assert.rejects(profiler.cpuProfile(10), InvalidStateError);
    profiler.close();
  });

  test('profiler.capture() returns a CPU and a sampling heap profile of the same period', async () => {
    const keep: object[] = [];
    const pending = profiler.capture(100);
    for (let i = 0; i < 20000; i++) keep.push({ i, s: `x${i}` });
    const { cpu, heap } = await pending;
    assert.ok(cpu.nodes.length > 0);
    assert.ok(heap.head && Array.isArray(heap.samples));
    assert.equal(keep.length, 20000);
  });

  test('profiler.heapSnapshot() streams a snapshot JSON in chunks and marks the loop as blocked', async () => {
    const t0 = performance.now();
    const chunks: string[] = [];
    await profiler.heapSnapshot((c) => chunks.push(c));
    assert.ok(chunks.length > 1);
    const snapshot = JSON.parse(chunks.join(''));
    assert.ok(snapshot.snapshot && Array.isArray(snapshot.nodes) && Array.isArray(snapshot.strings));
    assert.equal(profiler.blockedSince(t0), true);
    assert.equal(profiler.blockedSince(performance.now() + 1), false);
  });
});
