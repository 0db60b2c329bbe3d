import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { splitAnnexB } from '../../../src/codecs/avcc.ts';
import { readMp4, sampleFrame } from '../../../src/formats/mp4/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { AnnexBWriter, rawFormatOf } from '../../../src/protocols/snapshot/annexb.ts';
import { encodeJpeg, jpegArgs, scaleFilter } from '../../../src/protocols/snapshot/jpeg.ts';
import { JpegSplitter } from '../../../src/protocols/snapshot/jpeg-split.ts';
import { mjpegArgs } from '../../../src/protocols/snapshot/mjpeg.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

const DEMO = new URL('../../../assets/demo.mp4', import.meta.url).pathname;
const GLOBAL = '-hide_banner -nostdin -loglevel error';

/** A minimal JPEG-shaped picture: SOI, a body with stuffed 0xFF bytes, EOI. */
function jpeg(n: number): Buffer {
  return Buffer.from([0xff, 0xd8, 0xff, 0xe0, n, 0xff, 0x00, n, 0xff, 0xd9]);
}

let before: ResourceCounts;
beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  await assertNoLeaks(before);
});

describe('snapshots', { timeout: 15000 }, () => {
  test('jpegSplitter.push() returns whole pictures across any chunking, dropping garbage', () => {
    const stream = Buffer.concat([Buffer.from([1, 2, 3]), jpeg(1), jpeg(2), jpeg(3)]);
    for (const size of [1, 2, 3, 7, stream.length]) {
      const s = new JpegSplitter();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...s.push(stream.subarray(i, i + size)));
      assert.deepEqual(out, [jpeg(1), jpeg(2), jpeg(3)], `chunks of ${size}`);
      assert.equal(s.dropped, 3);
    }
  });

  test('jpegSplitter.push() drops a picture larger than its limit and finds the next', () => {
    const s = new JpegSplitter(64);
    const big = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(100, 1)]);
    assert.deepEqual(s.push(big), []);
    assert.deepEqual(s.push(Buffer.concat([Buffer.from([0xff, 0xd9]), jpeg(4)])), [jpeg(4)]);
    assert.ok(s.dropped >= 100);
  });

  test('jpegArgs() and mjpegArgs() read raw video from stdin and scale keeping the aspect ratio', () => {
    assert.equal(scaleFilter({}), undefined);
    assert.equal(scaleFilter({ width: 320 }), 'scale=320:-2');
    assert.equal(scaleFilter({ width: 320, height: 200 }), 'scale=320:200');
    const args = jpegArgs('ffmpeg', GLOBAL, 'hevc', { height: 90 }).join(' ');
    assert.equal(
      args,
      'ffmpeg -hide_banner -nostdin -loglevel error -f hevc -i - -frames:v 1 -vf scale=-2:90 -c:v mjpeg -q:v 4 -f image2pipe -',
    );
    assert.ok(mjpegArgs('ffmpeg', GLOBAL, 'h264').join(' ').includes('-f h264 -i - -fps_mode passthrough'));
    assert.equal(rawFormatOf({ name: 'OPUS', clockRate: 48000 }), undefined);
  });

  test("encodeJpeg() makes a 320-wide JPEG of the demo's first keyframe, with its parameter sets put in front", async () => {
    const file = readFileSync(DEMO);
    const mp4 = readMp4(file);
    const track = mp4.tracks.find((t) => t.kind === 'video')!;
    const frame = sampleFrame(file, track, track.samples[0]);
    assert.ok(frame.keyframe);
    const annexB = new AnnexBWriter(track.codec).write(frame);
    const types = splitAnnexB(annexB).map((n) => n[0] & 0x1f);
    assert.deepEqual(types.slice(0, 2), [7, 8], 'SPS and PPS first (from the avcC, not in the sample)');
    const out = await encodeJpeg(
      jpegArgs('ffmpeg', GLOBAL, 'h264', { width: 320 }),
      annexB,
      'test',
      silentLogger(),
    );
    assert.deepEqual([...out.subarray(0, 2)], [0xff, 0xd8]);
    const probe = execFileSync(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', '-'],
      {
        input: out,
        timeout: 10000,
      },
    ).toString();
    assert.equal(probe.trim(), 'mjpeg,320,180');
  });

  test("encodeJpeg() rejects with ffmpeg's stderr when the input is not a picture", async () => {
    await assert.rejects(
      encodeJpeg(jpegArgs('ffmpeg', GLOBAL, 'h264', {}), Buffer.from('not h264'), 'test', silentLogger()),
      /snapshot: ffmpeg exited with code \d+/,
    );
  });
});
