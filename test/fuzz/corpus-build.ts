/**
 * The parts of the fuzz corpus that are built from real samples at load time rather than stored
 * as files: RTP packet streams of the ffmpeg-made H.264 / H.265 parameter sets (test/unit/codecs/
 * fixtures.ts) packetized by our payloaders, RFC 4571 framed STUN and RTP, and the small MP4 files
 * of the MP4 reader tests (test/unit/mp4/craft.ts). Committed files live in `corpus/`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { aacFmtp } from '../../src/codecs/aac/fmtp.ts';
import { AacPayloader } from '../../src/codecs/aac/payloader.ts';
import { joinAvcc } from '../../src/codecs/avcc.ts';
import { H264Payloader } from '../../src/codecs/h264/payloader.ts';
import { H265Payloader } from '../../src/codecs/h265/payloader.ts';
import type { RtpOutput } from '../../src/codecs/rtp-types.ts';
import type { Codec, Frame } from '../../src/core/media.ts';
import { buildAvcC, buildHvcC } from '../../src/formats/mp4/avc.ts';
import { initSegment } from '../../src/formats/mp4/init-segment.ts';
import { ChunkWriter } from '../../src/protocols/rtmp/chunk-writer.ts';
import { commandMessage, dataMessage } from '../../src/protocols/rtmp/command.ts';
import { setChunkSizeMessage, streamBeginMessage } from '../../src/protocols/rtmp/control.ts';
import { MessageType } from '../../src/protocols/rtmp/types.ts';
import { frame as frame4571 } from '../../src/protocols/webrtc/framing.ts';
import { serializeRtp } from '../../src/rtp/packet.ts';
import { H264_SAMPLES, H265_SAMPLES, hex } from '../unit/codecs/fixtures.ts';
import {
  avc1Entry,
  avccSample,
  craftMp4,
  DEMO_PPS,
  DEMO_SPS,
  mp4aEntry,
  opusEntry,
} from '../unit/mp4/craft.ts';
import { RTCP_CASES, RTP_CASES } from '../unit/rtp/corpus.ts';
import { RFC5769 } from '../unit/webrtc/stun-vectors.ts';

const CORPUS_DIR = new URL('./corpus/', import.meta.url);

/** The files of `corpus/<sub>/`, sorted by name. */
export function corpusFiles(sub: string): Buffer[] {
  const dir = new URL(`${sub}/`, CORPUS_DIR);
  return readdirSync(dir)
    .sort()
    .map((name) => readFileSync(new URL(name, dir)));
}

/** The camera SDPs of the SDP tests. */
export function sdpFixtures(): Buffer[] {
  const dir = new URL('../unit/sdp/fixtures/', import.meta.url);
  return readdirSync(dir)
    .sort()
    .map((name) => readFileSync(new URL(name, dir)));
}

export const rtpPackets = (): Buffer[] => RTP_CASES.map((c) => hex(c.hex));
export const rtcpPackets = (): Buffer[] => RTCP_CASES.map((c) => hex(c.hex));
export const stunVectors = (): Buffer[] => Object.values(RFC5769).map((b) => Buffer.from(b));

/** A deterministic byte pattern that never contains a start code, starting with `header`. */
function patterned(header: number[], length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = i < header.length ? header[i] : 1 + ((i * 7) % 250);
  return b;
}

/**
 * RTP packets of `outputs` serialized and each prefixed with its 16-bit length (the record format
 * the RTP-stream targets read). Sequence numbers start at 65530 so every stream wraps to 0.
 */
export function packetStream(outputs: readonly RtpOutput[], payloadType: number): Buffer {
  const records = outputs.map((o, i) => {
    const packet = serializeRtp({
      version: 2,
      padding: false,
      marker: o.marker,
      payloadType,
      sequenceNumber: (65530 + i) & 0xffff,
      timestamp: o.timestamp >>> 0,
      ssrc: 0x1234abcd,
      csrc: [],
      payload: Buffer.from(o.payload),
    });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(packet.length);
    return Buffer.concat([len, packet]);
  });
  return Buffer.concat(records);
}

function videoFrames(nals: (i: number) => Buffer[], count = 4): Frame[] {
  return Array.from({ length: count }, (_, i) => ({
    pts: i * 3000,
    dts: i * 3000,
    keyframe: i === 0,
    data: joinAvcc(nals(i)),
  }));
}

/** H.264 streams (STAP-A, FU-A and single NAL packets) of two real parameter-set pairs. */
export function h264Streams(): Buffer[] {
  return [H264_SAMPLES[2], H264_SAMPLES[0]].flatMap((s, k) => {
    const frames = videoFrames((i) =>
      i === 0
        ? [s.sps, s.pps, patterned([0x65, 0x88], 2500)]
        : [patterned([0x41, 0x9a], 400 + k * 900), patterned([0x01, 0x9e], 20)],
    );
    return [1200, 300].map((mtu) => {
      const p = new H264Payloader(undefined, { mtu });
      return packetStream(
        frames.flatMap((f) => p.packetize(f)),
        96,
      );
    });
  });
}

/** H.265 streams (AP, FU and single NAL packets) of real VPS/SPS/PPS. */
export function h265Streams(): Buffer[] {
  return [H265_SAMPLES[0], H265_SAMPLES[3]].map((s, k) => {
    const frames = videoFrames((i) =>
      i === 0
        ? [s.vps, s.sps, s.pps, patterned([0x26, 0x01], 2500)]
        : [patterned([0x02, 0x01], 500 + 700 * k)],
    );
    const p = new H265Payloader(undefined, { mtu: k === 0 ? 1200 : 400 });
    return packetStream(
      frames.flatMap((f) => p.packetize(f)),
      97,
    );
  });
}

/** The AAC-hbr codec of the AAC stream targets (48 kHz stereo LC). */
export const AAC_CODEC: Codec = { name: 'AAC', clockRate: 48000, channels: 2, fmtp: aacFmtp(hex('1190')) };

/** AAC-hbr streams: several access units per packet and fragmented ones. */
export function aacStreams(): Buffer[] {
  const p = new AacPayloader(AAC_CODEC, 400);
  const frames = [300, 1000, 50, 2000, 10].map((size, i) => ({
    pts: i * 1024,
    dts: i * 1024,
    keyframe: true,
    data: patterned([0x21], size),
  }));
  return [
    packetStream(
      frames.flatMap((f) => p.packetize(f)),
      98,
    ),
  ];
}

/** RFC 4571 streams: a STUN request, RTP, RTCP and a DTLS-looking record, back to back. */
export function framedStreams(): Buffer[] {
  const dtls = hex('16fefd000000000000000000 0010 0100000c000000000000000c fefd');
  const packets = [...stunVectors(), ...rtpPackets(), ...rtcpPackets(), dtls];
  return [
    Buffer.concat(packets.map((p) => frame4571(p))),
    Buffer.concat([frame4571(stunVectors()[0]), frame4571(Buffer.alloc(0)), frame4571(rtpPackets()[2])]),
  ];
}

const HEVC_VPS = Buffer.from('QAEMAf//AWAAAAMAkAAAAwAAAwA8lZQJ', 'base64');
const HEVC_SPS = Buffer.from('QgEBAWAAAAMAkAAAAwAAAwA8oAoIDxZZWWSTK8BaAgAAAwACAAADADIQ', 'base64');
const HEVC_PPS = Buffer.from('RAHBcrRiQA==', 'base64');

/** The first 10 KiB of the demo MP4 (ftyp, the whole moov, 4 KiB of mdat) and crafted small files. */
export function mp4Files(): Buffer[] {
  const frames = (n: number, lengthSize = 4) =>
    Array.from({ length: n }, (_, i) =>
      avccSample([Buffer.from([0x65, i]), Buffer.alloc(i % 4, 9)], lengthSize),
    );
  const video = { id: 1, handler: 'vide', timescale: 90000, durations: [3000, 3000, 3000, 3000, 3000] };
  const audio = [Buffer.from([1, 2, 3]), Buffer.from([4]), Buffer.from([5, 6])];
  return [
    ...corpusFiles('mp4'),
    craftMp4([
      {
        ...video,
        sampleEntry: avc1Entry(),
        samples: frames(5),
        sync: [1, 4],
        ctts: { version: 1, offsets: [0, 6000, -3000, 0, 0] },
      },
    ]),
    craftMp4(
      [
        {
          ...video,
          sampleEntry: avc1Entry(320, 240, buildHvcC([HEVC_VPS], [HEVC_SPS], [HEVC_PPS]), 'hvc1'),
          samples: frames(5),
          co64: true,
        },
      ],
      { largeMdat: true },
    ),
    craftMp4(
      [
        { ...video, sampleEntry: avc1Entry(), samples: frames(5, 2), stz2: 8, samplesPerChunk: 2 },
        {
          id: 2,
          handler: 'soun',
          timescale: 48000,
          sampleEntry: mp4aEntry(),
          samples: audio,
          durations: [1024, 1024, 1024],
        },
        {
          id: 3,
          handler: 'soun',
          timescale: 48000,
          sampleEntry: opusEntry(1),
          samples: audio,
          durations: [960, 960, 960],
          constantSize: false,
        },
      ],
      { mdatToEnd: true },
    ),
    initSegment([
      {
        id: 1,
        codec: { name: 'H264', clockRate: 90000 },
        timescale: 90000,
        avcC: buildAvcC([DEMO_SPS], [DEMO_PPS]),
      },
      { id: 2, codec: { name: 'OPUS', clockRate: 48000, channels: 2 }, timescale: 48000 },
    ]),
  ];
}

/**
 * RTMP chunk streams as OBS or ffmpeg publish them: connect, createStream and publish commands,
 * onMetaData, a chunk size change, a stream begin, then interleaved video and audio messages
 * (one with an extended timestamp) split into chunks of 128, then 4096 bytes; and an aggregate.
 */
export function rtmpStreams(): Buffer[] {
  const w = new ChunkWriter();
  const parts = [
    w.write(
      commandMessage(3, 0, 'connect', 1, {
        app: 'live',
        type: 'nonprivate',
        flashVer: 'FMLE/3.0',
        tcUrl: 'rtmp://127.0.0.1/live',
      }),
    ),
    w.write(commandMessage(3, 0, 'createStream', 2, null)),
    w.write(commandMessage(8, 1, 'publish', 3, null, 'cam', 'live')),
    w.write(
      dataMessage(
        4,
        1,
        ['@setDataFrame', 'onMetaData', { width: 640, height: 360, videocodecid: 7, audiocodecid: 10 }],
        true,
      ),
    ),
    w.write(setChunkSizeMessage(4096)),
    w.write(streamBeginMessage(1)),
  ];
  w.setChunkSize(4096);
  for (let i = 0; i < 6; i++) {
    const video = Buffer.alloc(i === 0 ? 5000 : 600, i);
    video.set([i === 0 ? 0x17 : 0x27, 1, 0, 0, 0x42]);
    parts.push(
      w.write({
        csid: 6,
        type: MessageType.VIDEO,
        streamId: 1,
        timestamp: i * 40 + (i === 4 ? 0xffffff : 0),
        body: video,
      }),
    );
    parts.push(
      w.write({
        csid: 4,
        type: MessageType.AUDIO,
        streamId: 1,
        timestamp: i * 23,
        body: Buffer.from([0xaf, 1, 0x21, 0x10, 4, 0x60]),
      }),
    );
  }
  const sub = Buffer.alloc(11 + 6 + 4);
  sub[0] = MessageType.AUDIO;
  sub.writeUIntBE(6, 1, 3);
  sub.set([0xaf, 1, 0x21, 0x10, 4, 0x60], 11);
  sub.writeUInt32BE(17, 17);
  const aggregate = new ChunkWriter().write({
    csid: 5,
    type: MessageType.AGGREGATE,
    streamId: 1,
    timestamp: 0,
    body: Buffer.concat([sub, sub]),
  });
  return [Buffer.concat(parts), aggregate];
}
