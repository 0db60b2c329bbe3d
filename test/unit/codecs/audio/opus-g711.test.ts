import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PcmDepayloader, PcmPayloader } from '../../../../src/codecs/g711/index.ts';
import {
  OpusDepayloader,
  OpusPayloader,
  opusFrameCount,
  opusPacketDuration,
  parseOpusToc,
} from '../../../../src/codecs/opus/index.ts';
import type { RtpOutput } from '../../../../src/codecs/rtp-types.ts';
import { BadRequestError, ParseError } from '../../../../src/core/errors.ts';
import type { Codec, Frame } from '../../../../src/core/media.ts';
import { hex } from '../fixtures.ts';
import { depayloadPackets, patterned, pkt, toPackets } from '../rtp-helpers.ts';

const audio = (pts: number, data: Buffer): Frame => ({ pts, dts: pts, keyframe: true, data });

describe('Opus TOC', () => {
  // [toc byte, mode, frame size in 48 kHz samples]
  const TOC_CASES: [number, string, number][] = [
    [0x00, 'silk', 480], // config 0: SILK NB 10 ms
    [0x18, 'silk', 2880], // config 3: SILK NB 60 ms
    [0x48, 'silk', 960], // config 9: SILK WB 20 ms
    [0x60, 'hybrid', 480], // config 12: hybrid SWB 10 ms
    [0x78, 'hybrid', 960], // config 15: hybrid FB 20 ms
    [0x80, 'celt', 120], // config 16: CELT NB 2.5 ms
    [0xf8, 'celt', 960], // config 31: CELT FB 20 ms
  ];
  for (const [toc, mode, size] of TOC_CASES) {
    test(`parseOpusToc() reads TOC 0x${toc.toString(16)} as ${mode} with ${size}-sample frames`, () => {
      const t = parseOpusToc(toc);
      assert.equal(t.mode, mode);
      assert.equal(t.frameSize, size);
    });
  }

  test('parseOpusToc() reads the stereo flag and the frame count code', () => {
    assert.deepEqual([parseOpusToc(0xfc).stereo, parseOpusToc(0xfc).code], [true, 0]);
    assert.equal(parseOpusToc(0xfb).code, 3);
  });

  test('opusPacketDuration() multiplies the frame size by the frame count of codes 0 to 3', () => {
    assert.equal(opusPacketDuration(hex('f8ff')), 960);
    assert.equal(opusPacketDuration(hex('f9ff')), 1920);
    assert.equal(opusPacketDuration(hex('faff')), 1920);
    assert.equal(opusPacketDuration(hex('fb03ff')), 2880);
  });

  test('opusPacketDuration() throws ParseError on an empty packet, a missing count byte, M = 0 and more than 120 ms', () => {
    assert.throws(() => opusPacketDuration(Buffer.alloc(0)), ParseError);
    assert.throws(() => opusPacketDuration(hex('fb')), ParseError);
    assert.throws(() => opusPacketDuration(hex('fb00')), ParseError);
    assert.throws(() => opusPacketDuration(hex('1b03')), ParseError); // 3 x 60 ms
    assert.equal(opusFrameCount(hex('1b02')), 2);
  });
});

describe('Opus RTP', () => {
  const FRAMES = [audio(0, hex('fc0102')), audio(960, hex('f8aabb'))];
  const PACKETS: RtpOutput[] = FRAMES.map((f) => ({ payload: f.data, timestamp: f.pts, marker: true }));

  test('payloader.packetize() sends each Opus packet as it is with the marker set', () => {
    const p = new OpusPayloader();
    assert.deepEqual(
      FRAMES.flatMap((f) => p.packetize(f)),
      PACKETS,
    );
  });

  test('depayloader.push() returns each payload as a frame at the packet timestamp', () => {
    assert.deepEqual(depayloadPackets(new OpusDepayloader(), toPackets(PACKETS)), FRAMES);
  });

  test('depayloader.push() drops and counts empty packets and packets with a malformed TOC', () => {
    const d = new OpusDepayloader();
    assert.deepEqual(
      depayloadPackets(d, [pkt(1, 0, true, Buffer.alloc(0)), pkt(2, 0, true, hex('fb00'))]),
      [],
    );
    assert.equal(d.invalid, 2);
  });
});

describe('G.711 and L16 RTP', () => {
  const PCMA: Codec = { name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8 };
  const L16: Codec = { name: 'L16', clockRate: 44100, channels: 2, payloadType: 10 };
  const TONE = patterned([], 400); // 50 ms of PCMA

  // One table for both directions. The depayloaded frames are the packets (one frame per packet).
  const CASES: { name: string; codec: Codec; mtu?: number; frame: Frame; packets: RtpOutput[] }[] = [
    {
      name: 'PCMA 50 ms into 20 ms packets',
      codec: PCMA,
      frame: audio(800, TONE),
      packets: [
        { payload: TONE.subarray(0, 160), timestamp: 800, marker: true },
        { payload: TONE.subarray(160, 320), timestamp: 960, marker: true },
        { payload: TONE.subarray(320), timestamp: 1120, marker: true },
      ],
    },
    {
      name: 'PCMA at a 100-byte MTU',
      codec: PCMA,
      mtu: 100,
      frame: audio(0, TONE.subarray(0, 160)),
      packets: [
        { payload: TONE.subarray(0, 100), timestamp: 0, marker: true },
        { payload: TONE.subarray(100, 160), timestamp: 100, marker: true },
      ],
    },
    {
      name: 'L16 stereo split at whole samples by the MTU',
      codec: L16,
      mtu: 1202,
      frame: audio(0, patterned([], 2000)),
      packets: [
        { payload: patterned([], 2000).subarray(0, 1200), timestamp: 0, marker: true },
        { payload: patterned([], 2000).subarray(1200), timestamp: 300, marker: true },
      ],
    },
  ];

  for (const c of CASES) {
    test(`payloader.packetize() splits ${c.name}`, () => {
      assert.deepEqual(new PcmPayloader(c.codec, c.mtu).packetize(c.frame), c.packets);
    });

    test(`depayloader.push() returns the packets of ${c.name} as frames`, () => {
      const frames = depayloadPackets(new PcmDepayloader(), toPackets(c.packets));
      assert.deepEqual(
        frames,
        c.packets.map((p) => audio(p.timestamp, p.payload)),
      );
      assert.deepEqual(Buffer.concat(frames.map((f) => f.data)), c.frame.data);
    });
  }

  test('payloader.packetize() throws BadRequestError for a frame that is not whole samples', () => {
    assert.throws(() => new PcmPayloader(L16).packetize(audio(0, Buffer.alloc(5))), BadRequestError);
  });

  test('new PcmPayloader() has a 20 ms packet size of 160 bytes for PCMU at 8 kHz', () => {
    assert.equal(new PcmPayloader({ name: 'PCMU', clockRate: 8000 }).maxPayload, 160);
  });
});
