/**
 * The readers of HTTP bodies mediagate implements itself: multipart MJPEG (with and without
 * Content-Length, lax boundaries, damage), raw H.264 / H.265 Annex B grouped into pictures, and
 * ADTS; each fed at once and in random pieces, with the same result.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildAdtsHeader } from '../../../src/codecs/aac/adts.ts';
import { avccToAnnexB, splitAvcc } from '../../../src/codecs/avcc.ts';
import type { Frame } from '../../../src/core/media.ts';
import type { DemuxEvent } from '../../../src/formats/ts/track-gate.ts';
import { AnnexBReader } from '../../../src/protocols/http/source/annexb.ts';
import { MultipartReader } from '../../../src/protocols/http/source/multipart.ts';
import { AdtsReader, type MediaReader, MjpegReader } from '../../../src/protocols/http/source/readers.ts';
import { H265_SAMPLES, xorshift } from '../codecs/fixtures.ts';
import { avcc, syntheticVideo } from '../ts/media-helpers.ts';

/** A fake JPEG of `n` bytes: SOI, filler, EOI. */
function jpeg(n: number, fill: number): Buffer {
  const b = Buffer.alloc(n, fill);
  b[0] = 0xff;
  b[1] = 0xd8;
  b[n - 2] = 0xff;
  b[n - 1] = 0xd9;
  return b;
}

function part(boundary: string, data: Buffer, withLength: boolean, eol = '\r\n'): Buffer {
  const head = `--${boundary}${eol}Content-Type: image/jpeg${eol}${withLength ? `Content-Length: ${data.length}${eol}` : ''}${eol}`;
  return Buffer.concat([Buffer.from(head, 'latin1'), data, Buffer.from(eol, 'latin1')]);
}

/** Feeds `input` in random pieces (seeded). */
function pieces(input: Buffer, seed: number, max = 97): Buffer[] {
  const rand = xorshift(seed);
  const out: Buffer[] = [];
  for (let o = 0; o < input.length; ) {
    const n = 1 + Math.floor(rand() * max);
    out.push(input.subarray(o, o + n));
    o += n;
  }
  return out;
}

function readAll(reader: MediaReader, chunks: Buffer[]): DemuxEvent[] {
  return [...chunks.flatMap((c) => reader.push(c)), ...reader.flush()];
}

const framesOf = (events: DemuxEvent[]) =>
  events
    .filter((e): e is { type: 'frame'; track: number; frame: Frame } => e.type === 'frame')
    .map((e) => e.frame);

describe('MultipartReader', () => {
  const pictures = [jpeg(500, 1), jpeg(3000, 2), jpeg(40, 3)];

  for (const [name, boundary, header, withLength, eol] of [
    ['with Content-Length', 'frame', 'frame', true, '\r\n'],
    ['without Content-Length', 'frame', 'frame', false, '\r\n'],
    ['with "--" in the boundary parameter', 'ipcam', '--ipcam', true, '\r\n'],
    ['with LF line ends', 'x', 'x', false, '\n'],
    ['with the boundary learnt from the body', 'learnt', undefined, false, '\r\n'],
  ] as const) {
    test(`reader.push() returns every JPEG of a multipart body ${name}, in any pieces`, () => {
      const body = Buffer.concat(pictures.map((p) => part(boundary, p, withLength, eol)));
      for (const seed of [1, 2, 3]) {
        const reader = new MultipartReader(header);
        const got = [...pieces(body, seed).flatMap((c) => reader.push(c)), ...reader.flush()];
        assert.deepEqual(got, pictures, `seed ${seed}`);
        assert.equal(reader.stats.garbageBytes, 0);
      }
    });
  }

  test('reader.push() skips a part that is not a JPEG and garbage before the first boundary', () => {
    const body = Buffer.concat([
      Buffer.from('garbage before\r\n', 'latin1'),
      part('f', Buffer.from('not a picture'), true),
      part('f', pictures[0], true),
    ]);
    const reader = new MultipartReader('f');
    assert.deepEqual(reader.push(body), [pictures[0]]);
    assert.equal(reader.stats.skipped, 1);
    assert.ok(reader.stats.garbageBytes > 0);
  });

  test('reader.push() skips a part over maxPartBytes and goes on with the next one', () => {
    const body = Buffer.concat([part('f', jpeg(5000, 9), true), part('f', pictures[2], true)]);
    const reader = new MultipartReader('f', { maxPartBytes: 1000 });
    assert.deepEqual(reader.push(body), [pictures[2]]);
    assert.equal(reader.stats.skipped, 1);
  });

  test('MjpegReader dates pictures on the 90 kHz wall clock and announces one JPEG track', () => {
    let now = 1000;
    const reader = new MjpegReader('f', () => now);
    const events = reader.push(part('f', pictures[0], true));
    now += 100;
    events.push(...reader.push(part('f', pictures[1], true)));
    assert.deepEqual(events[0], {
      type: 'tracks',
      medias: [{ kind: 'video', direction: 'recvonly', codecs: [{ name: 'JPEG', clockRate: 90000 }] }],
    });
    assert.deepEqual(
      framesOf(events).map((f) => [f.dts, f.keyframe]),
      [
        [0, true],
        [9000, true],
      ],
    );
  });
});

describe('AnnexBReader', () => {
  test('reader.push() groups an H.264 Annex B stream into pictures with AUDs, whatever the pieces', () => {
    const frames = syntheticVideo(30, 10);
    // ffmpeg's -f h264 puts an AUD first; one picture here also has a SEI.
    const aud = Buffer.from([0x09, 0xf0]);
    const sei = Buffer.from([0x06, 0x05, 0x01, 0x80]);
    const stream = Buffer.concat(
      frames.map((f, i) => avccToAnnexB(avcc(aud, ...(i === 5 ? [sei] : []), ...splitAvcc(f.data)))),
    );
    for (const seed of [7, 8]) {
      let now = 0;
      const reader = new AnnexBReader('H264', () => (now += 40));
      const events = readAll(reader, pieces(stream, seed, 500));
      assert.equal(events[0].type, 'tracks');
      const got = framesOf(events);
      assert.equal(got.length, 30, `seed ${seed}`);
      assert.deepEqual(
        got.map((f) => f.keyframe),
        frames.map((f) => f.keyframe),
      );
      assert.equal(splitAvcc(got[1].data).length, 2, 'AUD and slice');
      for (let i = 1; i < got.length; i++) assert.ok(got[i].dts > got[i - 1].dts);
    }
  });

  test('reader.push() splits H.264 pictures without AUDs at first_mb_in_slice 0 and drops those before the first keyframe', () => {
    // Slices that are the first of their picture: first_mb_in_slice = 0 is the bit 1.
    const frames = syntheticVideo(20, 10).map((f) =>
      avcc(
        ...splitAvcc(f.data).map((n) => {
          const copy = Buffer.from(n);
          if ((copy[0] & 0x1f) <= 5) copy[1] |= 0x80;
          return copy;
        }),
      ),
    );
    const stream = Buffer.concat(frames.slice(3).map((f) => avccToAnnexB(f)));
    const reader = new AnnexBReader('H264', () => 0);
    const got = framesOf(readAll(reader, [stream]));
    assert.equal(got.length, 10, 'from the keyframe at 10 on');
    assert.equal(reader.stats.dropped, 7);
    assert.equal(got[0].keyframe, true);
  });

  test('reader.push() announces an H.265 track with its parameter sets from VPS, SPS and PPS', () => {
    const s = H265_SAMPLES[0];
    const idr = Buffer.from([0x26, 0x01, 0xaf, 0x11, 0x22]); // IDR_W_RADL, first slice
    const trail = Buffer.from([0x02, 0x01, 0x80, 0x33]); // TRAIL_R, first slice
    const stream = avccToAnnexB(avcc(s.vps, s.sps, s.pps, idr, trail, trail));
    const events = readAll(new AnnexBReader('H265', () => 0), [stream]);
    assert.equal(events[0].type, 'tracks');
    const codec = events[0].type === 'tracks' ? events[0].medias[0].codecs[0] : undefined;
    assert.equal(codec?.name, 'H265');
    assert.equal(codec?.fmtp?.['sprop-vps'], s.vps.toString('base64'));
    assert.deepEqual(
      framesOf(events).map((f) => f.keyframe),
      [true, false, false],
    );
  });
});

describe('AdtsReader', () => {
  test('reader.push() reads ADTS frames timed by 1024 samples from 0, skipping garbage between them', () => {
    const config = { objectType: 2, sampleRate: 48000, channelConfig: 1 };
    const frames = Array.from({ length: 12 }, (_, i) => Buffer.alloc(50 + i, i + 1));
    const body = Buffer.concat(
      frames.flatMap((f, i) => [
        buildAdtsHeader(config, f.length),
        f,
        i === 4 ? Buffer.from([1, 2, 3]) : Buffer.alloc(0),
      ]),
    );
    const reader = new AdtsReader();
    const events = readAll(reader, pieces(body, 5, 40));
    assert.equal(events[0].type, 'tracks');
    const codec = events[0].type === 'tracks' ? events[0].medias[0].codecs[0] : undefined;
    assert.deepEqual(
      [codec?.name, codec?.clockRate, codec?.channels, codec?.fmtp?.['config']],
      ['AAC', 48000, 1, '1188'],
    );
    const got = framesOf(events);
    assert.deepEqual(
      got.map((f) => f.data),
      frames,
    );
    assert.deepEqual(
      got.map((f) => f.dts),
      frames.map((_, i) => i * 1024),
    );
  });
});
