/**
 * Regressions of the RTP crash classes: truncated packets (the "index out of range [128] with
 * length 120" panics of Go gateways: a header or payload that claims more bytes than arrived) and
 * the 65535 -> 0 sequence wraparound, through the parsers, the depayloaders, the reorder buffer,
 * the receiver every RTP ingest uses and the RTSP client against a camera.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { AacDepayloader } from '../../src/codecs/aac/depayloader.ts';
import { joinAvcc, splitAvcc } from '../../src/codecs/avcc.ts';
import { H264Depayloader } from '../../src/codecs/h264/depayloader.ts';
import { H264Payloader } from '../../src/codecs/h264/payloader.ts';
import { H265Depayloader } from '../../src/codecs/h265/depayloader.ts';
import { ParseError } from '../../src/core/errors.ts';
import type { Frame } from '../../src/core/media.ts';
import { RtpTrackReceiver } from '../../src/protocols/rtp/track-receiver.ts';
import { rtspSourceFactory } from '../../src/protocols/rtsp/client/index.ts';
import { parseRtp, type RtpPacket, serializeRtp } from '../../src/rtp/packet.ts';
import { ReorderBuffer } from '../../src/rtp/reorder.ts';
import { parseRtcpCompound } from '../../src/rtp/rtcp.ts';
import { SequenceUnwrapper } from '../../src/rtp/sequence.ts';
import { AAC_CODEC } from '../fuzz/corpus-build.ts';
import { activeResources, assertNoLeaks } from '../helpers/leaks.ts';
import { H264_SAMPLES, hex } from '../unit/codecs/fixtures.ts';
import { RTCP_CASES } from '../unit/rtp/corpus.ts';
import { camera, FakeRtspServer, h264Keyframe, rtp } from '../unit/rtsp/client-fake-server.ts';

/** Calls `fn`; fails unless it returns or throws ParseError. */
function onlyParseError(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ParseError))
      assert.fail(`${what}: ${(err as Error).name}: ${(err as Error).message}`);
  }
}

function packet(seq: number, payload: Buffer, marker = false, timestamp = 0): RtpPacket {
  return {
    version: 2,
    padding: false,
    marker,
    payloadType: 96,
    sequenceNumber: seq & 0xffff,
    timestamp,
    ssrc: 7,
    csrc: [],
    payload,
  };
}

test('parseRtp() of a 120-byte packet whose CSRC count, extension length and padding claim more throws ParseError, never reads past the end (the "index out of range [128] with length 120" panic class)', () => {
  const base = Buffer.alloc(120, 0x11);
  const cases: [string, (b: Buffer) => void][] = [
    [
      '15 CSRCs and an extension of 0xffff words',
      (b) => {
        b[0] = 0x9f;
        b.writeUInt16BE(0xffff, 12 + 60 + 2);
      },
    ],
    [
      'an extension that ends at byte 128',
      (b) => {
        b[0] = 0x90;
        b.writeUInt16BE(29, 14); // 12 + 4 + 29 * 4 = 132
      },
    ],
    [
      'a padding count of 255',
      (b) => {
        b[0] = 0xa0;
        b[119] = 255;
      },
    ],
    [
      'a padding count of 0',
      (b) => {
        b[0] = 0xa0;
        b[119] = 0;
      },
    ],
  ];
  for (const [what, edit] of cases) {
    const b = Buffer.from(base);
    edit(b);
    assert.throws(() => parseRtp(b), ParseError, what);
    for (let n = 0; n < b.length; n++)
      onlyParseError(() => parseRtp(b.subarray(0, n)), `${what}, cut at ${n}`);
  }
});

test('parseRtcpCompound() of every prefix of every corpus packet throws only ParseError', () => {
  for (const c of RTCP_CASES) {
    const b = hex(c.hex);
    for (let n = 0; n < b.length; n++)
      onlyParseError(() => parseRtcpCompound(b.subarray(0, n)), `${c.name} cut at ${n}`);
  }
});

test('H.264, H.265 and AAC depayloaders fed every truncation of FU-A, STAP-A, AP, FU and AU-header payloads never throw and emit only well-formed frames (go2rtc #635: aac.RTPDepay "slice bounds out of range")', () => {
  const payloads: [
    () => { push: (p: never) => Frame | undefined; next: () => Frame | undefined },
    Buffer[],
  ][] = [
    [
      () => new H264Depayloader() as never,
      [
        hex('7c85 888400'), // FU-A start of an IDR
        Buffer.concat([hex('18 0019'), H264_SAMPLES[0].sps, hex('0005'), H264_SAMPLES[0].pps]), // STAP-A
        hex('7c45 01020304'), // FU-A end
      ],
    ],
    [
      () => new H265Depayloader() as never,
      [hex('6201 93 af0102'), hex('6001 0006 4001 0c01ffff 0004 4401c172'), hex('6201 53 0102')], // FU start/end, AP
    ],
    [
      () => new AacDepayloader(AAC_CODEC) as never,
      [hex('0010 0010 21 aabbcc'), hex('0020 0010 0008 21 aa 21 bb')],
    ],
  ];
  for (const [make, list] of payloads) {
    for (const full of list) {
      for (let n = 0; n <= full.length; n++) {
        const d = make();
        const frames: Frame[] = [];
        for (let i = 0; i < 3; i++) {
          const f = d.push(packet(i, full.subarray(0, i === 1 ? n : full.length), i === 2, 0) as never);
          if (f) frames.push(f);
          for (let g = d.next(); g; g = d.next()) frames.push(g);
        }
        for (const f of frames) assert.ok(f.data.length > 0, 'no empty frame');
      }
    }
  }
});

test('ReorderBuffer.push() across 65535 -> 0 delivers in order without a loss, also when 65535 arrives after 0 and 1', () => {
  const inOrder = new ReorderBuffer();
  const seqs = [65532, 65533, 65534, 65535, 0, 1, 2, 3];
  const out = seqs.flatMap((s) => inOrder.push(packet(s, Buffer.from([s & 0xff]))));
  assert.deepEqual(
    out.map((p) => p.sequenceNumber),
    seqs,
  );
  assert.equal(inOrder.totalLost, 0);

  const swapped = new ReorderBuffer();
  const arrival = [65533, 65534, 0, 1, 65535, 2];
  const got = arrival.flatMap((s) => swapped.push(packet(s, Buffer.from([1]))));
  assert.deepEqual(
    got.map((p) => p.sequenceNumber),
    [65533, 65534, 65535, 0, 1, 2],
  );
  assert.equal(swapped.totalLost, 0);
  assert.equal(swapped.late, 0);
});

test('SequenceUnwrapper.unwrap() continues 65535 -> 0 as 65536 and takes a late 65535 after the wrap as 65535', () => {
  const u = new SequenceUnwrapper();
  assert.deepEqual(
    [65534, 65535, 0, 1, 65535, 2].map((s) => u.unwrap(s)),
    [65534, 65535, 65536, 65537, 65535, 65538],
  );
});

/** An H.264 stream packetized by our payloader whose sequence numbers cross 65535 -> 0. */
function wrappingStream(frames: number, firstSeq = 65500): RtpPacket[] {
  const { sps, pps } = H264_SAMPLES[2];
  const p = new H264Payloader(undefined, { mtu: 300 });
  const out: RtpPacket[] = [];
  for (let i = 0; i < frames; i++) {
    const slice = Buffer.alloc(i === 0 ? 4000 : 1500, 0x5a);
    slice[0] = i === 0 ? 0x65 : 0x41;
    const data = joinAvcc(i === 0 ? [sps, pps, slice] : [slice]);
    for (const o of p.packetize({ pts: i * 3000, dts: i * 3000, keyframe: i === 0, data })) {
      out.push({ ...packet(firstSeq + out.length, o.payload, o.marker, o.timestamp) });
    }
  }
  return out;
}

test('RtpTrackReceiver.push() of an H.264 stream crossing sequence 65535 -> 0 completes every frame and counts no loss, with and without reordering', () => {
  const packets = wrappingStream(12);
  assert.ok(packets[0].sequenceNumber > 65000 && packets.at(-1)!.sequenceNumber < 1000, 'the stream wraps');
  for (const reorder of [false, true]) {
    const r = new RtpTrackReceiver({ name: 'H264', clockRate: 90000, payloadType: 96 }, reorder);
    const frames = packets.flatMap((p) => r.push(parseRtp(serializeRtp(p))));
    assert.equal(frames.length, 12, `reorder=${reorder}: every frame`);
    assert.equal(r.counters.lost, 0);
    assert.equal(r.counters.droppedFrames, 0);
    for (const f of frames) assert.ok(splitAvcc(f.data).length > 0);
  }
});

const servers: FakeRtspServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

test('the RTSP client playing a camera whose sequence numbers wrap 65535 -> 0 mid-GOP delivers every frame with nothing lost', async () => {
  const before = activeResources();
  const sdp =
    'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:trackID=0\r\n';
  const cam = new FakeRtspServer(
    camera({
      sdp,
      onPlay: (c) => {
        let seq = 65530;
        for (let i = 0; i < 8; i++) {
          const ts = i * 3000;
          if (i === 0) {
            for (const p of h264Keyframe(seq, ts)) c.interleaved(0, p);
            seq += 2;
          } else {
            // A P frame in two FU-A fragments, so that the wrap falls inside a frame.
            c.interleaved(0, rtp(seq++, ts, false, hex('7c81 0102')));
            c.interleaved(0, rtp(seq++, ts, true, hex('7c41 0304')));
          }
        }
      },
    }),
  );
  servers.push(cam);
  await cam.listen();
  const frames: Frame[] = [];
  const conn = await rtspSourceFactory(cam.url('/cam')).connect(
    (_i, f) => frames.push(f),
    new AbortController().signal,
  );
  try {
    const deadline = Date.now() + 3000;
    while (frames.length < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(frames.length >= 7, `${frames.length} frames`);
    assert.equal(frames.filter((f) => f.keyframe).length, 1);
    const dts = frames.map((f) => f.dts);
    for (let i = 1; i < dts.length; i++)
      assert.equal(dts[i] - dts[i - 1], 3000, 'no frame lost or merged at the wrap');
  } finally {
    conn.close();
  }
  await cam.close();
  servers.length = 0;
  await assertNoLeaks(before);
});
