/**
 * Regressions of the stream engine's crash classes, each a small test citing the bug it guards
 * against. They use the engine directly with fake sources (test/helpers/fakes.ts): the point is
 * the lifecycle, not a protocol.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { ConflictError, InvalidStateError, MediagateError } from '../../src/core/errors.ts';
import { StreamRegistry } from '../../src/core/registry.ts';
import { SchemeTable } from '../../src/core/schemes.ts';
import { FakeDriver, H264, media, RecordingConsumer } from '../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../helpers/leaks.ts';

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
  registry = new StreamRegistry(schemes, { idleTimeoutMs: 20 });
});
afterEach(async () => {
  registry.close();
  await assertNoLeaks(before);
});

test('consumer.close() twice, from its own close listener and again by registry.delete() emits close once and throws nothing (go2rtc #1330, #1613, #1624: "panic: close of closed channel")', async () => {
  const stream = await registry.create('cam', ['fake://x']);
  const consumers = Array.from({ length: 5 }, () => new RecordingConsumer());
  const closes = consumers.map(() => 0);
  for (const [i, c] of consumers.entries()) {
    await stream.addConsumer(c);
    c.play();
    c.on('close', () => {
      closes[i]++;
      c.close(); // re-entrant, as go2rtc's RemoveConsumer from a WebRTC state-change handler
    });
  }
  drivers[0].last.send(0);
  consumers[0].close();
  consumers[0].close();
  consumers[1].close(new Error('peer gone'));
  await registry.delete('cam'); // closes the rest, and must not close the first two again
  for (const c of consumers) c.close();
  assert.deepEqual(closes, [1, 1, 1, 1, 1]);
  assert.deepEqual(
    consumers.map((c) => c.closeCalls),
    [1, 1, 1, 1, 1],
    'onClose() ran once each',
  );
});

test('registry.create() of one name 50 times in parallel makes one stream, the rest get ConflictError (go2rtc #1394: "fatal error: concurrent map writes")', async () => {
  const results = await Promise.allSettled(
    Array.from({ length: 50 }, () => registry.create('cam', ['fake://x'])),
  );
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  assert.equal(
    results.filter((r) => r.status === 'rejected' && r.reason instanceof ConflictError).length,
    49,
  );
  assert.deepEqual(registry.names(), ['cam']);
  assert.equal(drivers.length, 1, 'one source driver: the losers made none');
});

test('registry.list() and stream.info() while streams are upserted and deleted never see a closed or half-made stream (go2rtc #1612: "concurrent map read and map write")', async () => {
  const ops: Promise<unknown>[] = [];
  let seen = 0;
  for (let i = 0; i < 500; i++) {
    const name = `s${i % 9}`;
    ops.push(
      i % 3 === 2 ? registry.delete(name).catch(() => undefined) : registry.upsert(name, ['fake://x']),
    );
    ops.push(
      Promise.resolve().then(() => {
        for (const s of registry.list()) {
          assert.equal(s.closed, false, `${s.name} listed after close`);
          assert.equal(s.info().producers.length, 1);
          seen++;
        }
      }),
    );
  }
  await Promise.all(ops);
  assert.ok(seen > 0);
});

test('a track writing frames while readers leave and join inside deliver() skips the closed one and gives the new one each frame once (go2rtc #213, #767: "concurrent map iteration and map write" in WriteRTP)', async () => {
  const stream = await registry.create('cam', ['fake://x']);
  const consumers: RecordingConsumer[] = [];
  for (let i = 0; i < 10; i++) {
    const c = new RecordingConsumer();
    await stream.addConsumer(c);
    c.play();
    consumers.push(c);
  }
  const late = new RecordingConsumer();
  await stream.addConsumer(late);
  // Reader 3 closes reader 4 (not yet served) and starts the late one from inside its delivery.
  const original = consumers[3].deliver.bind(consumers[3]);
  consumers[3].deliver = (track, frame) => {
    original(track, frame);
    consumers[4].close();
    late.play();
  };
  drivers[0].last.send(0, { keyframe: true, pts: 0, dts: 0 });
  drivers[0].last.send(0, { keyframe: false, pts: 3000, dts: 3000 });
  assert.deepEqual(
    consumers.map((c) => c.received.length),
    [2, 2, 2, 2, 0, 2, 2, 2, 2, 2],
  );
  // The late reader: the first frame from the GOP replay on play(), the second from the fan-out.
  assert.deepEqual(
    late.received.map((r) => r.frame),
    consumers[0].received.map((r) => r.frame),
  );
});

test('stream.replaceSources() closes the consumers of the old sources with InvalidStateError, so an HTTP handler waiting on one answers 409, not 500 (found by the API storm in test/reliability/storms.test.ts)', async () => {
  const stream = await registry.create('cam', ['fake://x']);
  const c = new RecordingConsumer();
  await stream.addConsumer(c);
  c.play();
  let reason: Error | undefined;
  c.on('close', (err) => {
    reason = err;
  });
  await registry.upsert('cam', ['fake://y']);
  assert.ok(reason instanceof InvalidStateError, `closed with ${reason?.name}: ${reason?.message}`);
  assert.ok(reason instanceof MediagateError);
});
