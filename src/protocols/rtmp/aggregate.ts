/**
 * Aggregate messages (RTMP 1.0 section 7.1.6): several audio, video or data messages in FLV tag
 * framing, sent by some servers (FMS, Wowza) to players.
 *
 *   sub-message: type (8) | size (24) | timestamp (24) | timestamp extended (8) | stream id (24)
 *                data (size bytes) | back pointer (32)
 *
 * The sub-messages' times are shifted so that the first one has the aggregate message's time.
 */
import { ParseError } from '../../core/errors.ts';
import type { RtmpMessage } from './types.ts';

const WHAT = 'RTMP aggregate';
const SUB_HEADER_SIZE = 11;
const BACK_POINTER_SIZE = 4;
const U32 = 2 ** 32;

/** Splits an aggregate message; the bodies are views of its body. Throws `ParseError` when malformed. */
export function splitAggregate(message: RtmpMessage): RtmpMessage[] {
  const body = message.body;
  const out: RtmpMessage[] = [];
  let first: number | undefined;
  let o = 0;
  while (o < body.length) {
    ParseError.need(WHAT, body, o, SUB_HEADER_SIZE, 'sub-message header');
    const type = body[o];
    const size = body.readUIntBE(o + 1, 3);
    const time = body.readUIntBE(o + 4, 3) + body[o + 7] * 2 ** 24;
    o += SUB_HEADER_SIZE;
    ParseError.need(WHAT, body, o, size + BACK_POINTER_SIZE, 'sub-message data');
    first ??= time;
    out.push({
      csid: message.csid,
      type,
      streamId: message.streamId,
      timestamp: (((message.timestamp + time - first) % U32) + U32) % U32,
      body: body.subarray(o, o + size),
    });
    o += size + BACK_POINTER_SIZE;
  }
  return out;
}
