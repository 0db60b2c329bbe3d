/**
 * FLV tag bodies (legacy and Enhanced RTMP), AMF0 and the tag framing helpers: one table of cases
 * feeds both the builders and the parsers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../../src/core/errors.ts';
import { decodeAmf0, decodeAmf0All, encodeAmf0 } from '../../../src/formats/flv/amf0.ts';
import {
  audioSequenceHeaderBody,
  audioTagBody,
  parseAudioTagBody,
} from '../../../src/formats/flv/audio-tag.ts';
import { buildOpusHead, flvFileHeader, serializeTag } from '../../../src/formats/flv/muxer.ts';
import {
  parseVideoTagBody,
  videoEndOfSequenceBody,
  videoSequenceHeaderBody,
  videoTagBody,
} from '../../../src/formats/flv/video-tag.ts';
import { avcc } from '../ts/media-helpers.ts';

/** A decoded AMF0 value with plain objects instead of null-prototype ones. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

const SLICE = Buffer.from([0x41, 1, 2, 3, 4]);
const IDR = Buffer.from([0x65, 9, 8, 7]);

describe('AMF0', () => {
  test('encodeAmf0() then decodeAmf0() round-trips every value type', () => {
    const values = [
      0,
      -1.5,
      true,
      false,
      'onMetaData',
      '',
      'ü'.repeat(40000), // a long string
      null,
      undefined,
      new Date(1700000000000),
      [1, 'two', [3], null],
      { width: 1280, nested: { a: 'b' }, list: [true] },
    ];
    for (const v of values) {
      const buf = encodeAmf0(v);
      const { value, end } = decodeAmf0(buf);
      assert.equal(end, buf.length);
      // Decoded objects have a null prototype (a `__proto__` key stays a plain key).
      assert.deepEqual(plain(value), v);
    }
  });

  test('encodeAmf0() writes an ECMA array that decodes to the same object', () => {
    const buf = Buffer.concat([encodeAmf0('onMetaData'), encodeAmf0({ duration: 0, stereo: true }, true)]);
    assert.equal(buf[13], 0x08);
    const [name, meta] = decodeAmf0All(buf);
    assert.equal(name, 'onMetaData');
    assert.deepEqual(plain(meta), { duration: 0, stereo: true });
  });

  test('decodeAmf0() throws ParseError on truncation, unknown markers, lying counts and deep nesting', () => {
    const obj = encodeAmf0({ a: 1 });
    assert.throws(() => decodeAmf0(obj.subarray(0, obj.length - 1)), ParseError);
    assert.throws(() => decodeAmf0(Buffer.from([0x11])), /unsupported type marker/);
    assert.throws(() => decodeAmf0(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x05])), /strict array/);
    const proto = decodeAmf0(Buffer.from('0300095f5f70726f746f5f5f0101000009', 'hex')).value as object;
    assert.equal(Object.getPrototypeOf(proto), null);
    assert.equal(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value, true);
    const deep = Buffer.concat([
      Buffer.from(Array.from({ length: 40 }, () => [0x0a, 0, 0, 0, 1]).flat()),
      Buffer.from([5]),
    ]);
    assert.throws(() => decodeAmf0(deep), /nesting/);
  });
});

describe('video tags', () => {
  const cases = [
    {
      name: 'legacy H.264 keyframe',
      codec: 'H264',
      enhanced: false,
      key: true,
      pts: 9000,
      dts: 4500,
      data: avcc(IDR),
    },
    {
      name: 'legacy H.264 negative composition time',
      codec: 'H264',
      enhanced: false,
      key: false,
      pts: 900,
      dts: 1800,
      data: avcc(SLICE),
    },
    {
      name: 'enhanced H.264',
      codec: 'H264',
      enhanced: true,
      key: false,
      pts: 1800,
      dts: 900,
      data: avcc(SLICE),
    },
    {
      name: 'enhanced H.265 CodedFrames',
      codec: 'H265',
      enhanced: true,
      key: true,
      pts: 2700,
      dts: 900,
      data: avcc(IDR),
    },
    {
      name: 'enhanced H.265 CodedFramesX',
      codec: 'H265',
      enhanced: true,
      key: false,
      pts: 900,
      dts: 900,
      data: avcc(SLICE, SLICE),
    },
  ] as const;

  for (const c of cases) {
    test(`videoTagBody() then parseVideoTagBody() round-trip: ${c.name}`, () => {
      const frame = { pts: c.pts, dts: c.dts, keyframe: c.key, data: c.data };
      const body = videoTagBody(c.codec, frame, { enhanced: c.enhanced });
      assert.equal((body[0] & 0x80) !== 0, c.enhanced);
      const input = Buffer.from(body);
      const tag = parseVideoTagBody(body, c.dts / 90);
      assert.deepEqual(tag, { type: 'frame', codec: c.codec, frame });
      assert.deepEqual(body, input, 'the body is not modified');
    });
  }

  test('videoSequenceHeaderBody() and videoEndOfSequenceBody() parse back as config and end', () => {
    const record = Buffer.from([1, 2, 3]);
    for (const [codec, enhanced] of [
      ['H264', false],
      ['H264', true],
      ['H265', true],
    ] as const) {
      assert.deepEqual(parseVideoTagBody(videoSequenceHeaderBody(codec, record, { enhanced }), 0), {
        type: 'config',
        codec,
        record,
      });
      assert.deepEqual(parseVideoTagBody(videoEndOfSequenceBody(codec, { enhanced }), 0), {
        type: 'end',
        codec,
      });
    }
  });

  test('parseVideoTagBody() converts 2-byte NAL lengths to 4-byte AVCC', () => {
    const body = Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0, 0, 4]), IDR]);
    const tag = parseVideoTagBody(body, 10, 2);
    assert.equal(tag.type, 'frame');
    if (tag.type === 'frame') assert.deepEqual(tag.frame.data, avcc(IDR));
  });

  test('parseVideoTagBody() skips other codecs, command frames and packet types it does not handle', () => {
    assert.equal(parseVideoTagBody(Buffer.from([0x12, 0, 0]), 0).type, 'skip'); // Sorenson H.263
    assert.equal(parseVideoTagBody(Buffer.from([0x57, 0]), 0).type, 'skip'); // AVC command frame
    assert.equal(parseVideoTagBody(Buffer.from([0x91, 0x61, 0x76, 0x30, 0x31]), 0).type, 'skip'); // av01
    assert.equal(parseVideoTagBody(Buffer.from([0x96, 0x68, 0x76, 0x63, 0x31]), 0).type, 'skip'); // multitrack
  });

  test('parseVideoTagBody() throws ParseError on truncated headers and NAL units', () => {
    assert.throws(() => parseVideoTagBody(Buffer.alloc(0), 0), ParseError);
    assert.throws(() => parseVideoTagBody(Buffer.from([0x17, 1, 0]), 0), ParseError);
    assert.throws(() => parseVideoTagBody(Buffer.from([0x91, 0x68, 0x76]), 0), ParseError);
    assert.throws(() => parseVideoTagBody(Buffer.from([0x17, 1, 0, 0, 0, 0, 0, 0, 9, 1]), 0, 2), ParseError);
  });
});

describe('audio tags', () => {
  const data = Buffer.from([0x21, 0x10, 0x04, 0x60]);
  const cases = [
    { codec: 'AAC', rate: 44100, ms: 1000, t: 44100, channels: 0 },
    { codec: 'OPUS', rate: 48000, ms: 20, t: 960, channels: 0 },
    { codec: 'PCMA', rate: 8000, ms: 125, t: 1000, channels: 1 },
    { codec: 'PCMU', rate: 8000, ms: 125, t: 1000, channels: 2 },
  ] as const;
  for (const c of cases) {
    test(`audioTagBody() then parseAudioTagBody() round-trip: ${c.codec}`, () => {
      const body = audioTagBody(c.codec, data, c.channels || 1);
      const tag = parseAudioTagBody(body, c.ms, c.rate);
      assert.deepEqual(tag, {
        type: 'frame',
        codec: c.codec,
        frame: { pts: c.t, dts: c.t, keyframe: true, data },
        channels: c.channels,
      });
    });
  }

  test('audioSequenceHeaderBody() parses back as the AAC config and the OpusHead', () => {
    const asc = Buffer.from('1210', 'hex');
    assert.deepEqual(parseAudioTagBody(audioSequenceHeaderBody('AAC', asc), 0), {
      type: 'config',
      codec: 'AAC',
      record: asc,
    });
    const head = buildOpusHead(2);
    assert.deepEqual(parseAudioTagBody(audioSequenceHeaderBody('OPUS', head), 0), {
      type: 'config',
      codec: 'OPUS',
      record: head,
    });
    assert.equal(head.toString('latin1', 0, 8), 'OpusHead');
  });

  test('parseAudioTagBody() skips MP3 and unknown FourCCs and throws ParseError when truncated', () => {
    assert.equal(parseAudioTagBody(Buffer.from([0x2f, 0xff]), 0).type, 'skip');
    assert.equal(parseAudioTagBody(Buffer.from([0x91, 0x66, 0x4c, 0x61, 0x43]), 0).type, 'skip'); // fLaC
    assert.throws(() => parseAudioTagBody(Buffer.alloc(0), 0), ParseError);
    assert.throws(() => parseAudioTagBody(Buffer.from([0xaf]), 0), ParseError);
    assert.throws(() => parseAudioTagBody(Buffer.from([0x91, 0x4f]), 0), ParseError);
  });
});

describe('FLV framing', () => {
  test('serializeTag() writes the header, extended timestamp and PreviousTagSize', () => {
    const tag = serializeTag({ type: 9, timestampMs: 0x12345678, body: Buffer.from([1, 2, 3]) });
    assert.deepEqual(tag, Buffer.from([9, 0, 0, 3, 0x34, 0x56, 0x78, 0x12, 0, 0, 0, 1, 2, 3, 0, 0, 0, 14]));
    assert.deepEqual(
      serializeTag({ type: 8, timestampMs: -1, body: Buffer.alloc(0) }).subarray(4, 8),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
    );
  });

  test('flvFileHeader() sets the audio and video flags', () => {
    assert.deepEqual(
      flvFileHeader(true, true),
      Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]),
    );
    assert.equal(flvFileHeader(false, true)[4], 4);
  });
});
