/**
 * Protocol control messages (RTMP 1.0 section 5.4) and user control messages (7.1.7): builders
 * of whole messages on chunk stream 2, message stream 0, and a parser of user control events.
 *
 *   Set Chunk Size (1): chunk size (32, top bit 0)     Abort (2): chunk stream id (32)
 *   Acknowledgement (3): sequence number (32)          Window Ack Size (5): window (32)
 *   Set Peer Bandwidth (6): window (32) | limit type (8)
 *   User Control (4): event type (16) | event data: stream id (32) [| buffer length ms (32)],
 *                     or a timestamp (32) for Ping Request / Ping Response
 */
import { ParseError } from '../../core/errors.ts';
import { ChunkStream, MessageType, type RtmpMessage, UserControlEvent } from './types.ts';

const WHAT = 'RTMP user control';

function control(type: number, body: Buffer): RtmpMessage {
  return { csid: ChunkStream.CONTROL, type, streamId: 0, timestamp: 0, body };
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}

export function setChunkSizeMessage(size: number): RtmpMessage {
  return control(MessageType.SET_CHUNK_SIZE, u32(size & 0x7fffffff));
}

export function abortMessage(csid: number): RtmpMessage {
  return control(MessageType.ABORT, u32(csid));
}

/** An Acknowledgement of `bytes` received so far (modulo 2^32). */
export function ackMessage(bytes: number): RtmpMessage {
  return control(MessageType.ACK, u32(bytes % 2 ** 32));
}

export function windowAckSizeMessage(size: number): RtmpMessage {
  return control(MessageType.WINDOW_ACK_SIZE, u32(size));
}

export function setPeerBandwidthMessage(size: number, limitType: number): RtmpMessage {
  const body = Buffer.alloc(5);
  body.writeUInt32BE(size >>> 0, 0);
  body[4] = limitType;
  return control(MessageType.SET_PEER_BANDWIDTH, body);
}

/** A user control message: `event` with one or two u32 values. */
export function userControlMessage(event: number, value: number, value2?: number): RtmpMessage {
  const body = Buffer.alloc(value2 === undefined ? 6 : 10);
  body.writeUInt16BE(event, 0);
  body.writeUInt32BE(value >>> 0, 2);
  if (value2 !== undefined) body.writeUInt32BE(value2 >>> 0, 6);
  return control(MessageType.USER_CONTROL, body);
}

export function streamBeginMessage(streamId: number): RtmpMessage {
  return userControlMessage(UserControlEvent.STREAM_BEGIN, streamId);
}

export function streamEofMessage(streamId: number): RtmpMessage {
  return userControlMessage(UserControlEvent.STREAM_EOF, streamId);
}

/** Set Buffer Length: how many ms the client buffers for `streamId` (sent by players). */
export function setBufferLengthMessage(streamId: number, ms: number): RtmpMessage {
  return userControlMessage(UserControlEvent.SET_BUFFER_LENGTH, streamId, ms);
}

/** A parsed user control event. */
export interface UserControl {
  event: number;
  /** Stream id, or the timestamp of a ping. */
  value: number;
  /** Buffer length in ms (Set Buffer Length only). */
  value2?: number;
}

/** Parses a user control body. Throws `ParseError` when truncated. */
export function parseUserControl(body: Buffer): UserControl {
  ParseError.need(WHAT, body, 0, 6, 'event');
  const event = body.readUInt16BE(0);
  const value = body.readUInt32BE(2);
  if (event !== UserControlEvent.SET_BUFFER_LENGTH) return { event, value };
  ParseError.need(WHAT, body, 6, 4, 'buffer length');
  return { event, value, value2: body.readUInt32BE(6) };
}

/** Reads the u32 of a Set Chunk Size, Ack or Window Ack Size body. Throws `ParseError` when short. */
export function readU32Body(body: Buffer, what: string): number {
  ParseError.need(`RTMP ${what}`, body, 0, 4, 'value');
  return body.readUInt32BE(0);
}
