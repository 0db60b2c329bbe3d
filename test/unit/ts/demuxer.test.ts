/**
 * TsDemuxer and TsMuxer on crafted streams: round trips, damage (garbage, continuity gaps,
 * duplicates, oversized PES), the 33-bit wrap, ADTS frames across PES packets and the wait for
 * parameter sets. No ffmpeg needed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildAdtsHeader } from '../../../src/codecs/aac/adts.ts';
import { avccToAnnexB } from '../../../src/codecs/avcc.ts';
import { parseH264Sps } from '../../../src/codecs/h264/sps.ts';
import { UnsupportedError } from '../../../src/core/errors.ts';
import type { Frame, Media } from '../../../src/core/media.ts';
import { TsDemuxer } from '../../../src/formats/ts/demuxer.ts';
import { TsMuxer } from '../../../src/formats/ts/muxer.ts';
import { packetize, parseTsPacket, TS_PACKET_SIZE } from '../../../src/formats/ts/packet.ts';
import { buildPesHeader } from '../../../src/formats/ts/pes.ts';
import { buildPat, buildPmt, type PmtStream } from '../../../src/formats/ts/psi.ts';
import {
  assertMonotonic,
  demuxChunked,
  type Event,
  PPS,
  SPS,
  SYNTHETIC_MEDIAS,
  split,
  syntheticInterleaved,
  syntheticVideo,
} from './media-helpers.ts';

/** A stream written by TsMuxer from synthetic frames. */
function muxed(frames: [number, Frame][], medias: Media[] = SYNTHETIC_MEDIAS): Buffer {
  const m = new TsMuxer(medias);
  return Buffer.concat([m.header(), ...frames.map(([t, f]) => m.frame(t, f))]);
}

/** PAT and PMT packets for program 1 with the PMT on PID 0x1000. */
function tables(streams: PmtStream[]): Buffer {
  const psi = (pid: number, section: Buffer) => {
    const payload = Buffer.alloc(184, 0xff);
    payload[0] = 0;
    section.copy(payload, 1);
    return packetize(pid, payload, 0).data;
  };
  return Buffer.concat([
    psi(0, buildPat(1, { programNumber: 1, pmtPid: 0x1000 })),
    psi(0x1000, buildPmt(1, { pcrPid: streams[0]?.pid ?? 0x100, streams })),
  ]);
}

/** The packets of each PES on `pid`, continuity counters counting from 0. */
function pesPackets(pid: number, pes: Buffer[]): Buffer {
  let cc = 0;
  return Buffer.concat(
    pes.map((p) => {
      const out = packetize(pid, p, cc);
      cc = out.cc;
      return out.data;
    }),
  );
}

function adtsFrame(size: number, fill: number): Buffer {
  const config = { objectType: 2, sampleRate: 48000, channelConfig: 2 };
  return Buffer.concat([buildAdtsHeader(config, size), Buffer.alloc(size, fill)]);
}

const events = (buf: Buffer, seed = 1): Event[] => demuxChunked(new TsDemuxer(), buf, seed, 700);

describe('TsDemuxer on TsMuxer output', () => {
  const input = syntheticInterleaved(60);
  const stream = muxed(input);

  test('TsDemuxer.push() reads back the codecs, frames and times TsMuxer wrote, in any chunking', () => {
    for (const seed of [1, 2, 3]) {
      const { medias, frames } = split(events(stream, seed));
      assert.equal(medias[0].codecs[0].name, 'H264');
      assert.equal(
        medias[0].codecs[0].fmtp?.['sprop-parameter-sets'],
        SYNTHETIC_MEDIAS[0].codecs[0].fmtp?.['sprop-parameter-sets'],
      );
      assert.deepEqual(medias[1].codecs[0], {
        ...SYNTHETIC_MEDIAS[1].codecs[0],
        fmtp: medias[1].codecs[0].fmtp,
      });
      assert.equal(medias[1].codecs[0].fmtp?.['config'], '1210');
      for (const track of [0, 1]) {
        const want = input.filter(([t]) => t === track).map(([, f]) => f);
        assert.deepEqual(frames[track], want, `track ${track} seed ${seed}`);
      }
    }
  });

  test('TsDemuxer.videoSize() gives the picture size of the SPS once the tracks are known', () => {
    const d = new TsDemuxer();
    assert.equal(d.videoSize(0), undefined);
    d.push(stream);
    d.flush();
    assert.deepEqual(d.videoSize(0), { width: 640, height: 360 });
    assert.equal(d.videoSize(1), undefined);
  });

  test('TsDemuxer.push() skips garbage before and between packets and counts it', () => {
    // Sync bytes every 50 bytes, but never two 188 bytes apart.
    const garbage = Buffer.alloc(1000);
    for (let i = 0; i < garbage.length; i++)
      garbage[i] = i % 50 === 25 ? 0x47 : ((i * 7) & 0xff) === 0x47 ? 0 : (i * 7) & 0xff;
    const cut = 40 * TS_PACKET_SIZE;
    const damaged = Buffer.concat([
      garbage,
      stream.subarray(0, cut),
      garbage.subarray(0, 77),
      stream.subarray(cut),
    ]);
    const d = new TsDemuxer();
    const { frames } = split(demuxChunked(d, damaged, 5, 500));
    assert.equal(d.stats.garbageBytes, 1077);
    assert.equal(frames[0].length, 60);
    assert.equal(d.stats.continuityErrors, 0);
  });

  test('TsDemuxer.push() drops the PES cut by a continuity gap and counts it', () => {
    // Drop the second packet of the first video PES after the tables.
    const packets: Buffer[] = [];
    for (let o = 0; o < stream.length; o += TS_PACKET_SIZE)
      packets.push(stream.subarray(o, o + TS_PACKET_SIZE));
    const victim = packets.findIndex(
      (p, i) => i > 2 && parseTsPacket(p, 0).pid === 0x100 && !parseTsPacket(p, 0).unitStart,
    );
    const d = new TsDemuxer();
    const { frames } = split(demuxChunked(d, Buffer.concat(packets.filter((_, i) => i !== victim)), 7));
    assert.equal(d.stats.continuityErrors, 1);
    assert.equal(d.stats.pesDropped, 1);
    // The lost keyframe carried the only SPS/PPS before frame 10: frames 1..9 wait for them.
    assert.equal(frames[0].length, 50);
    assert.equal(frames[0][0].dts, 10 * 3600);
    assert.equal(d.stats.framesDropped, 9);
  });

  test('TsDemuxer.push() ignores a repeated packet (same continuity counter)', () => {
    const at = 5 * TS_PACKET_SIZE;
    const twice = Buffer.concat([stream.subarray(0, at + TS_PACKET_SIZE), stream.subarray(at)]);
    const d = new TsDemuxer();
    const { frames } = split(demuxChunked(d, twice, 8));
    assert.equal(d.stats.droppedPackets, 1);
    assert.equal(d.stats.continuityErrors, 0);
    assert.equal(frames[0].length, 60);
  });

  test('TsDemuxer.push() drops a PES larger than maxPesSize', () => {
    const big = syntheticVideo(3, 10, 3000);
    const d = new TsDemuxer({ maxPesSize: 4000 });
    const out = demuxChunked(
      d,
      muxed(
        big.map((f) => [0, f]),
        [SYNTHETIC_MEDIAS[0]],
      ),
      9,
    );
    assert.ok(d.stats.pesDropped >= 1);
    assert.ok(out.filter((e) => e.type === 'frame').length < 3);
  });
});

describe('TsDemuxer timestamps and codec parameters', () => {
  test('TsDemuxer.push() unwraps PTS and DTS across the 33-bit wrap', () => {
    const start = 2 ** 33 - 20 * 3600;
    const frames = syntheticVideo(40).map((f): [number, Frame] => [
      0,
      { ...f, pts: start + f.pts, dts: start + f.dts },
    ]);
    const { frames: out } = split(events(muxed(frames, [SYNTHETIC_MEDIAS[0]])));
    assert.equal(out[0].length, 40);
    assertMonotonic(out[0], 'video');
    assert.equal(out[0][39].dts - out[0][0].dts, 39 * 3600);
    assert.ok(out[0][39].dts > 2 ** 33);
  });

  test('TsDemuxer.push() waits for SPS and PPS and drops the frames before them', () => {
    const noSprop: Media = {
      kind: 'video',
      direction: 'recvonly',
      codecs: [{ name: 'H264', clockRate: 90000 }],
    };
    const frames = syntheticVideo(25).slice(5); // starts 5 frames before a keyframe
    const d = new TsDemuxer();
    const { medias, frames: out } = split(
      demuxChunked(
        d,
        muxed(
          frames.map((f) => [0, f]),
          [noSprop],
        ),
        3,
      ),
    );
    assert.equal(out[0].length, 15);
    assert.equal(out[0][0].keyframe, true);
    assert.equal(d.stats.framesDropped, 5);
    const sprop = medias[0].codecs[0].fmtp?.['sprop-parameter-sets'];
    assert.equal(sprop, `${SPS.toString('base64')},${PPS.toString('base64')}`);
    assert.equal(parseH264Sps(SPS).width, 640);
  });

  test('TsDemuxer.push() joins ADTS frames split across PES packets and times them from the PES PTS', () => {
    const [a, b, c] = [adtsFrame(200, 1), adtsFrame(300, 2), adtsFrame(250, 3)];
    const pes1 = Buffer.concat([a, b.subarray(0, 100)]);
    const pes2 = Buffer.concat([b.subarray(100), c]);
    // PES 2's PTS dates frame c, the first frame that starts in it: 2 frames after a.
    const pts2 = 90000 + (2 * 1024 * 90000) / 48000;
    const stream = Buffer.concat([
      tables([{ streamType: 0x0f, pid: 0x101, descriptors: [] }]),
      pesPackets(0x101, [
        Buffer.concat([buildPesHeader(0xc0, pes1.length, 90000), pes1]),
        Buffer.concat([buildPesHeader(0xc0, pes2.length, pts2), pes2]),
      ]),
    ]);
    const { medias, frames } = split(events(stream));
    assert.deepEqual(medias[0].codecs[0].clockRate, 48000);
    assert.deepEqual(
      frames[0].map((f) => [f.dts, f.data.length, f.data[0]]),
      [
        [48000, 200, 1],
        [49024, 300, 2],
        [50048, 250, 3],
      ],
    );
  });

  test('TsDemuxer.push() drops a video PES without PTS and lists the streams it skips', () => {
    const keyframe = avccToAnnexB(syntheticVideo(1)[0].data);
    const annexB = Buffer.concat([Buffer.from([0, 0, 0, 1]), SPS, Buffer.from([0, 0, 0, 1]), PPS]);
    const noPts = Buffer.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0, 0]);
    const stream = Buffer.concat([
      tables([
        { streamType: 0x03, pid: 0x102, descriptors: [] },
        { streamType: 0x1b, pid: 0x100, descriptors: [] },
      ]),
      pesPackets(0x100, [
        Buffer.concat([noPts, annexB]),
        Buffer.concat([buildPesHeader(0xe0, keyframe.length, 0), keyframe]),
      ]),
    ]);
    const d = new TsDemuxer();
    const out = demuxChunked(d, stream, 4);
    assert.equal(d.stats.pesDropped, 1);
    assert.deepEqual(d.skipped, [{ pid: 0x102, streamType: 0x03 }]);
    assert.equal(split(out).frames[0].length, 1);
  });
});

describe('TsMuxer', () => {
  test('new TsMuxer() throws UnsupportedError for a codec MPEG-TS cannot carry', () => {
    const pcma: Media = { kind: 'audio', direction: 'recvonly', codecs: [{ name: 'PCMA', clockRate: 8000 }] };
    assert.throws(() => new TsMuxer([pcma]), UnsupportedError);
    const heAac: Media = {
      kind: 'audio',
      direction: 'recvonly',
      codecs: [{ name: 'AAC', clockRate: 44100, fmtp: { config: 'f8ee' } }],
    };
    assert.throws(() => new TsMuxer([heAac]), UnsupportedError);
  });

  test('TsMuxer.frame() puts PAT and PMT before every keyframe and at least every 0.5 s', () => {
    const m = new TsMuxer(SYNTHETIC_MEDIAS);
    const tablesIn = (buf: Buffer) => {
      let n = 0;
      for (let o = 0; o < buf.length; o += TS_PACKET_SIZE) if (parseTsPacket(buf, o).pid === 0) n++;
      return n;
    };
    assert.equal(tablesIn(m.header()), 1);
    const video = syntheticVideo(40, 30);
    const counts = video.map((f) => tablesIn(m.frame(0, f)));
    assert.deepEqual(
      counts.flatMap((n, i) => (n ? [i] : [])),
      [0, 13, 26, 30],
    );
  });

  test('TsMuxer.frame() writes whole packets with PCR on the video PID and an AUD first', () => {
    const m = new TsMuxer(SYNTHETIC_MEDIAS);
    m.header();
    const [key] = syntheticVideo(1);
    const out = m.frame(0, { ...key, dts: 7200, pts: 10800 });
    assert.equal(out.length % TS_PACKET_SIZE, 0);
    const first = parseTsPacket(out, 2 * TS_PACKET_SIZE);
    assert.equal(first.pid, 0x100);
    assert.equal(first.pcr, 7200);
    assert.equal(first.randomAccess, true);
    const pes = out.subarray(first.payloadStart);
    assert.deepEqual(pes.subarray(19, 25), Buffer.from([0, 0, 0, 1, 0x09, 0xf0]));
  });
});
