import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { joinAvcc, splitAvcc } from '../../../src/codecs/avcc.ts';
import { Stream } from '../../../src/core/stream.ts';
import { parseAvcC } from '../../../src/formats/mp4/index.ts';
import { nodeFs } from '../../../src/protocols/record/fs.ts';
import { parseSegmentName, segmentName } from '../../../src/protocols/record/naming.ts';
import { Recorder } from '../../../src/protocols/record/recorder.ts';
import { FakeDriver } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { AVCC_HIGH_360 } from '../codecs/fixtures.ts';
import {
  DEMO_AUDIO,
  DEMO_VIDEO,
  demoFrames,
  demoTracks,
  feed,
  files,
  GatedFs,
  readSegment,
  recorderOn,
  tempDir,
} from './support.ts';

let before: ResourceCounts;
let tmp: ReturnType<typeof tempDir>;
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

beforeEach(() => {
  before = activeResources();
  tmp = tempDir();
});
afterEach(async () => {
  tmp.remove();
  await assertNoLeaks(before);
});

const close = async (r: Recorder) => {
  r.close();
  await r.writer.idle();
};

describe('Recorder', () => {
  test('recorder.deliver() cuts a segment at the first keyframe after the segment length, each file starting at 0 with its own init segment', async () => {
    const tracks = demoTracks();
    const r = recorderOn([tracks.video, tracks.audio], { dir: tmp.dir, segmentSeconds: 2.5, now: () => T0 });
    feed(tracks, demoFrames(0, 7.5));
    await close(r);
    const names = files(tmp.dir);
    assert.equal(names.length, 3, `three segments: ${names}`);
    assert.ok(
      names.every((n) => parseSegmentName(n) !== undefined),
      'finished names only, no .part',
    );
    const segs = names.map((n) => readSegment(join(tmp.dir, n)));
    // Keyframes come every second: 2.5 s elapse, the cut waits for the keyframe at 3 s. The last
    // frame, flushed at close, lasts as long as the one before it (40 ms).
    assert.deepEqual(
      segs.map((s) => s.duration),
      [3, 3, 1.52],
    );
    for (const s of segs) {
      assert.deepEqual(s.top.slice(0, 2), ['ftyp', 'moov']);
      assert.equal(s.fragments[0].sequence, 1, 'a fresh muxer per file');
      assert.equal(s.fragments[0].firstSync, true, 'starts with a keyframe');
      assert.equal(s.fragments[0].baseDts.get(1), 0, 'video timeline from 0');
      assert.ok(Math.abs(s.leadEnd - (s.duration ?? 0)) < 1e-6, 'mehd says what the fragments hold');
      assert.deepEqual(s.tracks, [1, 2]);
    }
    assert.equal(r.segments, 3);
    assert.equal(r.counters.drops, 0);
  });

  test('recorder.deliver() names each segment by the UTC wall-clock time of its first frame, dating a replayed GOP back', async () => {
    const tracks = demoTracks();
    // The stream is running: 0.2 s of the current GOP are cached when the recorder joins.
    feed(tracks, demoFrames(0, 1.2));
    let now = T0;
    const r = recorderOn([tracks.video, tracks.audio], { dir: tmp.dir, segmentSeconds: 1, now: () => now });
    now = T0 + 1000;
    feed(tracks, demoFrames(1.2, 2.5));
    await close(r);
    assert.deepEqual(files(tmp.dir), [segmentName(T0 - 160), segmentName(T0 + 1000)]);
    assert.equal(segmentName(T0 - 160), '2024-05-01T11-59-59.840.mp4');
  });

  test('recorder.deliver() starts a new segment when the timestamps jump ahead, ending the old one without stretching its last frame', async () => {
    const tracks = demoTracks();
    const r = recorderOn([tracks.video, tracks.audio], { dir: tmp.dir, segmentSeconds: 60 });
    feed(tracks, demoFrames(0, 2));
    feed(tracks, demoFrames(2, 4, 5)); // 5 s missing, as after a reconnect
    await close(r);
    const segs = files(tmp.dir).map((n) => readSegment(join(tmp.dir, n)));
    assert.deepEqual(
      segs.map((s) => s.duration),
      [2, 2],
    );
  });

  test('recorder.deliver() ignores a pause of the audio alone (silence suppression) that resumes where the video is', async () => {
    const tracks = demoTracks();
    const r = recorderOn([tracks.video, tracks.audio], { dir: tmp.dir, segmentSeconds: 60 });
    feed(
      tracks,
      demoFrames(0, 4).filter((t) => t.kind === 'video' || t.time < 1 || t.time > 3),
    );
    await close(r);
    assert.equal(files(tmp.dir).length, 1);
  });

  test('recorder.deliver() starts a new segment when the source reconnects (the stream rebases its timestamps)', async () => {
    const driver = new FakeDriver([
      { kind: 'video', direction: 'recvonly', codecs: [DEMO_VIDEO.codec] },
      { kind: 'audio', direction: 'recvonly', codecs: [DEMO_AUDIO.codec] },
    ]);
    const stream = new Stream('cam', [{ url: 'fake://cam', driver }], {
      idleTimeoutMs: 50,
      minBackoffMs: 10,
    });
    try {
      const r = new Recorder({ stream: 'cam', dir: tmp.dir, segmentSeconds: 60, fs: nodeFs });
      await stream.addConsumer(r);
      r.play();
      const send = (from: number, to: number) => {
        for (const t of demoFrames(from, to)) driver.last.send(t.kind === 'video' ? 0 : 1, t.frame);
      };
      send(0, 2); // 2 s of media in no time: the next connection is rebased to "now", back in time
      const first = driver.last;
      first.fail();
      for (let i = 0; i < 100 && driver.last === first; i++) await sleep(5);
      assert.notEqual(driver.last, first, 'reconnected');
      send(0, 2);
      await close(r);
      const segs = files(tmp.dir).map((n) => readSegment(join(tmp.dir, n)));
      assert.deepEqual(
        segs.map((s) => s.duration),
        [2, 2],
      );
    } finally {
      stream.close();
    }
  });

  test('recorder.deliver() starts a new segment when a keyframe brings new parameter sets', async () => {
    const tracks = demoTracks();
    const r = recorderOn([tracks.video, tracks.audio], { dir: tmp.dir, segmentSeconds: 60 });
    const { sps, pps } = parseAvcC(AVCC_HIGH_360);
    const frames = demoFrames(0, 3).map((t) => {
      if (t.kind !== 'video' || !t.frame.keyframe || t.time < 2) return t;
      const nals = splitAvcc(t.frame.data).filter((n) => ![7, 8].includes(n[0] & 0x1f));
      return { ...t, frame: { ...t.frame, data: joinAvcc([sps[0], pps[0], ...nals]) } };
    });
    feed(tracks, frames);
    await close(r);
    const segs = files(tmp.dir).map((n) => readSegment(join(tmp.dir, n)));
    assert.equal(segs.length, 2);
    assert.equal(segs[0].duration, 2);
    assert.equal(segs[1].fragments[0].baseDts.get(1), 0);
    assert.notEqual(segs[0].avcC, segs[1].avcC, 'the second file has the new SPS');
    assert.ok(segs[1].avcC.startsWith('0164001e'), 'high profile');
  });

  test('recorder.close() finishes the open segment: the .part becomes the segment, with its last frame flushed', async () => {
    const tracks = demoTracks();
    const r = recorderOn([tracks.video, tracks.audio], { dir: tmp.dir, segmentSeconds: 60 });
    feed(tracks, demoFrames(0, 0.5));
    assert.match(files(tmp.dir).join(), /^$|\.part$/, 'only a .part while recording');
    await close(r);
    const names = files(tmp.dir);
    assert.equal(names.length, 1);
    assert.equal(readSegment(join(tmp.dir, names[0])).duration, 0.52);
  });

  test('recorder.deliver() drops frames while the disk is slow instead of queueing them, and resumes video at a keyframe', async () => {
    const fs = new GatedFs();
    const tracks = demoTracks();
    const r = recorderOn([tracks.video, tracks.audio], { dir: tmp.dir, segmentSeconds: 60, fs });
    r.maxBacklogBytes = 64 * 1024;
    feed(tracks, demoFrames(0, 0.1));
    await sleep(20); // the file is open
    fs.hold();
    feed(tracks, demoFrames(0.1, 3.3));
    assert.ok(r.counters.drops > 0, 'frames were dropped');
    const queued = r.writer.queuedBytes;
    assert.ok(queued <= r.maxBacklogBytes + 64 * 1024, `backlog bounded: ${queued} bytes queued`);
    fs.release();
    await sleep(20);
    feed(tracks, demoFrames(3.3, 4.5));
    await close(r);
    const segs = files(tmp.dir).map((n) => readSegment(join(tmp.dir, n)));
    assert.ok(segs.length >= 1);
    for (const s of segs) assert.equal(s.fragments[0].firstSync, true, 'every file starts at a keyframe');
  });

  test('recorder.deliver() closes with the error when a write fails (disk full) and leaves the .part for repair', async () => {
    const fs = new GatedFs();
    const tracks = demoTracks();
    const errors: (string | undefined)[] = [];
    const r = recorderOn([tracks.video, tracks.audio], {
      dir: tmp.dir,
      segmentSeconds: 1,
      fs,
      onWriteError: (_err, part) => errors.push(part),
    });
    let closedWith: Error | undefined;
    let closes = 0;
    r.on('close', (err) => {
      closes++;
      closedWith = err;
    });
    feed(tracks, demoFrames(0, 1.5));
    await r.writer.idle();
    fs.failWith = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    feed(tracks, demoFrames(1.5, 2));
    await r.writer.idle();
    assert.equal(r.closed, true);
    assert.equal(closes, 1, 'close fires once');
    assert.match(String(closedWith?.message), /ENOSPC/);
    const names = files(tmp.dir);
    assert.equal(names.filter((n) => n.endsWith('.mp4')).length, 1, 'the first segment is finished');
    assert.equal(names.filter((n) => n.endsWith('.part')).length, 1);
    assert.deepEqual(errors, [join(tmp.dir, names.find((n) => n.endsWith('.part'))!)]);
    feed(tracks, demoFrames(2, 3)); // nothing more is written or thrown
  });
});
