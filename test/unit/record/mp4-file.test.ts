import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readBoxes } from '../../../src/formats/mp4/box.ts';
import { initSegment, readMp4 } from '../../../src/formats/mp4/index.ts';
import {
  durationField,
  readMoov,
  readRecordingDuration,
  recordingInit,
} from '../../../src/protocols/record/mp4-file.ts';
import { DEMO_AUDIO, DEMO_VIDEO } from './support.ts';

const INIT = initSegment([
  { ...DEMO_VIDEO, id: 1, timescale: 90000 },
  { ...DEMO_AUDIO, id: 2 },
]);

test('recordingInit() adds an empty 64-bit mehd as the first child of mvex and keeps every other byte and size right', () => {
  const rec = recordingInit(INIT);
  assert.equal(rec.data.length, INIT.length + 20);
  assert.equal(rec.timescale, 1000);
  const moov = readBoxes(rec.data, 0, rec.data.length).find((b) => b.type === 'moov')!;
  assert.equal(moov.end, rec.data.length);
  const info = readMoov(rec.data, moov);
  assert.deepEqual(
    [...info.tracks],
    [
      [1, 90000],
      [2, 48000],
    ],
  );
  assert.equal(info.durationAt, rec.durationOffset);
  assert.equal(info.duration, undefined, 'still 0');
  const file = readMp4(rec.data);
  assert.equal(file.fragmented, true);
  assert.deepEqual(
    file.tracks.map((t) => t.codec.name),
    ['H264', 'OPUS'],
  );
  assert.equal(recordingInit(INIT), rec, 'cached per init buffer');
  assert.equal(rec.data.toString('latin1', rec.durationOffset - 8, rec.durationOffset - 4), 'mehd');
});

test('readRecordingDuration() reads the duration written at durationOffset from the head of a file, and nothing from other data', () => {
  const rec = recordingInit(INIT);
  const file = Buffer.from(rec.data);
  durationField(9.96, rec.timescale).copy(file, rec.durationOffset);
  assert.equal(readRecordingDuration(file), 9.96);
  assert.equal(readRecordingDuration(Buffer.concat([file, Buffer.alloc(100)])), 9.96, 'fragments may follow');
  assert.equal(readRecordingDuration(rec.data), undefined, 'a segment being written');
  assert.equal(readRecordingDuration(INIT), undefined, 'no mehd');
  assert.equal(readRecordingDuration(file.subarray(0, 100)), undefined, 'moov cut off');
  assert.equal(readRecordingDuration(Buffer.from('not an mp4 at all')), undefined);
  assert.equal(readRecordingDuration(Buffer.alloc(0)), undefined);
});
