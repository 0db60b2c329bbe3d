/**
 * Every parser and depayloader of mediagate with its seed corpus and the one error type it may
 * throw (a rejection). Anything else escaping `run()` is a crash: a `RangeError` from reading past
 * a buffer, a `TypeError` from a field that was not there, a failed round-trip assertion, or a
 * case slower than the runner's limit. `npm run fuzz` and `test/unit/fuzz/budget.test.ts` both
 * run this table; `test/fuzz/corpus/README.md` says where each corpus came from.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parseWsMessage } from '../../src/api/ws.ts';
import { parseAdtsHeader } from '../../src/codecs/aac/adts.ts';
import { parseAudioSpecificConfig } from '../../src/codecs/aac/config.ts';
import { parseAvcC } from '../../src/codecs/h264/avcc-record.ts';
import { parseH264Sps } from '../../src/codecs/h264/sps.ts';
import { parseHvcC } from '../../src/codecs/h265/hvcc-record.ts';
import { parseH265Sps } from '../../src/codecs/h265/sps.ts';
import { ConfigError, mergeAll, parseConfigText } from '../../src/config/load.ts';
import { BadRequestError, MediagateError, ParseError } from '../../src/core/errors.ts';
import type { Codec } from '../../src/core/media.ts';
import { FlvDemuxer } from '../../src/formats/flv/demuxer.ts';
import { sampleFrame } from '../../src/formats/mp4/frame.ts';
import { readMp4 } from '../../src/formats/mp4/reader.ts';
import { TsDemuxer } from '../../src/formats/ts/demuxer.ts';
import { requestsForCodecList } from '../../src/protocols/mp4/codecs.ts';
import { splitAggregate } from '../../src/protocols/rtmp/aggregate.ts';
import { ChunkParser } from '../../src/protocols/rtmp/chunk-parser.ts';
import { parseCommand, parseData } from '../../src/protocols/rtmp/command.ts';
import { parseUserControl } from '../../src/protocols/rtmp/control.ts';
import { MessageType } from '../../src/protocols/rtmp/types.ts';
import { RtpTrackReceiver } from '../../src/protocols/rtp/track-receiver.ts';
import { parseChallenges } from '../../src/protocols/rtsp/auth.ts';
import { RtspDecoder } from '../../src/protocols/rtsp/message.ts';
import { parseTarget, requestsFromQuery } from '../../src/protocols/rtsp/server/query.ts';
import { parseRtpInfo, parseSession, parseTransports } from '../../src/protocols/rtsp/transport.ts';
import { FrameDecoder } from '../../src/protocols/webrtc/framing.ts';
import { parseOffer } from '../../src/protocols/webrtc/peer/offer.ts';
import {
  checkBindingRequest,
  isStun,
  StunMessage,
  verifyFingerprint,
  verifyMessageIntegrity,
} from '../../src/protocols/webrtc/stun/index.ts';
import { decodeMessage, parseOpen } from '../../src/protocols/webrtc/transport/dcep.ts';
import { readExtensions } from '../../src/rtp/extensions.ts';
import { parseRtp, serializeRtp } from '../../src/rtp/packet.ts';
import { isRtcp, parseRtcpCompound } from '../../src/rtp/rtcp.ts';
import { parseSdp, sdpToMedias, serializeSdp, viewMedias, viewSession } from '../../src/sdp/index.ts';
import { H264_SAMPLES, H265_SAMPLES, hex } from '../unit/codecs/fixtures.ts';
import {
  AAC_CODEC,
  aacStreams,
  corpusFiles,
  framedStreams,
  h264Streams,
  h265Streams,
  mp4Files,
  rtcpPackets,
  rtmpStreams,
  rtpPackets,
  sdpFixtures,
  stunVectors,
} from './corpus-build.ts';
import { chunks, type Rng } from './engine.ts';

/** An error class a target may let escape. */
// biome-ignore lint/suspicious/noExplicitAny: any constructor of an Error
export type ErrorClass = abstract new (...args: any[]) => Error;

export interface FuzzTarget {
  name: string;
  /** What one case calls, for the report. */
  calls: string;
  /** The only error type that may escape `run()`: it counts as a rejection. */
  allowed: ErrorClass;
  /** Seed inputs; built once and cached by the runner. */
  corpus: () => Buffer[];
  /** Line-based text: the mutator also inserts text tokens. */
  text?: boolean;
  /** Mutated inputs are cut to this length (default 64 KiB). */
  maxLength?: number;
  /** One case. `rng` drives stateful choices (chunking); it is seeded from the input. Returns true when accepted. */
  run: (input: Buffer, rng: Rng) => boolean;
}

/** Reads `[u16 length][RTP packet]` records leniently (a lying length ends the stream). */
function* records(buf: Buffer): Generator<Buffer> {
  let off = 0;
  while (off + 2 <= buf.length) {
    const len = buf.readUInt16BE(off);
    off += 2;
    yield buf.subarray(off, Math.min(buf.length, off + len));
    off += len;
  }
}

/** Feeds an RTP record stream through the receiver every RTP ingest uses (reorder, depayload). */
function receive(codec: Codec, input: Buffer, rng: Rng): boolean {
  const receiver = new RtpTrackReceiver(codec, rng.chance(0.5));
  let frames = 0;
  for (const packet of records(input)) {
    let parsed: ReturnType<typeof parseRtp>;
    try {
      parsed = parseRtp(packet);
    } catch (err) {
      if (err instanceof ParseError) continue; // dropped and counted by the real ingest
      throw err;
    }
    for (const f of receiver.push(parsed)) {
      assert.ok(f.data.length > 0, 'empty frame');
      assert.ok(Number.isFinite(f.pts) && Number.isFinite(f.dts), 'finite timestamps');
      frames++;
    }
  }
  return frames > 0;
}

const text = (b: Buffer) => b.toString('latin1');

let tail: Buffer | undefined;
/** The demo MP4 after its moov (a `free` and the `mdat`). */
function demoTail(): Buffer {
  tail ??= (() => {
    const demo = readFileSync(new URL('../../assets/demo.mp4', import.meta.url));
    return demo.subarray(32 + demo.readUInt32BE(32));
  })();
  return tail;
}

export const TARGETS: FuzzTarget[] = [
  {
    name: 'rtp',
    calls: 'parseRtp(), readExtensions(), serializeRtp() round trip',
    allowed: ParseError,
    corpus: rtpPackets,
    run(input) {
      const copy = Buffer.from(input);
      const p = parseRtp(input);
      assert.deepEqual(input, copy, 'parseRtp() modified its input');
      if (p.extension) {
        try {
          readExtensions(p.extension);
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
        }
      }
      assert.deepEqual(parseRtp(serializeRtp(p)), p, 'round trip');
      return true;
    },
  },
  {
    name: 'rtcp',
    calls: 'parseRtcpCompound(), isRtcp()',
    allowed: ParseError,
    corpus: rtcpPackets,
    run(input) {
      isRtcp(input);
      return parseRtcpCompound(input).length >= 0;
    },
  },
  {
    name: 'stun',
    calls: 'StunMessage.parse(), every getter, MESSAGE-INTEGRITY, FINGERPRINT, checkBindingRequest()',
    allowed: ParseError,
    corpus: stunVectors,
    run(input) {
      isStun(input);
      const msg = StunMessage.parse(input);
      for (const read of [
        () => msg.username,
        () => msg.xorMappedAddress,
        () => msg.mappedAddress,
        () => msg.errorCode,
        () => msg.priority,
        () => msg.iceControlling,
        () => msg.iceControlled,
        () => verifyMessageIntegrity(input, 'VOkJxbRl1RmTxUk/WvJxBt'),
        () => verifyFingerprint(input),
      ]) {
        try {
          read();
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
        }
      }
      checkBindingRequest(msg, { ufrag: 'evtj', pwd: 'VOkJxbRl1RmTxUk/WvJxBt' });
      StunMessage.parse(msg.serialize());
      return true;
    },
  },
  {
    name: 'rfc4571',
    calls: 'FrameDecoder.push() (ICE-TCP framing) in random chunks',
    allowed: ParseError,
    corpus: framedStreams,
    run(input, rng) {
      const d = new FrameDecoder(18_432);
      let packets = 0;
      for (const c of chunks(input, rng)) packets += d.push(c).length;
      return packets > 0;
    },
  },
  {
    name: 'rtsp-message',
    calls: 'RtspDecoder.push() in random chunks, then Transport, Session, RTP-Info, WWW-Authenticate parsers',
    allowed: ParseError,
    text: true,
    corpus: () => corpusFiles('rtsp'),
    run(input, rng) {
      const d = new RtspDecoder();
      let items = 0;
      for (const c of chunks(input, rng)) {
        for (const item of d.push(c)) {
          items++;
          if (item.kind === 'frame') continue;
          const h = item.headers;
          const transport = h.get('transport');
          if (transport !== undefined) parseTransports(transport);
          const session = h.get('session');
          if (session !== undefined) parseSession(session);
          const info = h.get('rtp-info');
          if (info !== undefined) parseRtpInfo(info);
          const auth = h.get('www-authenticate');
          if (auth !== undefined) parseChallenges(auth);
        }
      }
      return items > 0;
    },
  },
  {
    name: 'rtsp-url',
    calls: 'parseTarget(), requestsFromQuery() (the RTSP server reading a request URL)',
    allowed: BadRequestError,
    text: true,
    maxLength: 8192,
    corpus: () => corpusFiles('url'),
    run(input) {
      const target = parseTarget(text(input));
      requestsFromQuery(target.query);
      return true;
    },
  },
  {
    name: 'sdp',
    calls: 'parseSdp(), serializeSdp() fixed point, viewSession(), viewMedias(), sdpToMedias()',
    allowed: ParseError,
    text: true,
    corpus: sdpFixtures,
    run(input) {
      const sdp = parseSdp(input);
      const once = serializeSdp(sdp);
      assert.equal(serializeSdp(parseSdp(once)), once, 'serializeSdp() is not a fixed point');
      viewSession(sdp);
      viewMedias(sdp);
      sdpToMedias(sdp, { perspective: 'client', base: 'rtsp://cam/x' });
      sdpToMedias(sdp, { perspective: 'peer' });
      return true;
    },
  },
  {
    name: 'webrtc-offer',
    calls: 'parseOffer() (WHEP/WHIP and webrtc/offer)',
    allowed: BadRequestError,
    text: true,
    corpus: () => [...sdpFixtures().filter((b) => b.includes('ice-ufrag')), ...corpusFiles('offer')],
    run: (input) => parseOffer(input).sections.length > 0,
  },
  {
    name: 'h264-rtp',
    calls: 'parseRtp() + RtpTrackReceiver (reorder buffer, H264Depayloader: STAP-A, FU-A)',
    allowed: ParseError,
    corpus: h264Streams,
    run: (input, rng) => receive({ name: 'H264', clockRate: 90000, payloadType: 96 }, input, rng),
  },
  {
    name: 'h265-rtp',
    calls: 'parseRtp() + RtpTrackReceiver (reorder buffer, H265Depayloader: AP, FU)',
    allowed: ParseError,
    corpus: h265Streams,
    run: (input, rng) => receive({ name: 'H265', clockRate: 90000, payloadType: 97 }, input, rng),
  },
  {
    name: 'aac-rtp',
    calls: 'parseRtp() + RtpTrackReceiver (AacDepayloader, AU headers)',
    allowed: ParseError,
    corpus: aacStreams,
    run: (input, rng) => receive(AAC_CODEC, input, rng),
  },
  {
    name: 'h264-sps',
    calls: 'parseH264Sps(), parseAvcC()',
    allowed: ParseError,
    corpus: () => [
      ...H264_SAMPLES.map((s) => s.sps),
      hex('014d4028ffe1001a674d4028eca03c0113f2e022000003000200000300641e30632c01000568ebe3cb20'),
    ],
    run(input) {
      if (input[0] === 1) parseAvcC(input);
      else parseH264Sps(input);
      return true;
    },
  },
  {
    name: 'h265-sps',
    calls: 'parseH265Sps(), parseHvcC()',
    allowed: ParseError,
    corpus: () => [
      ...H265_SAMPLES.map((s) => s.sps),
      hex(
        '0101600000009000000000005df000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003005d959809' +
          'a10001002b42010101600000030090000003000003005da00280802d165959a4932bc05a020000030002000003003210' +
          'a2000100074401c172b46240',
      ),
    ],
    run(input) {
      if (input[0] === 1) parseHvcC(input);
      else parseH265Sps(input);
      return true;
    },
  },
  {
    name: 'aac-config',
    calls: 'parseAudioSpecificConfig(), parseAdtsHeader()',
    allowed: ParseError,
    corpus: () => [
      hex('1190'),
      hex('1210'),
      hex('178012c008'),
      hex('f84640'),
      hex('eb098800'),
      hex('fff150802b3ffc'),
    ],
    run(input) {
      if (input[0] === 0xff) parseAdtsHeader(input);
      else parseAudioSpecificConfig(input);
      return true;
    },
  },
  {
    name: 'mp4',
    calls: 'readMp4() and sampleFrame() of every sample',
    allowed: ParseError,
    corpus: mp4Files,
    maxLength: 1 << 20,
    run(input) {
      // The demo's moov is stored alone: its 745 KB of samples are appended here, so that the
      // mutations land in the boxes and not in the media data.
      if (!input.includes('mdat')) input = Buffer.concat([input, demoTail()]);
      const file = readMp4(input);
      for (const track of file.tracks) {
        for (const s of track.samples) {
          try {
            sampleFrame(input, track, s);
          } catch (err) {
            if (!(err instanceof ParseError)) throw err;
          }
        }
      }
      return true;
    },
  },
  {
    name: 'ts',
    calls: 'TsDemuxer.push() in random chunks, flush()',
    allowed: ParseError,
    corpus: () => corpusFiles('ts'),
    maxLength: 1 << 20,
    run(input, rng) {
      const d = new TsDemuxer();
      let frames = 0;
      for (const c of chunks(input, rng)) frames += d.push(c).filter((e) => e.type === 'frame').length;
      frames += d.flush().filter((e) => e.type === 'frame').length;
      return frames > 0;
    },
  },
  {
    name: 'flv',
    calls: 'FlvDemuxer.push() in random chunks, flush()',
    allowed: ParseError,
    corpus: () => corpusFiles('flv'),
    maxLength: 1 << 20,
    run(input, rng) {
      const d = new FlvDemuxer();
      let frames = 0;
      for (const c of chunks(input, rng)) frames += d.push(c).filter((e) => e.type === 'frame').length;
      frames += d.flush().filter((e) => e.type === 'frame').length;
      return frames > 0;
    },
  },
  {
    name: 'rtmp',
    calls:
      'ChunkParser.push() in random chunks, then parseCommand(), parseData(), parseUserControl(), splitAggregate()',
    allowed: ParseError,
    corpus: rtmpStreams,
    maxLength: 1 << 18,
    run(input, rng) {
      const parser = new ChunkParser({ maxMessageSize: 1 << 20, maxPendingBytes: 1 << 21 });
      let messages = 0;
      for (const c of chunks(input, rng)) {
        for (const m of parser.push(c)) {
          messages++;
          try {
            if (m.type === MessageType.COMMAND_AMF0) parseCommand(m);
            else if (m.type === MessageType.DATA_AMF0) parseData(m);
            else if (m.type === MessageType.USER_CONTROL) parseUserControl(m.body);
            else if (m.type === MessageType.AGGREGATE) splitAggregate(m);
          } catch (err) {
            if (!(err instanceof ParseError)) throw err; // a bad message is dropped, the connection goes on
          }
        }
      }
      return messages > 0;
    },
  },
  {
    name: 'dcep',
    calls: 'parseOpen(), decodeMessage() (DataChannel establishment)',
    allowed: ParseError,
    corpus: () => [
      hex('03000000000000000004000063686174'),
      hex('038000010000000000050005636861747370726f746f'),
    ],
    run(input) {
      decodeMessage(51, input);
      decodeMessage(53, input);
      parseOpen(input);
      return true;
    },
  },
  {
    name: 'ws-message',
    calls: 'parseWsMessage(), then requestsForCodecList() for mse and parseOffer() for webrtc/offer',
    allowed: MediagateError,
    text: true,
    corpus: () => corpusFiles('ws'),
    run(input) {
      const msg = parseWsMessage(input);
      if (msg.type === 'mse') requestsForCodecList(msg.value);
      else if (msg.type === 'webrtc/offer') {
        if (typeof msg.value !== 'string') throw new BadRequestError('offer must be a string');
        parseOffer(msg.value);
      }
      return true;
    },
  },
  {
    name: 'config',
    calls: 'parseConfigText() (YAML, ${ENV} expansion, schema), mergeAll()',
    allowed: ConfigError,
    text: true,
    maxLength: 16_384,
    corpus: () => corpusFiles('config'),
    run(input) {
      const value = parseConfigText(input.toString('utf8'), 'fuzz.yaml', { CAM_PASS: 'x' });
      mergeAll([value, value]);
      return true;
    },
  },
];
