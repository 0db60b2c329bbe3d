import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { joinAvcc } from '../../../src/codecs/avcc.ts';
import { UnsupportedError } from '../../../src/core/errors.ts';
import type { Codec, Frame } from '../../../src/core/media.ts';
import { StreamTrack } from '../../../src/core/track.ts';
import { findChild, readBoxes } from '../../../src/formats/mp4/box.ts';
import { readMp4, sampleFrame } from '../../../src/formats/mp4/index.ts';
import { type Fmp4Chunk, type Fmp4Fragment, Fmp4Muxer } from '../../../src/protocols/mp4/muxer.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { H265_SAMPLES } from '../codecs/fixtures.ts';
import { parseFragment } from '../mp4/fmp4-parse.ts';

const DEMO_PATH = new URL('../../../assets/demo.mp4', import.meta.url).pathname;
const DEMO = readFileSync(DEMO_PATH);
const DEMO_FILE = readMp4(DEMO);
const [DEMO_VIDEO, DEMO_AUDIO] = DEMO_FILE.tracks;
/** SPS and PPS of the demo clip, from its avcC. */
const SPROP = DEMO_VIDEO.codec.fmtp?.['sprop-parameter-sets'] ?? '';
const [SPS, PPS] = SPROP.split(',').map((b) => Buffer.from(b, 'base64'));

const SYNC = 0x02000000;
const NON_SYNC = 0x01010000;
const OPUS: Codec = { name: 'OPUS', clockRate: 48000, channels: 2 };
/** A one-frame Opus packet (TOC config 11: SILK WB 20 ms, code 0). */
const OPUS_PACKET = Buffer.from([0x58, 1, 2, 3]);

let before: ResourceCounts;
beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  await assertNoLeaks(before);
});

function video(fmtp?: Record<string, string>, name: 'H264' | 'H265' = 'H264'): StreamTrack {
  return new StreamTrack(0, { name, clockRate: 90000, fmtp });
}

/** An H.264 access unit: an IDR slice (type 5) or a non-IDR slice (type 1). */
function slice(keyframe: boolean, extra: Buffer[] = []): Buffer {
  return joinAvcc([...extra, Buffer.from([keyframe ? 0x65 : 0x41, 0x88, 0x84, keyframe ? 1 : 2])]);
}

function frame(dts: number, keyframe: boolean, data = slice(keyframe), pts = dts): Frame {
  return { dts, pts, keyframe, data };
}

const fragments = (chunks: Fmp4Chunk[]) => chunks.filter((c): c is Fmp4Fragment => c.type === 'fragment');

describe('Fmp4Muxer', () => {
  test('muxer.push() waits for the first video keyframe, dropping earlier video and audio, then emits the init segment', () => {
    const v = video({ 'sprop-parameter-sets': SPROP });
    const a = new StreamTrack(1, OPUS);
    const mux = new Fmp4Muxer([v, a]);
    assert.deepEqual(mux.push(v, frame(1000, false)), []);
    assert.deepEqual(mux.push(a, frame(500, true, OPUS_PACKET)), []);
    const out = mux.push(v, frame(4600, true));
    assert.equal(out.length, 1);
    const init = out[0];
    assert.equal(init.type, 'init');
    assert.equal(init.mime, 'video/mp4; codecs="avc1.4d401e,opus"');
    assert.equal(init.width, 640);
    assert.equal(init.height, 360);
    assert.deepEqual(
      readBoxes(init.data, 0, init.data.length).map((b) => b.type),
      ['ftyp', 'moov'],
    );
    assert.equal(mux.started, true);
    assert.equal(mux.init, init);
  });

  test('muxer.push() writes one fragment per video frame with the duration to the next dts, times rebased to 0 and keyframe flags', () => {
    const v = video({ 'sprop-parameter-sets': SPROP });
    const mux = new Fmp4Muxer([v]);
    const out = [
      ...mux.push(v, frame(90_000, true)),
      ...mux.push(v, frame(93_600, false)),
      ...mux.push(v, frame(97_200, false)),
      ...mux.push(v, frame(99_000, true)),
    ];
    const frags = fragments(out);
    assert.equal(frags.length, 3, 'the last frame waits for its successor');
    assert.deepEqual(
      frags.map((f) => [f.sequence, f.keyframe, f.time, f.duration]),
      [
        [1, true, 0, 0.04],
        [2, false, 0.04, 0.04],
        [3, false, 0.08, 0.02],
      ],
    );
    const parsed = frags.map((f) => parseFragment(f.data));
    assert.deepEqual(
      parsed.map((p) => [p.sequence, p.trafs[0].id, p.trafs[0].baseDts]),
      [
        [1, 1, 0],
        [2, 1, 3600],
        [3, 1, 7200],
      ],
    );
    assert.deepEqual(
      parsed.map((p) => p.trafs[0].samples.map((s) => [s.duration, s.flags])),
      [[[3600, SYNC]], [[3600, NON_SYNC]], [[1800, NON_SYNC]]],
    );
    assert.deepEqual(parsed[0].trafs[0].samples[0].data, slice(true));
  });

  test('muxer.push() groups the audio frames ready by then into the next video fragment, on a common time base', () => {
    const v = video({ 'sprop-parameter-sets': SPROP });
    const a = new StreamTrack(1, OPUS);
    const mux = new Fmp4Muxer([v, a]);
    // Video keyframe at 1 s (90 kHz), audio from 1.01 s (48 kHz) every 20 ms.
    mux.push(v, frame(90_000, true));
    const out: Fmp4Chunk[] = [];
    for (let i = 0; i < 3; i++) out.push(...mux.push(a, frame(48_480 + i * 960, true, OPUS_PACKET)));
    assert.equal(out.length, 0, 'audio waits for the video fragment');
    out.push(...mux.push(v, frame(93_600, false)));
    const [frag] = fragments(out);
    const p = parseFragment(frag.data);
    assert.deepEqual(
      p.trafs.map((t) => [t.id, t.baseDts, t.samples.map((s) => [s.duration, s.flags])]),
      [
        [1, 0, [[3600, SYNC]]],
        [
          2,
          480, // 10 ms after the keyframe, in 48 kHz
          [
            [960, SYNC],
            [960, SYNC],
          ],
        ],
      ],
    );
  });

  test('muxer.push() writes composition offsets for B-frames (pts after dts)', () => {
    const v = video({ 'sprop-parameter-sets': SPROP });
    const mux = new Fmp4Muxer([v]);
    mux.push(v, frame(0, true, slice(true), 3600));
    const [f] = fragments(mux.push(v, frame(3600, false, slice(false), 10_800)));
    assert.equal(parseFragment(f.data).trafs[0].samples[0].cto, 3600);
  });

  test('muxer.push() takes SPS and PPS from the first keyframe when the source gives no sprop-parameter-sets', () => {
    const v = video(undefined);
    const mux = new Fmp4Muxer([v]);
    assert.deepEqual(mux.push(v, frame(0, true)), [], 'a keyframe without parameter sets cannot start');
    const [init] = mux.push(v, frame(3600, true, slice(true, [SPS, PPS])));
    assert.equal(init.type, 'init');
    assert.equal(init.mime, 'video/mp4; codecs="avc1.4d401e"');
    assert.equal(init.width, 640);
    assert.ok(findChild(init.data, readBoxes(init.data, 0, init.data.length)[1], 'trak'), 'moov has a trak');
    assert.ok(init.data.includes(SPS), 'the avcC carries the in-band SPS');
  });

  test('muxer.push() emits a new init segment when a keyframe brings other parameter sets, after the last fragment of the old ones', () => {
    const v = video({ 'sprop-parameter-sets': SPROP });
    const mux = new Fmp4Muxer([v]);
    mux.push(v, frame(0, true));
    mux.push(v, frame(3600, false));
    const otherSps = Buffer.from(SPS);
    otherSps[3] = 0x1f; // level 3.1
    const out = mux.push(v, frame(7200, true, slice(true, [otherSps, PPS])));
    assert.deepEqual(
      out.map((c) => c.type),
      ['fragment', 'init'],
    );
    assert.equal((out[1] as { mime: string }).mime, 'video/mp4; codecs="avc1.4d401f"');
    const next = fragments(mux.push(v, frame(10_800, false)));
    assert.equal(next[0].keyframe, true, 'the keyframe opens the first fragment of the new configuration');
  });

  test('muxer.push() gives H.265 the hvc1 codec string and size of its SPS', () => {
    const s = H265_SAMPLES[0];
    const fmtp = {
      'sprop-vps': s.vps.toString('base64'),
      'sprop-sps': s.sps.toString('base64'),
      'sprop-pps': s.pps.toString('base64'),
    };
    const v = video(fmtp, 'H265');
    const mux = new Fmp4Muxer([v]);
    const idr = joinAvcc([Buffer.from([0x26, 0x01, 0xaf, 0x00])]); // IDR_W_RADL
    const [init] = mux.push(v, frame(0, true, idr));
    assert.equal(init.type, 'init');
    assert.equal(init.mime, `video/mp4; codecs="${s.codec}"`);
    assert.deepEqual([init.width, init.height], [s.width, s.height]);
  });

  test('muxer.push() gives AAC its mp4a.40.x codec string and an audio-only set audio/mp4 with ~100 ms fragments', () => {
    const aac = new StreamTrack(0, { name: 'AAC', clockRate: 44100, channels: 2, fmtp: { config: '1210' } });
    const mux = new Fmp4Muxer([aac]);
    const out: Fmp4Chunk[] = [];
    for (let i = 0; i < 12; i++) out.push(...mux.push(aac, frame(1000 + i * 1024, true, Buffer.from([i]))));
    assert.equal(out[0].type, 'init');
    assert.equal((out[0] as { mime: string }).mime, 'audio/mp4; codecs="mp4a.40.2"');
    const frags = fragments(out);
    assert.equal(frags.length, 2);
    assert.deepEqual(
      frags.map((f) => parseFragment(f.data).trafs[0].samples.length),
      [5, 5],
      '5 x 1024 / 44100 = 116 ms per fragment',
    );
    assert.equal(frags[1].time, (5 * 1024) / 44100);
  });

  test('new Fmp4Muxer() throws UnsupportedError for AAC without its config and for codecs MP4 does not carry', () => {
    assert.throws(
      () => new Fmp4Muxer([new StreamTrack(0, { name: 'AAC', clockRate: 48000 })]),
      (err: Error) => err instanceof UnsupportedError && /AudioSpecificConfig/.test(err.message),
    );
    assert.throws(
      () => new Fmp4Muxer([new StreamTrack(0, { name: 'PCMA', clockRate: 8000 })]),
      (err: Error) => err instanceof UnsupportedError && /PCMA cannot be carried in MP4/.test(err.message),
    );
  });

  test('muxer.flush() writes the pending frames with their last known duration', () => {
    const v = video({ 'sprop-parameter-sets': SPROP });
    const mux = new Fmp4Muxer([v]);
    mux.push(v, frame(0, true));
    mux.push(v, frame(3000, false));
    const [f] = fragments(mux.flush());
    assert.equal(parseFragment(f.data).trafs[0].samples[0].duration, 3000);
    assert.deepEqual(mux.flush(), [], 'nothing left');
  });

  test('muxer.push() shares one init segment buffer between muxers of the same track set (encode once)', () => {
    const fmtp = { 'sprop-parameter-sets': SPROP };
    const va = video(fmtp);
    const vb = video(fmtp);
    const [x] = new Fmp4Muxer([va]).push(va, frame(0, true));
    const [y] = new Fmp4Muxer([vb]).push(vb, frame(50, true));
    assert.equal(x.data, y.data, 'the same Buffer object');
    assert.deepEqual(
      new Fmp4Muxer([va]).push(vb, frame(0, true)),
      [],
      'a track it was not made for is ignored',
    );
  });
});

describe('Fmp4Muxer with ffprobe', {
  skip: spawnSync('ffprobe', ['-version']).error ? 'no ffprobe' : false,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mediagate-muxer-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('muxer.push() turns 2 s of the demo clip into an fMP4 that ffprobe reads as H.264 640x360 + Opus, 2 s, 50 frames', () => {
    const v = new StreamTrack(0, DEMO_VIDEO.codec);
    const a = new StreamTrack(1, DEMO_AUDIO.codec);
    const mux = new Fmp4Muxer([v, a]);
    const frames: { t: number; track: StreamTrack; frame: Frame }[] = [];
    for (const s of DEMO_VIDEO.samples.slice(0, 51))
      frames.push({ t: s.dts / DEMO_VIDEO.timescale, track: v, frame: sampleFrame(DEMO, DEMO_VIDEO, s) });
    for (const s of DEMO_AUDIO.samples.slice(0, 101))
      frames.push({ t: s.dts / DEMO_AUDIO.timescale, track: a, frame: sampleFrame(DEMO, DEMO_AUDIO, s) });
    frames.sort((x, y) => x.t - y.t);
    const out: Buffer[] = [];
    for (const f of frames) for (const c of mux.push(f.track, f.frame)) out.push(c.data);
    const file = join(dir, 'demo.mp4');
    writeFileSync(file, Buffer.concat(out));
    const r = spawnSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-count_frames',
        '-show_entries',
        'stream=codec_name,width,height,nb_read_frames:format=duration',
        '-of',
        'json',
        file,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout) as {
      streams: { codec_name: string; width?: number; height?: number; nb_read_frames: string }[];
      format: { duration: string };
    };
    assert.equal(info.streams[0].codec_name, 'h264');
    assert.deepEqual([info.streams[0].width, info.streams[0].height], [640, 360]);
    assert.equal(info.streams[0].nb_read_frames, '50', 'the 51st frame waits for its successor');
    assert.equal(info.streams[1].codec_name, 'opus');
    assert.ok(Math.abs(Number(info.format.duration) - 2) < 0.05, `duration ${info.format.duration}`);
  });
});
