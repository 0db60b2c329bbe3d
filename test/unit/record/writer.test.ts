import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { skipBytes } from '../../../src/protocols/record/fs.ts';
import { type FinishedSegment, SegmentWriter } from '../../../src/protocols/record/writer.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { files, GatedFs, tempDir } from './support.ts';

let before: ResourceCounts;
let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  before = activeResources();
  tmp = tempDir();
});
afterEach(async () => {
  tmp.remove();
  await assertNoLeaks(before);
});

const NAME = '2024-05-01T12-00-00.000.mp4';

test('writer.write() counts queued bytes until they are on disk and sends what queued up meanwhile as one writev', async () => {
  const fs = new GatedFs();
  const finished: FinishedSegment[] = [];
  const w = new SegmentWriter(fs, { onFinished: (s) => finished.push(s) });
  w.open(tmp.dir, NAME);
  w.write(Buffer.from('aaaa'));
  await new Promise((r) => setTimeout(r, 20));
  fs.hold();
  w.write(Buffer.from('bb'));
  await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 10; i++) w.write(Buffer.from('c'));
  assert.equal(w.queuedBytes, 12, 'the batch being written counts until it is done');
  fs.release();
  w.finish(1.5, { data: Buffer.from('XY'), at: 1 });
  await w.idle();
  assert.equal(w.queuedBytes, 0);
  assert.equal(fs.appends, 3, 'aaaa, bb, then the ten c in one writev');
  assert.equal(readFileSync(join(tmp.dir, NAME), 'latin1'), 'aXYabbcccccccccc');
  assert.deepEqual(files(tmp.dir), [NAME]);
  assert.deepEqual(finished, [
    { dir: tmp.dir, name: NAME, path: join(tmp.dir, NAME), duration: 1.5, bytes: 16 },
  ]);
});

test('writer.discard() removes the part file, and a failed writer drops everything after the error', async () => {
  const fs = new GatedFs();
  const errors: Error[] = [];
  const w = new SegmentWriter(fs, { onError: (e) => errors.push(e) });
  w.open(tmp.dir, NAME);
  w.write(Buffer.from('x'));
  w.discard();
  await w.idle();
  assert.deepEqual(files(tmp.dir), []);
  w.write(Buffer.from('no file open'));
  w.open(tmp.dir, NAME); // never runs: the writer failed on the write above
  await w.idle();
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /without an open segment/);
  assert.equal(w.queuedBytes, 0);
  assert.deepEqual(files(tmp.dir), []);
});

test('skipBytes() continues a short writev inside a buffer', () => {
  const bufs = [Buffer.from('abc'), Buffer.from('de'), Buffer.from('f')];
  assert.deepEqual(
    skipBytes(bufs, 4).map((b) => b.toString()),
    ['e', 'f'],
  );
  assert.deepEqual(skipBytes(bufs, 6), []);
  assert.deepEqual(
    skipBytes(bufs, 0).map((b) => b.toString()),
    ['abc', 'de', 'f'],
  );
});
