import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Frame } from '../../../src/core/media.ts';
import { DEMO_FILE } from '../../../src/gateway.ts';
import { fileSourceFactory } from '../../../src/protocols/file/source.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

let before: ResourceCounts;
beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  await assertNoLeaks(before);
});
const dir = mkdtempSync(join(tmpdir(), 'mediagate-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(url: string, ms: number): Promise<{ medias: string[]; frames: Frame[][] }> {
  const frames: Frame[][] = [[], []];
  const conn = await fileSourceFactory(url).connect(
    (i, f) => frames[i].push(f),
    new AbortController().signal,
  );
  await sleep(ms);
  conn.close();
  conn.close();
  return { medias: conn.medias.map((m) => `${m.kind}:${m.codecs[0].name}`), frames };
}

test('fileSourceFactory() plays the demo clip in real time: H.264 from a keyframe at 25 fps and Opus', async () => {
  const { medias, frames } = await collect(`file:${DEMO_FILE}`, 1000);
  assert.deepEqual(medias, ['video:H264', 'audio:OPUS']);
  const [video, audio] = frames;
  assert.equal(video[0].keyframe, true);
  assert.ok(video.length >= 22 && video.length <= 28, `${video.length} video frames in 1 s`);
  assert.ok(audio.length >= 44 && audio.length <= 56, `${audio.length} audio frames in 1 s`);
  for (let i = 1; i < video.length; i++)
    assert.equal(video[i].dts - video[i - 1].dts, 3600, '90 kHz / 25 fps');
  assert.equal(video[0].data.readUInt32BE(0) + 4 <= video[0].data.length, true, 'AVCC length prefix');
});

test('fileSourceFactory() loops a file with continuous timestamps', {
  skip: !hasFfmpeg() && 'ffmpeg missing',
}, async () => {
  const clip = join(dir, 'short.mp4');
  const r = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=160x120:rate=10',
    '-t',
    '0.5',
    '-c:v',
    'libx264',
    '-g',
    '5',
    '-bf',
    '0',
    clip,
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  const { frames } = await collect(`file:${clip}`, 1300);
  const video = frames[0];
  assert.ok(video.length >= 12, `${video.length} frames over two loops`);
  for (let i = 1; i < video.length; i++)
    assert.equal(video[i].dts - video[i - 1].dts, 9000, `frame ${i} continues`);
});

test('fileSourceFactory().connect() rejects a missing or non-MP4 file with a message naming it', async () => {
  const signal = new AbortController().signal;
  await assert.rejects(
    fileSourceFactory('file:/nowhere/x.mp4').connect(() => undefined, signal),
    /nowhere\/x.mp4/,
  );
  await assert.rejects(
    fileSourceFactory(`file:${import.meta.filename}`).connect(() => undefined, signal),
    /not a playable MP4/,
  );
});

function hasFfmpeg(): boolean {
  return spawnSync('ffmpeg', ['-version']).status === 0;
}
