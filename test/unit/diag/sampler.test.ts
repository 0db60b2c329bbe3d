import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { StreamRegistry } from '../../../src/core/registry.ts';
import { StreamSampler } from '../../../src/diag/sampler.ts';
import { RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { fakeRegistry } from './support.ts';

let before: ResourceCounts;
let registry: StreamRegistry;
beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  registry?.close();
  await assertNoLeaks(before);
});

describe('StreamSampler', () => {
  test('sampler.sample() sets source and consumer bitrates from the byte counters between two samples', async () => {
    const fake = fakeRegistry();
    registry = fake.registry;
    const drivers = fake.drivers;
    const stream = await registry.create('cam', ['fake://a']);
    const consumer = new RecordingConsumer();
    await stream.addConsumer(consumer);
    consumer.play();
    const sampler = new StreamSampler(registry);
    const first = sampler.sample(10_000);
    assert.equal(stream.sources[0].bitrate, 0, 'no rate from a single sample');
    assert.deepEqual(first.sources, [
      { stream: 'cam', index: 0, url: 'fake://a', state: 'online', readers: 1, frames: 0, bytes: 0 },
    ]);
    const conn = drivers.get('fake://a')!.last;
    for (let i = 0; i < 50; i++) conn.send(0, { data: Buffer.alloc(1000), keyframe: i === 0 });
    const second = sampler.sample(12_000); // 50 kB in 2 s = 200 kbit/s
    assert.equal(stream.sources[0].bitrate, 200_000);
    assert.equal(consumer.bitrate, 200_000);
    assert.equal(stream.info().producers[0].bitrate, 200_000);
    assert.deepEqual(second.consumers, [
      { stream: 'cam', id: consumer.id, type: 'test', frames: 50, drops: 0, bytes: 50_000 },
    ]);
  });

  test('sampler.outTotals() keeps the counters of consumers that left, so they never go backwards', async () => {
    const fake = fakeRegistry();
    registry = fake.registry;
    const drivers = fake.drivers;
    const stream = await registry.create('cam', ['fake://a']);
    const a = new RecordingConsumer();
    const b = new RecordingConsumer();
    await stream.addConsumer(a);
    await stream.addConsumer(b);
    a.play();
    b.play();
    const sampler = new StreamSampler(registry);
    sampler.sample(0);
    const conn = drivers.get('fake://a')!.last;
    for (let i = 0; i < 10; i++) conn.send(0, { data: Buffer.alloc(100) });
    b.backlog = 1e9;
    conn.send(0, { data: Buffer.alloc(100) });
    assert.deepEqual(sampler.outTotals().get('cam'), { frames: 21, bytes: 2100, drops: 1, errors: 0 });
    b.close();
    assert.deepEqual(sampler.outTotals().get('cam'), { frames: 21, bytes: 2100, drops: 1, errors: 0 });
    await registry.delete('cam');
    sampler.sample(1);
    assert.equal(sampler.outTotals().size, 0, 'a deleted stream is forgotten');
  });
});
