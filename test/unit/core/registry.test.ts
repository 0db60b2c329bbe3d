import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { BadRequestError, ConflictError, NotFoundError } from '../../../src/core/errors.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import { FakeDriver, H264, media, RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

let before: ResourceCounts;
let registry: StreamRegistry;
let drivers: FakeDriver[];

beforeEach(() => {
  before = activeResources();
  drivers = [];
  const schemes = new SchemeTable();
  schemes.register('fake', () => {
    const d = new FakeDriver([media(H264)]);
    drivers.push(d);
    return d;
  });
  schemes.register('exec', () => new FakeDriver([]), { configOnly: true });
  registry = new StreamRegistry(schemes, { idleTimeoutMs: 20 });
});
afterEach(async () => {
  registry.close();
  await assertNoLeaks(before);
});

test('registry.create() called in parallel for one name makes one stream and rejects the rest with ConflictError (go2rtc "concurrent map writes")', async () => {
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, () => registry.create('cam', ['fake://x'])),
  );
  const ok = results.filter((r) => r.status === 'fulfilled');
  const conflicts = results.filter((r) => r.status === 'rejected' && r.reason instanceof ConflictError);
  assert.equal(ok.length, 1);
  assert.equal(conflicts.length, 19);
  assert.deepEqual(registry.names(), ['cam']);
});

test('registry.list() while streams are created and deleted never returns a closed or half-made stream (go2rtc "concurrent map read and map write")', async () => {
  const ops: Promise<unknown>[] = [];
  let checks = 0;
  for (let i = 0; i < 300; i++) {
    const name = `s${i % 7}`;
    ops.push(
      i % 3 === 2 ? registry.delete(name).catch(() => undefined) : registry.upsert(name, ['fake://x']),
    );
    ops.push(
      Promise.resolve().then(() => {
        for (const s of registry.list()) {
          assert.equal(s.closed, false);
          assert.equal(s.info().producers.length, 1);
          checks++;
        }
      }),
    );
  }
  await Promise.all(ops);
  assert.ok(checks > 0);
  for (const s of registry.list()) assert.equal(s.closed, false);
});

test('registry.delete() of a stream with consumers closes them cleanly, once each', async () => {
  const stream = await registry.create('cam', ['fake://x']);
  const consumers = [new RecordingConsumer(), new RecordingConsumer()];
  let closes = 0;
  for (const c of consumers) {
    await stream.addConsumer(c);
    c.play();
    c.on('close', () => closes++);
  }
  await registry.delete('cam');
  assert.equal(closes, 2);
  assert.equal(drivers[0].last.closed, true);
  await assert.rejects(registry.delete('cam'), NotFoundError);
});

test('registry.create() rejects an unknown scheme, a bad name and an API-made exec: source with BadRequestError', async () => {
  await assert.rejects(registry.create('cam', ['nope://x']), /unknown source scheme "nope:"/);
  await assert.rejects(registry.create('bad\nname', ['fake://x']), BadRequestError);
  await assert.rejects(registry.create('cam', ['exec:rm -rf /']), /config file/);
  await registry.create('cam2', ['exec:ffmpeg'], 'config');
  assert.deepEqual(registry.names(), ['cam2']);
});

test('registry.upsert() replaces the sources and closes the consumers of the old ones', async () => {
  const stream = await registry.create('cam', ['fake://a']);
  const c = new RecordingConsumer();
  await stream.addConsumer(c);
  c.play();
  await registry.upsert('cam', ['fake://b']);
  assert.equal(c.closed, true);
  assert.equal(registry.get('cam'), stream);
  assert.deepEqual(stream.sourceUrls, ['fake://b']);
});
