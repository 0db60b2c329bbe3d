/**
 * FLV video tag bodies (Adobe FLV 10.1 E.4.3.1) and their Enhanced RTMP form (veovera E-RTMP
 * v1, `ExVideoTagHeader`): the payload of FLV video tags and of RTMP video messages.
 *
 * Legacy (AVC):
 *   FrameType (4) | CodecID (4) = 7
 *   AVCPacketType (8): 0 = AVCDecoderConfigurationRecord, 1 = NAL units, 2 = end of sequence
 *   CompositionTime (SI24, ms) | data
 *
 * Enhanced:
 *   IsExHeader (1) = 1 | FrameType (3) | PacketType (4)
 *   FourCC (32): 'avc1' | 'hvc1' | ...
 *   PacketType 0 SequenceStart: decoder configuration record
 *              1 CodedFrames: CompositionTime (SI24, ms) | NAL units
 *              2 SequenceEnd | 3 CodedFramesX: NAL units (composition time 0)
 *              4 Metadata | 5 MPEG2TSSequenceStart | 6 Multitrack | 7 ModEx (not handled)
 */

import { AVCC_LENGTH_SIZE, joinAvcc, splitAvcc } from '../../codecs/avcc.ts';
import { ParseError } from '../../core/errors.ts';
import type { Frame } from '../../core/media.ts';
import { TS_CLOCK_RATE } from '../ts/timestamp.ts';
import { type FlvVideoCodec, type FlvVideoTag, VideoCodecId, VideoFrameType } from './types.ts';

const WHAT = 'FLV video tag';
const EX_HEADER = 0x80;
const EX_FRAME_TYPE_SHIFT = 4;
const EX_FRAME_TYPE_MASK = 0x07;
const EX_PACKET_TYPE_MASK = 0x0f;
const LEGACY_FRAME_TYPE_SHIFT = 4;
const CODEC_ID_MASK = 0x0f;
const FOURCC_SIZE = 4;
const SI24_SIZE = 3;
const LEGACY_HEADER_SIZE = 2 + SI24_SIZE;
const MS_TO_90K = TS_CLOCK_RATE / 1000;

const AvcPacketType = { SEQUENCE_HEADER: 0, NALU: 1, END_OF_SEQUENCE: 2 } as const;
/** Enhanced RTMP VideoPacketType. */
export const VideoPacketType = {
  SEQUENCE_START: 0,
  CODED_FRAMES: 1,
  SEQUENCE_END: 2,
  CODED_FRAMES_X: 3,
} as const;

const FOURCC_CODECS: Readonly<Record<string, FlvVideoCodec>> = { avc1: 'H264', hvc1: 'H265' };
const CODEC_FOURCC: Readonly<Record<FlvVideoCodec, string>> = { H264: 'avc1', H265: 'hvc1' };

/** The signed 24-bit composition time at `o`, in ms. */
function readSi24(buf: Buffer, o: number): number {
  const v = buf.readUIntBE(o, SI24_SIZE);
  return v & 0x800000 ? v - 0x1000000 : v;
}

function frameOf(
  codec: FlvVideoCodec,
  data: Buffer,
  frameType: number,
  timestampMs: number,
  ctsMs: number,
  lengthSize: number,
): FlvVideoTag {
  const avcc = lengthSize === AVCC_LENGTH_SIZE ? data : joinAvcc(splitAvcc(data, lengthSize));
  if (avcc.length === 0) return { type: 'skip', reason: 'empty frame' };
  const dts = timestampMs * MS_TO_90K;
  const frame: Frame = {
    pts: dts + ctsMs * MS_TO_90K,
    dts,
    keyframe: frameType === VideoFrameType.KEY || frameType === VideoFrameType.GENERATED_KEY,
    data: avcc,
  };
  return { type: 'frame', codec, frame };
}

/**
 * Parses a video tag body dated `timestampMs` (the tag's unwrapped timestamp). Frame times are in
 * 90 kHz units. `nalLengthSize` is the NAL length size (1, 2 or 4) from the stream's decoder
 * configuration record. Throws `ParseError` when the body is truncated or its NAL units overrun.
 */
export function parseVideoTagBody(
  body: Buffer,
  timestampMs: number,
  nalLengthSize = AVCC_LENGTH_SIZE,
): FlvVideoTag {
  ParseError.need(WHAT, body, 0, 1, 'header');
  const b0 = body[0];
  if (b0 & EX_HEADER) {
    const frameType = (b0 >> EX_FRAME_TYPE_SHIFT) & EX_FRAME_TYPE_MASK;
    const packetType = b0 & EX_PACKET_TYPE_MASK;
    if (packetType > VideoPacketType.CODED_FRAMES_X)
      return { type: 'skip', reason: `PacketType ${packetType}` };
    ParseError.need(WHAT, body, 1, FOURCC_SIZE, 'FourCC');
    const fourcc = body.toString('latin1', 1, 1 + FOURCC_SIZE);
    const codec = FOURCC_CODECS[fourcc];
    if (!codec) return { type: 'skip', reason: `FourCC ${JSON.stringify(fourcc)}` };
    if (frameType === VideoFrameType.COMMAND) return { type: 'skip', reason: 'command frame' };
    let o = 1 + FOURCC_SIZE;
    switch (packetType) {
      case VideoPacketType.SEQUENCE_START:
        return { type: 'config', codec, record: body.subarray(o) };
      case VideoPacketType.SEQUENCE_END:
        return { type: 'end', codec };
      case VideoPacketType.CODED_FRAMES: {
        ParseError.need(WHAT, body, o, SI24_SIZE, 'CompositionTime');
        const cts = readSi24(body, o);
        o += SI24_SIZE;
        return frameOf(codec, body.subarray(o), frameType, timestampMs, cts, nalLengthSize);
      }
      default:
        return frameOf(codec, body.subarray(o), frameType, timestampMs, 0, nalLengthSize);
    }
  }
  const frameType = b0 >> LEGACY_FRAME_TYPE_SHIFT;
  const codecId = b0 & CODEC_ID_MASK;
  if (codecId !== VideoCodecId.AVC) return { type: 'skip', reason: `CodecID ${codecId}` };
  if (frameType === VideoFrameType.COMMAND) return { type: 'skip', reason: 'command frame' };
  ParseError.need(WHAT, body, 1, LEGACY_HEADER_SIZE - 1, 'AVCPacketType and CompositionTime');
  const packetType = body[1];
  const cts = readSi24(body, 2);
  const data = body.subarray(LEGACY_HEADER_SIZE);
  switch (packetType) {
    case AvcPacketType.SEQUENCE_HEADER:
      return { type: 'config', codec: 'H264', record: data };
    case AvcPacketType.NALU:
      return frameOf('H264', data, frameType, timestampMs, cts, nalLengthSize);
    case AvcPacketType.END_OF_SEQUENCE:
      return { type: 'end', codec: 'H264' };
    default:
      return { type: 'skip', reason: `AVCPacketType ${packetType}` };
  }
}

/** Options of the video tag builders. */
export interface VideoTagOptions {
  /** Write the Enhanced RTMP header even for H.264 (H.265 always uses it). */
  enhanced?: boolean;
}

function head(codec: FlvVideoCodec, frameType: number, packetType: number, enhanced: boolean): Buffer {
  if (codec === 'H264' && !enhanced) {
    return Buffer.from([(frameType << LEGACY_FRAME_TYPE_SHIFT) | VideoCodecId.AVC, packetType]);
  }
  const out = Buffer.alloc(1 + FOURCC_SIZE);
  out[0] = EX_HEADER | (frameType << EX_FRAME_TYPE_SHIFT) | packetType;
  out.write(CODEC_FOURCC[codec], 1, 'latin1');
  return out;
}

function si24(value: number): Buffer {
  const out = Buffer.alloc(SI24_SIZE);
  out.writeUIntBE((Math.round(value) + 0x1000000) % 0x1000000, 0, SI24_SIZE);
  return out;
}

/**
 * A sequence-header body for an avcC (H.264) or hvcC (H.265) record: AVCPacketType 0, or the
 * enhanced SequenceStart with FourCC `avc1` / `hvc1`.
 */
export function videoSequenceHeaderBody(
  codec: FlvVideoCodec,
  record: Buffer,
  options: VideoTagOptions = {},
): Buffer {
  const enhanced = codec === 'H265' || options.enhanced === true;
  const parts = [head(codec, VideoFrameType.KEY, VideoPacketType.SEQUENCE_START, enhanced)];
  if (!enhanced) parts.push(si24(0));
  parts.push(record);
  return Buffer.concat(parts);
}

/**
 * The body of one frame (AVCC with 4-byte lengths, 90 kHz times). The composition time is
 * `pts - dts` in whole ms; an enhanced frame without one uses CodedFramesX.
 */
export function videoTagBody(codec: FlvVideoCodec, frame: Frame, options: VideoTagOptions = {}): Buffer {
  const enhanced = codec === 'H265' || options.enhanced === true;
  const frameType = frame.keyframe ? VideoFrameType.KEY : VideoFrameType.INTER;
  const cts = Math.round(frame.pts / MS_TO_90K) - Math.round(frame.dts / MS_TO_90K);
  if (enhanced && cts === 0) {
    return Buffer.concat([head(codec, frameType, VideoPacketType.CODED_FRAMES_X, true), frame.data]);
  }
  return Buffer.concat([
    head(codec, frameType, VideoPacketType.CODED_FRAMES, enhanced),
    si24(cts),
    frame.data,
  ]);
}

/** The end-of-sequence body. */
export function videoEndOfSequenceBody(codec: FlvVideoCodec, options: VideoTagOptions = {}): Buffer {
  const enhanced = codec === 'H265' || options.enhanced === true;
  const h = head(codec, VideoFrameType.KEY, VideoPacketType.SEQUENCE_END, enhanced);
  return enhanced ? h : Buffer.concat([h, si24(0)]);
}
