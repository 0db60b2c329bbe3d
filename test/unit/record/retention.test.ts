import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { segmentName, streamDirName } from '../../../src/protocols/record/naming.ts';
import { applyRetention, planRetention } from '../../../src/protocols/record/retention.ts';
import type { SegmentEntry } from '../../../src/protocols/record/store.ts';
import { allSegments, streamSegments } from '../../../src/protocols/record/store.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { files, tempDir } from './support.ts';

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

const NOW = Date.UTC(2024, 4, 10, 0, 0, 0);
const HOUR = 3600_000;
const DAY = 24 * HOUR;

function entry(stream: string, hoursAgo: number, bytes: number): SegmentEntry {
  const startMs = NOW - hoursAgo * HOUR;
  const name = segmentName(startMs);
  return { stream, name, path: `/rec/${stream}/${name}`, startMs, bytes, mtimeMs: startMs };
}

const label = (list: SegmentEntry[]) => list.map((s) => `${s.stream}@${(NOW - s.startMs) / HOUR}h`);

test('planRetention() deletes segments older than the age, a stream with its own age following that one', () => {
  const segs = [entry('a', 50, 1), entry('a', 30, 1), entry('a', 1, 1), entry('b', 50, 1), entry('b', 30, 1)];
  const plan = planRetention(segs, NOW, { maxAgeMs: DAY }, (s) => (s === 'b' ? { maxAgeMs: 2 * DAY } : {}));
  assert.deepEqual(label(plan), ['a@50h', 'b@50h', 'a@30h']);
  assert.deepEqual(planRetention(segs, NOW, {}), [], 'no rule, nothing deleted');
});

test('planRetention() trims a stream to its own size and the whole folder to the global size, oldest first across streams', () => {
  const segs = [
    entry('a', 5, 100),
    entry('b', 4, 100),
    entry('a', 3, 100),
    entry('b', 2, 100),
    entry('a', 1, 100),
    entry('b', 0, 100),
  ];
  // b may keep 150 bytes: its two oldest go. Then 400 bytes are left over 250 allowed: a@5h, a@3h go.
  const plan = planRetention(segs, NOW, { maxBytes: 250 }, (s) => (s === 'b' ? { maxBytes: 150 } : {}));
  assert.deepEqual(label(plan), ['a@5h', 'b@4h', 'a@3h', 'b@2h']);
  const kept = segs.filter((s) => !plan.includes(s));
  assert.ok(kept.reduce((n, s) => n + s.bytes, 0) <= 250);
});

test('applyRetention() deletes old and excess segments on disk and never touches parts or other files', async () => {
  const write = (stream: string, hoursAgo: number, bytes: number) => {
    const dir = join(tmp.dir, streamDirName(stream));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, segmentName(NOW - hoursAgo * HOUR)), Buffer.alloc(bytes));
  };
  write('door', 200, 10); // too old
  write('door', 3, 1000);
  write('door', 2, 1000);
  write('yard/cam', 1, 1000);
  const door = join(tmp.dir, 'door');
  writeFileSync(join(door, `.${segmentName(NOW - 300 * HOUR)}.part`), Buffer.alloc(5000));
  writeFileSync(join(door, 'notes.txt'), Buffer.alloc(5000));
  mkdirSync(join(tmp.dir, 'not%zzdecodable'));
  writeFileSync(join(tmp.dir, 'not%zzdecodable', segmentName(NOW - 300 * HOUR)), 'x');

  assert.equal((await allSegments(tmp.dir)).length, 4);
  const result = await applyRetention(tmp.dir, NOW, { maxAgeMs: 7 * DAY, maxBytes: 2000 });
  assert.deepEqual(
    result.deleted.map((s) => [s.stream, s.bytes]),
    [
      ['door', 10],
      ['door', 1000],
    ],
  );
  assert.deepEqual(result.failed, []);
  assert.deepEqual(files(door), [
    `.${segmentName(NOW - 300 * HOUR)}.part`,
    segmentName(NOW - 2 * HOUR),
    'notes.txt',
  ]);
  assert.deepEqual(
    (await streamSegments(tmp.dir, 'yard/cam')).map((s) => s.bytes),
    [1000],
  );
  assert.equal(files(join(tmp.dir, 'not%zzdecodable')).length, 1);
  assert.deepEqual(await applyRetention(join(tmp.dir, 'missing'), NOW, { maxAgeMs: 1 }), {
    deleted: [],
    failed: [],
  });
});
