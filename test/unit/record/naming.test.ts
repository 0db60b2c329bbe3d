import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseSegmentName,
  partName,
  segmentName,
  segmentOfPart,
  streamDir,
  streamDirName,
  streamOfDirName,
} from '../../../src/protocols/record/naming.ts';

test('segmentName() writes the UTC start time with dashes and milliseconds, and parseSegmentName() reads it back', () => {
  const t = Date.UTC(2024, 4, 1, 12, 3, 4, 56);
  assert.equal(segmentName(t), '2024-05-01T12-03-04.056.mp4');
  assert.equal(parseSegmentName('2024-05-01T12-03-04.056.mp4'), t);
  // Sorting the names sorts by time.
  const names = [t + 1000, t, t + 1].map(segmentName).sort();
  assert.deepEqual(names.map(parseSegmentName), [t, t + 1, t + 1000]);
});

test('parseSegmentName() refuses every name the recorder does not write: other patterns, impossible dates, path tricks', () => {
  for (const name of [
    '',
    'x.mp4',
    '2024-05-01T12-03-04.mp4',
    '2024-05-01T12:03:04.056.mp4',
    '2024-02-31T12-03-04.056.mp4',
    '2024-05-01T12-03-04.056.mp4.part',
    '.2024-05-01T12-03-04.056.mp4.part',
    '../2024-05-01T12-03-04.056.mp4',
    '2024-05-01T12-03-04.056.mp4/..',
    '2024-05-01T12-03-04.056.MP4',
  ]) {
    assert.equal(parseSegmentName(name), undefined, name);
  }
});

test('partName() hides a segment being written and segmentOfPart() maps it back', () => {
  assert.equal(partName('2024-05-01T12-03-04.056.mp4'), '.2024-05-01T12-03-04.056.mp4.part');
  assert.equal(segmentOfPart('.2024-05-01T12-03-04.056.mp4.part'), '2024-05-01T12-03-04.056.mp4');
  assert.equal(segmentOfPart('2024-05-01T12-03-04.056.mp4'), undefined);
  assert.equal(segmentOfPart('.other.part'), undefined);
});

test('streamDirName() makes one path component of any stream name, never . or .., and streamOfDirName() reverses it', () => {
  const cases: [string, string][] = [
    ['demo', 'demo'],
    ['..', '%2E.'],
    ['.hidden', '%2Ehidden'],
    ['a/b', 'a%2Fb'],
    ['cam 1:main', 'cam%201%3Amain'],
    ['~x@y+z', '~x%40y%2Bz'],
  ];
  for (const [stream, dir] of cases) {
    assert.equal(streamDirName(stream), dir);
    assert.equal(streamOfDirName(dir), stream);
    assert.ok(!dir.includes('/') && dir !== '.' && dir !== '..');
  }
  assert.equal(streamDir('/rec', '../etc'), '/rec/%2E.%2Fetc');
  assert.equal(streamOfDirName('%zz'), undefined, 'not decodable');
  assert.equal(streamOfDirName('a%2fb'), undefined, 'not what streamDirName() writes');
});
