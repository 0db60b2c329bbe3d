/**
 * FlvDemuxer, FlvTagReader and FlvMuxer on crafted streams: round trips of every codec, damage
 * (garbage, wrong PreviousTagSize, lying DataSize, encrypted tags), the wait for announced tracks
 * and parameter-set changes. No ffmpeg needed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildAvcC } from '../../../src/codecs/h264/avcc-record.ts';
import { BadRequestError, UnsupportedError } from '../../../src/core/errors.ts';
import type { Frame, Media } from '../../../src/core/media.ts';
import { FlvDemuxer } from '../../../src/formats/flv/demuxer.ts';
import { FlvMuxer, serializeTag } from '../../../src/formats/flv/muxer.ts';
import { FlvTagReader } from '../../../src/formats/flv/tag-reader.ts';
import {
  parseVideoTagBody,
  videoSequenceHeaderBody,
  videoTagBody,
} from '../../../src/formats/flv/video-tag.ts';
import { H264_SAMPLES, H265_SAMPLES, xorshift } from '../codecs/fixtures.ts';
import {
  avcc,
  demuxChunked,
  type Event,
  SYNTHETIC_MEDIAS,
  split,
  syntheticInterleaved,
  syntheticVideo,
} from '../ts/media-helpers.ts';

function muxed(medias: Media[], frames: [number, Frame][]): Buffer {
  const m = new FlvMuxer(medias);
  return Buffer.concat([m.header(), ...frames.map(([t, f]) => m.frame(t, f))]);
}

/** Offsets of the tags of a file written by FlvMuxer (after the 13-byte header). */
function tagOffsets(buf: Buffer): number[] {
  const list: number[] = [];
  for (let o = 13; o + 11 <= buf.length; o += 15 + buf.readUIntBE(o + 1, 3)) list.push(o);
  return list;
}

const HEVC = H265_SAMPLES[0];
const H265_OPUS: Media[] = [
  {
    kind: 'video',
    direction: 'recvonly',
    codecs: [
      {
        name: 'H265',
        clockRate: 90000,
        fmtp: {
          'sprop-vps': HEVC.vps.toString('base64'),
          'sprop-sps': HEVC.sps.toString('base64'),
          'sprop-pps': HEVC.pps.toString('base64'),
        },
      },
    ],
  },
  { kind: 'audio', direction: 'recvonly', codecs: [{ name: 'OPUS', clockRate: 48000, channels: 2 }] },
];

/** H.265 frames at 25 fps with B-frame-like composition offsets, and 20 ms Opus packets. */
function h265OpusFrames(count: number): [number, Frame][] {
  const rand = xorshift(9);
  const out: [number, Frame][] = [];
  for (let i = 0; i < count; i++) {
    const key = i % 10 === 0;
    const nal = Buffer.alloc(200, 7);
    nal[0] = key ? 0x26 : 0x02; // IDR_W_RADL, TRAIL_R
    nal[1] = 0x01;
    const data = key ? avcc(HEVC.vps, HEVC.sps, HEVC.pps, nal) : avcc(nal);
    out.push([0, { pts: i * 3600 + (i % 3) * 3600, dts: i * 3600, keyframe: key, data }]);
    for (let k = 0; k < 2; k++) {
      const packet = Buffer.alloc(50 + Math.floor(rand() * 50), 3);
      packet[0] = 0xfc; // CELT 20 ms, stereo, one frame
      out.push([1, { pts: (2 * i + k) * 960, dts: (2 * i + k) * 960, keyframe: true, data: packet }]);
    }
  }
  return out;
}

const byTrack = (frames: [number, Frame][], track: number): Frame[] =>
  frames.filter(([t]) => t === track).map(([, f]) => f);

describe('FlvDemuxer on FlvMuxer output', () => {
  const input = syntheticInterleaved(60);
  const file = muxed(SYNTHETIC_MEDIAS, input);

  test('FlvDemuxer.push() reads back H.264 and AAC frames and times, in any chunking', () => {
    for (const seed of [1, 2]) {
      const d = new FlvDemuxer();
      const { medias, frames } = split(demuxChunked(d, file, seed, 300));
      assert.deepEqual(
        medias.map((m) => m.codecs[0].name),
        ['H264', 'AAC'],
      );
      assert.equal(
        medias[0].codecs[0].fmtp?.['sprop-parameter-sets'],
        SYNTHETIC_MEDIAS[0].codecs[0].fmtp?.['sprop-parameter-sets'],
      );
      assert.equal(medias[1].codecs[0].fmtp?.['config'], '1210');
      assert.deepEqual(frames[0], byTrack(input, 0));
      assert.deepEqual(frames[1], byTrack(input, 1));
      assert.deepEqual(d.reader.videoSize, { width: 640, height: 360 });
      const meta = d.reader.metadata ?? {};
      assert.deepEqual(
        [meta['width'], meta['height'], meta['videocodecid'], meta['audiocodecid']],
        [640, 360, 7, 10],
      );
      assert.equal(d.stats.tags, 3 + input.length);
    }
  });

  test('FlvDemuxer.push() reads back enhanced H.265 with composition times and enhanced Opus', () => {
    const input2 = h265OpusFrames(30);
    const { medias, frames } = split(demuxChunked(new FlvDemuxer(), muxed(H265_OPUS, input2), 3, 500));
    assert.deepEqual(
      medias.map((m) => [m.codecs[0].name, m.codecs[0].clockRate, m.codecs[0].channels]),
      [
        ['H265', 90000, undefined],
        ['OPUS', 48000, 2],
      ],
    );
    assert.equal(medias[0].codecs[0].fmtp?.['sprop-sps'], HEVC.sps.toString('base64'));
    assert.deepEqual(frames[0], byTrack(input2, 0));
    assert.deepEqual(frames[1], byTrack(input2, 1));
  });

  test('FlvDemuxer.push() reads back G.711 without a sequence header', () => {
    const pcmu: Media = {
      kind: 'audio',
      direction: 'recvonly',
      codecs: [{ name: 'PCMU', clockRate: 8000, channels: 1 }],
    };
    const frames = Array.from({ length: 10 }, (_, i): [number, Frame] => [
      0,
      { pts: i * 160, dts: i * 160, keyframe: true, data: Buffer.alloc(160, i) },
    ]);
    const out = split(demuxChunked(new FlvDemuxer(), muxed([pcmu], frames), 4));
    assert.deepEqual(out.medias[0].codecs[0], pcmu.codecs[0]);
    assert.deepEqual(out.frames[0], byTrack(frames, 0));
  });

  test('FlvDemuxer.push() skips garbage before the header and between tags', () => {
    const offsets = tagOffsets(file);
    const junk = Buffer.from('HTTP/1.1 200 OK\r\n\r\n garbage without a tag header \x09\x09\x00');
    const cut = offsets[20];
    const damaged = Buffer.concat([junk, file.subarray(0, cut), junk, file.subarray(cut)]);
    const d = new FlvDemuxer();
    const { frames } = split(demuxChunked(d, damaged, 5, 200));
    assert.equal(d.stats.garbageBytes, 2 * junk.length);
    assert.equal(frames[0].length + frames[1].length, input.length);
  });

  test('FlvDemuxer.push() drops a tag whose DataSize lies and finds the next one', () => {
    const offsets = tagOffsets(file);
    const damaged = Buffer.from(file);
    const at = offsets[30];
    damaged.writeUIntBE(damaged.readUIntBE(at + 1, 3) + 100, at + 1, 3);
    const d = new FlvDemuxer();
    const { frames } = split(demuxChunked(d, damaged, 6, 1000));
    assert.equal(frames[0].length + frames[1].length, input.length - 1);
    assert.equal(d.stats.previousTagSizeErrors, 1);
    assert.ok(d.stats.garbageBytes > 0);
  });

  test('FlvDemuxer.push() accepts a wrong PreviousTagSize when the next tag header is sound, and counts it', () => {
    const offsets = tagOffsets(file);
    const damaged = Buffer.from(file);
    damaged.writeUInt32BE(7, offsets[11] - 4);
    const d = new FlvDemuxer();
    const { frames } = split(demuxChunked(d, damaged, 7));
    assert.equal(frames[0].length + frames[1].length, input.length);
    assert.equal(d.stats.previousTagSizeErrors, 1);
    assert.equal(d.stats.garbageBytes, 0);
  });

  test('FlvDemuxer.push() counts encrypted tags as invalid', () => {
    const offsets = tagOffsets(file);
    const damaged = Buffer.from(file);
    damaged[offsets[10]] |= 0x20;
    const d = new FlvDemuxer();
    const { frames } = split(demuxChunked(d, damaged, 8));
    assert.equal(frames[0].length + frames[1].length, input.length - 1);
    assert.equal(d.stats.invalidTags, 1);
  });
});

describe('FlvTagReader', () => {
  const avcSeq = (sample: (typeof H264_SAMPLES)[number]) =>
    videoSequenceHeaderBody('H264', buildAvcC(sample.sps, sample.pps));
  const slice = (key: boolean) => avcc(Buffer.from([key ? 0x65 : 0x41, 1, 2, 3]));

  test('FlvTagReader.push() emits the tracks at the first frame when nothing was announced', () => {
    const r = new FlvTagReader();
    assert.deepEqual(r.push(9, avcSeq(H264_SAMPLES[0]), 0), []);
    const events = r.push(9, videoTagBody('H264', { pts: 0, dts: 0, keyframe: true, data: slice(true) }), 0);
    assert.deepEqual(
      events.map((e) => e.type),
      ['tracks', 'frame'],
    );
  });

  test('FlvTagReader.push() waits for an announced audio track up to maxWaitSeconds', () => {
    const r = new FlvTagReader({ maxWaitSeconds: 1 });
    r.expect({ video: true, audio: true });
    r.push(9, avcSeq(H264_SAMPLES[0]), 0);
    const events: Event[] = [];
    for (let ms = 0; ms <= 1000; ms += 40) {
      events.push(
        ...r.push(
          9,
          videoTagBody('H264', { pts: ms * 90, dts: ms * 90, keyframe: ms === 0, data: slice(ms === 0) }),
          ms,
        ),
      );
    }
    const { medias, frames } = split(events);
    assert.equal(medias.length, 1);
    assert.equal(frames[0].length, 26);
    assert.equal(r.push(8, Buffer.from([0xaf, 0, 0x12, 0x10]), 1000).length, 0);
    assert.equal(r.push(8, Buffer.from([0xaf, 1, 0x21]), 1000).length, 0);
    assert.equal(r.stats.framesDropped, 1);
  });

  test('FlvTagReader.push() puts the parameter sets of a new sequence header in front of the next keyframe', () => {
    const r = new FlvTagReader();
    r.push(9, avcSeq(H264_SAMPLES[0]), 0);
    r.push(9, videoTagBody('H264', { pts: 0, dts: 0, keyframe: true, data: slice(true) }), 0);
    r.push(9, avcSeq(H264_SAMPLES[1]), 40);
    const [e] = r.push(
      9,
      videoTagBody('H264', { pts: 3600, dts: 3600, keyframe: true, data: slice(true) }),
      40,
    );
    assert.equal(e.type, 'frame');
    if (e.type === 'frame')
      assert.deepEqual(
        e.frame.data,
        avcc(H264_SAMPLES[1].sps, H264_SAMPLES[1].pps, Buffer.from([0x65, 1, 2, 3])),
      );
  });

  test('FlvTagReader.push() unwraps 32-bit millisecond timestamps and counts malformed tags', () => {
    const r = new FlvTagReader();
    r.push(9, avcSeq(H264_SAMPLES[0]), 0);
    const frame = () => videoTagBody('H264', { pts: 0, dts: 0, keyframe: true, data: slice(true) });
    const a = r.push(9, frame(), 2 ** 32 - 40).at(-1);
    const b = r.push(9, frame(), 0).at(-1);
    assert.ok(a?.type === 'frame' && b?.type === 'frame');
    if (a?.type === 'frame' && b?.type === 'frame') assert.equal(b.frame.dts - a.frame.dts, 40 * 90);
    r.push(9, Buffer.from([0x17, 1, 0, 0, 0, 0, 0, 0, 9]), 80);
    r.push(18, Buffer.from([2, 0, 10]), 80);
    assert.equal(r.stats.invalidTags, 2);
  });
});

describe('FlvMuxer', () => {
  test('new FlvMuxer() throws UnsupportedError for codecs and track sets FLV cannot carry', () => {
    const l16: Media = { kind: 'audio', direction: 'recvonly', codecs: [{ name: 'L16', clockRate: 8000 }] };
    assert.throws(() => new FlvMuxer([l16]), UnsupportedError);
    assert.throws(() => new FlvMuxer([SYNTHETIC_MEDIAS[0], SYNTHETIC_MEDIAS[0]]), /second video/);
    assert.throws(() => new FlvMuxer(SYNTHETIC_MEDIAS).frame(5, syntheticVideo(1)[0]), BadRequestError);
  });

  test('FlvMuxer.frameTags() drops video before the parameter sets and sends a new sequence header when they change', () => {
    const bare: Media = {
      kind: 'video',
      direction: 'recvonly',
      codecs: [{ name: 'H264', clockRate: 90000 }],
    };
    const m = new FlvMuxer([bare]);
    assert.deepEqual(
      m.startTags().map((t) => t.type),
      [18],
    );
    assert.deepEqual(
      m.frameTags(0, { pts: 0, dts: 0, keyframe: false, data: avcc(Buffer.from([0x41, 1])) }),
      [],
    );
    assert.equal(m.dropped, 1);
    const [s0, s1] = H264_SAMPLES;
    const key = (s: typeof s0, ms: number) => ({
      pts: ms * 90,
      dts: ms * 90,
      keyframe: true,
      data: avcc(s.sps, s.pps, Buffer.from([0x65, 1])),
    });
    const kinds = (tags: ReturnType<FlvMuxer['frameTags']>) =>
      tags.map((t) => parseVideoTagBody(t.body, t.timestampMs).type);
    assert.deepEqual(kinds(m.frameTags(0, key(s0, 40))), ['config', 'frame']);
    assert.deepEqual(kinds(m.frameTags(0, key(s0, 80))), ['frame']);
    assert.deepEqual(kinds(m.frameTags(0, key(s1, 120))), ['config', 'frame']);
    const tag = serializeTag(m.frameTags(0, key(s1, 160))[0]);
    assert.equal(tag.readUIntBE(4, 3), 160);
  });
});
