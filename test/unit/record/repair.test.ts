import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { readBoxes } from '../../../src/formats/mp4/box.ts';
import { readRecordingDuration } from '../../../src/protocols/record/mp4-file.ts';
import { partName } from '../../../src/protocols/record/naming.ts';
import { repairAll, repairPart } from '../../../src/protocols/record/repair.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { demoFrames, demoTracks, feed, files, readSegment, recorderOn, tempDir } from './support.ts';

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

/** A finished 2 s segment as the recorder writes it. */
async function recorded(): Promise<Buffer> {
  const dir = join(tmp.dir, 'src');
  const tracks = demoTracks();
  const r = recorderOn([tracks.video, tracks.audio], { dir, segmentSeconds: 60 });
  feed(tracks, demoFrames(0, 2));
  r.close();
  await r.writer.idle();
  return readFileSync(join(dir, files(dir)[0]));
}

/** What a crash leaves: the first `bytes` of the file, with the mehd still 0. */
function crashed(full: Buffer, bytes: number, dir = tmp.dir, name = NAME): string {
  const buf = Buffer.from(full.subarray(0, bytes));
  const mehd = full.indexOf('mehd');
  if (mehd > 0 && mehd + 16 <= buf.length) buf.writeBigUInt64BE(0n, mehd + 8);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, partName(name));
  writeFileSync(path, buf);
  return path;
}

test('repairPart() cuts a fragment torn by a crash, writes the duration of what is left and renames the part to its segment', async () => {
  const full = await recorded();
  const top = readBoxes(full, 0, full.length);
  const mdats = top.filter((b) => b.type === 'mdat');
  const lastKept = mdats[mdats.length - 3];
  const torn = mdats[mdats.length - 2].start + 10; // inside the next-to-last fragment's mdat
  const part = crashed(full, torn);
  assert.equal(readRecordingDuration(readFileSync(part)), undefined, 'a part says nothing yet');
  const result = await repairPart(part);
  assert.equal(result.action, 'repaired', result.reason);
  assert.equal(result.segment, join(tmp.dir, NAME));
  assert.equal(result.bytes, lastKept.end);
  assert.equal(result.truncated, torn - lastKept.end);
  assert.deepEqual(
    files(tmp.dir).filter((n) => n !== 'src'),
    [NAME],
  );
  const seg = readSegment(join(tmp.dir, NAME));
  assert.equal(seg.top.at(-1), 'mdat');
  assert.ok(Math.abs((seg.duration ?? 0) - seg.leadEnd) < 1e-3, `${seg.duration} vs ${seg.leadEnd}`);
  assert.ok(seg.leadEnd > 1.8 && seg.leadEnd < 2, `${seg.leadEnd} s kept`);
});

test('repairPart() keeps a part that ends exactly after a whole fragment as it is', async () => {
  const full = await recorded();
  const part = crashed(full, full.length);
  const result = await repairPart(part);
  assert.equal(result.action, 'repaired');
  assert.equal(result.truncated, 0);
  assert.equal(readSegment(join(tmp.dir, NAME)).duration, 2);
});

test('repairPart() removes a part without a single complete fragment: empty, torn moov, init only, torn first fragment', async () => {
  const full = await recorded();
  const top = readBoxes(full, 0, full.length);
  const moov = top.find((b) => b.type === 'moov')!;
  const firstMdat = top.find((b) => b.type === 'mdat')!;
  for (const [what, bytes] of [
    ['empty', 0],
    ['torn moov', moov.start + 20],
    ['init only', moov.end],
    ['torn first fragment', firstMdat.end - 1],
  ] as const) {
    const part = crashed(full, bytes);
    const result = await repairPart(part);
    assert.equal(result.action, 'removed', what);
    assert.ok(result.reason, what);
    assert.deepEqual(
      files(tmp.dir).filter((n) => n !== 'src'),
      [],
      what,
    );
  }
});

test('repairAll() repairs the parts of every stream folder, leaves other files alone and never overwrites a segment', async () => {
  const full = await recorded();
  const a = join(tmp.dir, 'a');
  const b = join(tmp.dir, 'b');
  crashed(full, full.length, a);
  crashed(full, full.length, b, '2024-05-01T13-00-00.000.mp4');
  writeFileSync(join(b, '2024-05-01T13-00-00.000.mp4'), 'an existing segment');
  writeFileSync(join(b, 'notes.part'), 'not ours');
  const results = await repairAll(tmp.dir);
  assert.deepEqual(results.map((r) => r.action).sort(), ['removed', 'repaired']);
  assert.deepEqual(files(a), [NAME]);
  assert.deepEqual(files(b), ['2024-05-01T13-00-00.000.mp4', 'notes.part']);
  assert.equal(readFileSync(join(b, '2024-05-01T13-00-00.000.mp4'), 'latin1'), 'an existing segment');
  assert.deepEqual(await repairAll(join(tmp.dir, 'missing')), []);
});
