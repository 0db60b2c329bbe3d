import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidStateError, UnsupportedError } from '../../../src/core/errors.ts';
import { Stream } from '../../../src/core/stream.ts';
import { FakeDriver, H264, H265, media, OPUS, PCMA, RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

let before: ResourceCounts;
const streams: Stream[] = [];
function newStream(
  drivers: FakeDriver[],
  opts = { idleTimeoutMs: 50, minBackoffMs: 20, maxBackoffMs: 80 },
): Stream {
  const s = new Stream(
    'cam',
    drivers.map((d, i) => ({ url: `fake://${i}`, driver: d })),
    opts,
  );
  streams.push(s);
  return s;
}

beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await assertNoLeaks(before);
});

describe('Stream', () => {
  test('stream.addConsumer() connects the source on the first consumer and fans each frame out to every consumer', async () => {
    const driver = new FakeDriver([media(H264)]);
    const stream = newStream([driver]);
    const a = new RecordingConsumer();
    const b = new RecordingConsumer();
    await stream.addConsumer(a);
    await stream.addConsumer(b);
    assert.equal(driver.attempts, 1, 'one upstream connection for two consumers');
    a.play();
    b.play();
    driver.last.send(0, { keyframe: true });
    driver.last.send(0, { keyframe: false });
    assert.equal(a.received.length, 2);
    assert.equal(b.received.length, 2);
    assert.equal(a.received[0].frame, b.received[0].frame, 'the same frame object is shared, not copied');
  });

  test('stream.addConsumer() rejects with UnsupportedError naming both sides when no codec matches', async () => {
    const stream = newStream([new FakeDriver([media(H265)])]);
    const c = new RecordingConsumer([{ kind: 'video', codecs: [H264] }]);
    await assert.rejects(stream.addConsumer(c), (err: Error) => {
      assert.ok(err instanceof UnsupportedError);
      assert.equal(err.message, 'codecs not matched: video:H265 => video:H264');
      return true;
    });
    c.close();
  });

  test('stream.addConsumer() takes each kind from the first source that has a matching codec', async () => {
    const cam = new FakeDriver([media(H264), media(PCMA)]);
    const transcoded = new FakeDriver([media(OPUS)]);
    const stream = newStream([cam, transcoded]);
    const c = new RecordingConsumer([
      { kind: 'video', codecs: [H264] },
      { kind: 'audio', codecs: [OPUS] },
    ]);
    await stream.addConsumer(c);
    assert.deepEqual(
      c.tracks.map((t) => t.codec.name),
      ['H264', 'OPUS'],
    );
    assert.equal(transcoded.attempts, 1);
  });

  test('a new consumer receives the cached GOP at once instead of waiting for the next keyframe', async () => {
    const driver = new FakeDriver([media(H264)]);
    const stream = newStream([driver]);
    const first = new RecordingConsumer();
    await stream.addConsumer(first);
    first.play();
    driver.last.send(0, { keyframe: false, pts: 1 }); // before any keyframe: not cached
    driver.last.send(0, { keyframe: true, pts: 2 });
    driver.last.send(0, { keyframe: false, pts: 3 });
    const late = new RecordingConsumer();
    await stream.addConsumer(late);
    late.play();
    assert.equal(late.received.length, 2);
    assert.equal(late.received[0].frame.keyframe, true);
  });

  test('a consumer over its backlog limit drops and counts, resumes at a keyframe, and never slows the others', async () => {
    const driver = new FakeDriver([media(H264)]);
    const stream = newStream([driver]);
    const slow = new RecordingConsumer();
    const fast = new RecordingConsumer();
    await stream.addConsumer(slow);
    await stream.addConsumer(fast);
    slow.play();
    fast.play();
    driver.last.send(0, { keyframe: true });
    slow.backlog = slow.maxBacklogBytes + 1;
    for (let i = 0; i < 10; i++) driver.last.send(0, { keyframe: false });
    slow.backlog = 0;
    driver.last.send(0, { keyframe: false }); // still waiting for a keyframe
    driver.last.send(0, { keyframe: true });
    assert.equal(fast.received.length, 13);
    assert.equal(slow.received.length, 2);
    assert.equal(slow.counters.drops, 11);
    assert.equal(slow.closed, false);
  });

  test('a consumer whose write throws is closed and removed without disturbing the others', async () => {
    const driver = new FakeDriver([media(H264)]);
    const stream = newStream([driver]);
    const broken = new RecordingConsumer();
    const ok = new RecordingConsumer();
    await stream.addConsumer(broken);
    await stream.addConsumer(ok);
    broken.play();
    ok.play();
    broken.throwOnWrite = true;
    let closeEvents = 0;
    broken.on('close', (err) => {
      closeEvents++;
      assert.match(String(err?.message), /socket broken/);
    });
    driver.last.send(0);
    driver.last.send(0);
    assert.equal(closeEvents, 1);
    assert.equal(ok.received.length, 2);
    assert.equal(stream.consumers.length, 1);
  });

  test('the source stops a while after the last reader leaves and starts again for the next one', async () => {
    const driver = new FakeDriver([media(H264)]);
    const stream = newStream([driver]);
    const c = new RecordingConsumer();
    await stream.addConsumer(c);
    c.play();
    c.close();
    assert.equal(driver.last.closed, false, 'not stopped at once');
    await sleep(120);
    assert.equal(driver.last.closed, true, 'stopped after the idle timeout');
    const again = new RecordingConsumer();
    await stream.addConsumer(again);
    assert.equal(driver.attempts, 2);
  });

  test('consumers stay attached across a source reconnect with backoff and get frames from the new connection', async () => {
    const driver = new FakeDriver([media(H264)]);
    const stream = newStream([driver]);
    const c = new RecordingConsumer();
    await stream.addConsumer(c);
    c.play();
    driver.last.send(0, { pts: 1000, dts: 1000 });
    driver.failNext = 2; // the first two reconnects fail too
    driver.last.fail();
    const info = () => stream.info().producers[0];
    assert.equal(info().state, 'backoff');
    for (let i = 0; i < 50 && info().state !== 'online'; i++) await sleep(20);
    assert.equal(info().state, 'online');
    assert.equal(driver.attempts, 4);
    assert.equal(info().reconnects, 3);
    driver.last.send(0, { pts: 5, dts: 5 });
    assert.equal(c.received.length, 2);
    assert.ok(c.received[1].frame.dts > c.received[0].frame.dts, 'timestamps continue across the reconnect');
    assert.equal(c.closed, false);
  });

  test('consumer.requestKeyframe() on a track reaches the source connection', async () => {
    const driver = new FakeDriver([media(H264)]);
    const stream = newStream([driver]);
    const c = new RecordingConsumer();
    await stream.addConsumer(c);
    c.tracks[0].requestKeyframe();
    assert.equal(driver.last.keyframeRequests, 1);
    assert.equal(stream.info().producers[0].keyframeRequests, 1);
  });
});

describe('Stream regressions (go2rtc crash classes)', () => {
  test('consumer.close() twice emits close once and detaches once (go2rtc "close of closed channel")', async () => {
    const driver = new FakeDriver([media(H264)]);
    const stream = newStream([driver]);
    const c = new RecordingConsumer();
    await stream.addConsumer(c);
    c.play();
    let closes = 0;
    c.on('close', () => closes++);
    c.close();
    c.close();
    stream.close(); // the stream's removal racing the viewer's own close
    c.close();
    assert.equal(closes, 1);
    assert.equal(c.closeCalls, 1);
    assert.equal(c.tracks[0].readerCount, 0);
  });

  test('consumer.close() during negotiation makes addConsumer() reject and leaves nothing attached', async () => {
    const driver = new FakeDriver([media(H264)]);
    let release!: () => void;
    driver.gate = new Promise((r) => {
      release = r;
    });
    const stream = newStream([driver]);
    const c = new RecordingConsumer();
    const pending = stream.addConsumer(c);
    await sleep(5);
    c.close();
    release();
    await assert.rejects(pending, InvalidStateError);
    assert.equal(stream.consumers.length, 0);
    await sleep(120); // the source, connected for nobody, stops after its idle timeout
    assert.equal(driver.last.closed, true);
  });

  test('stream.close() during negotiation rejects the waiting consumer and closes the late connection', async () => {
    const driver = new FakeDriver([media(H264)]);
    let release!: () => void;
    driver.gate = new Promise((r) => {
      release = r;
    });
    const stream = newStream([driver]);
    const c = new RecordingConsumer();
    const pending = stream.addConsumer(c);
    await sleep(5);
    stream.close();
    release();
    await assert.rejects(pending);
    c.close();
    assert.equal(driver.connections.length, 0, 'an aborted connect creates no connection');
  });

  test('stream.close() with consumers attached closes each consumer once, then the source', async () => {
    const driver = new FakeDriver([media(H264)]);
    const stream = newStream([driver]);
    const consumers = [new RecordingConsumer(), new RecordingConsumer(), new RecordingConsumer()];
    const order: string[] = [];
    for (const c of consumers) {
      await stream.addConsumer(c);
      c.play();
      c.on('close', () => order.push('consumer'));
    }
    driver.last.on('close', () => order.push('source'));
    stream.close();
    stream.close();
    assert.deepEqual(order, ['consumer', 'consumer', 'consumer', 'source']);
    assert.ok(consumers.every((c) => c.closeCalls === 1));
  });

  test('a consumer closing itself inside fan-out does not disturb delivery to the others', async () => {
    const driver = new FakeDriver([media(H264)]);
    const stream = newStream([driver]);
    const consumers = [new RecordingConsumer(), new RecordingConsumer(), new RecordingConsumer()];
    for (const c of consumers) {
      await stream.addConsumer(c);
      c.play();
    }
    // The first consumer closes the second in the middle of fan-out.
    const [a, b, c] = consumers;
    const write = a.deliver.bind(a);
    a.deliver = (track, frame) => {
      write(track, frame);
      b.close();
    };
    driver.last.send(0);
    driver.last.send(0);
    assert.equal(a.received.length, 2);
    assert.equal(c.received.length, 2);
    assert.ok(b.received.length <= 1);
  });
});

describe('Stream publishers', () => {
  test('stream.addPublisher() returns a sink whose frames reach consumers, and the publisher and its readers leave when its connection closes', async () => {
    const stream = newStream([]);
    const conn = new FakeDriver([media(H264)]);
    const publisher = await conn.connect(() => undefined, new AbortController().signal);
    const sink = stream.addPublisher('rtsp://127.0.0.1/pushed', publisher);
    const c = new RecordingConsumer();
    await stream.addConsumer(c);
    c.play();
    sink(0, { pts: 0, dts: 0, keyframe: true, data: Buffer.alloc(10) });
    assert.equal(c.received.length, 1);
    assert.equal(stream.info().producers[0].publisher, true);
    publisher.close();
    assert.equal(stream.info().producers.length, 0);
    assert.equal(c.closed, true, 'its readers end with it');
    sink(0, { pts: 1, dts: 1, keyframe: true, data: Buffer.alloc(10) });
    assert.equal(c.received.length, 1, 'frames after close are ignored');
  });
});
