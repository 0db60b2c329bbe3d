import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { StreamRegistry } from '../../../src/core/registry.ts';
import { formatBitrate, streamGraph, toDot } from '../../../src/diag/dot.ts';
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

describe('dot', () => {
  test('toDot() draws sources -> tracks -> consumers in one cluster per stream', () => {
    const dot = toDot([
      {
        name: 'door',
        sources: [{ url: 'rtsp://cam/1', state: 'online', bitrate: 2_500_000, trackIds: [0, 1] }],
        tracks: [
          { id: 0, kind: 'video', codec: 'H264' },
          { id: 1, kind: 'audio', codec: 'OPUS' },
        ],
        consumers: [
          { id: 7, type: 'webrtc', remoteAddress: '10.0.0.5:5000', bitrate: 0, trackIds: [0, 1] },
          { id: 8, type: 'rtsp', bitrate: 320_000, trackIds: [0] },
        ],
      },
      { name: 'empty', sources: [], tracks: [], consumers: [] },
    ]);
    assert.equal(
      dot,
      [
        'digraph mediagate {',
        '  rankdir=LR;',
        '  node [shape=box, fontname="sans-serif", fontsize=10];',
        '  subgraph "cluster_0" {',
        '    label="door";',
        '    "s0_src0" [shape=ellipse, label="rtsp://cam/1\\nonline\\n2.5 Mbit/s"];',
        '    "s0_t0" [label="video H264"];',
        '    "s0_t1" [label="audio OPUS"];',
        '    "s0_c7" [shape=note, label="webrtc #7\\n10.0.0.5:5000"];',
        '    "s0_c8" [shape=note, label="rtsp #8\\n320 kbit/s"];',
        '    "s0_src0" -> "s0_t0";',
        '    "s0_src0" -> "s0_t1";',
        '    "s0_t0" -> "s0_c7";',
        '    "s0_t1" -> "s0_c7";',
        '    "s0_t0" -> "s0_c8";',
        '  }',
        '  subgraph "cluster_1" {',
        '    label="empty";',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  test('toDot() escapes quotes, backslashes and line breaks in names and URLs', () => {
    const dot = toDot([
      {
        name: 'a"b\\c',
        sources: [{ url: 'file:/x"\ny.mp4', state: 'idle', bitrate: 0, trackIds: [] }],
        tracks: [],
        consumers: [],
      },
    ]);
    assert.match(dot, /label="a\\"b\\\\c";/);
    assert.match(dot, /label="file:\/x\\"\\ny\.mp4\\nidle"/);
    assert.equal(dot.split('\n').length, 9, 'no raw line break inside a label');
  });

  test('formatBitrate() picks the unit', () => {
    assert.equal(formatBitrate(999), '999 bit/s');
    assert.equal(formatBitrate(64_000), '64 kbit/s');
    assert.equal(formatBitrate(4_200_000), '4.2 Mbit/s');
  });

  test("streamGraph() links a live stream's source tracks to its consumers, with bitrates from the sampler", async () => {
    ({ registry } = fakeRegistry());
    const stream = await registry.create('cam', ['fake://one']);
    const consumer = new RecordingConsumer([{ kind: 'audio', codecs: 'any' }]);
    consumer.remoteAddress = '127.0.0.1:9';
    await stream.addConsumer(consumer);
    consumer.play();
    const sampler = new StreamSampler(registry);
    sampler.sample(1000);
    consumer.counters.bytes += 125_000; // as if 1 s of 1 Mbit/s
    sampler.sample(2000);
    const g = streamGraph(stream);
    assert.deepEqual(g.tracks, [
      { id: 0, kind: 'video', codec: 'H264' },
      { id: 1, kind: 'audio', codec: 'OPUS' },
    ]);
    assert.deepEqual(g.sources[0].trackIds, [0, 1]);
    assert.equal(g.sources[0].state, 'online');
    assert.deepEqual(g.consumers, [
      { id: consumer.id, type: 'test', remoteAddress: '127.0.0.1:9', bitrate: 1_000_000, trackIds: [1] },
    ]);
    assert.equal(stream.info().consumers[0].bitrate, 1_000_000, '/api/streams shows the bitrate too');
    assert.match(toDot([g]), new RegExp(`"s0_t1" -> "s0_c${consumer.id}";`));
  });
});
