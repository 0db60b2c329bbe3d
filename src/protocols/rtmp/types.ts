/**
 * Public types and constants of the RTMP layer (Adobe RTMP specification 1.0, December 2012;
 * Enhanced RTMP v1/v2 for H.265): message type ids (5.4, 7.1), user control events (7.1.7),
 * the chunk streams mediagate uses, and what a chunk parser is allowed to hold.
 */

/** Message type ids. Audio, video and AMF0 data are also FLV tag types. */
export const MessageType = {
  /** 5.4.1: the peer's new maximum chunk size (u32, top bit 0). */
  SET_CHUNK_SIZE: 1,
  /** 5.4.2: discard the partial message of a chunk stream (u32 csid). */
  ABORT: 2,
  /** 5.4.3: bytes received so far (u32 sequence number). */
  ACK: 3,
  /** 7.1.7: user control event (u16 type, then data). */
  USER_CONTROL: 4,
  /** 5.4.4: send an Ack every this many bytes (u32). */
  WINDOW_ACK_SIZE: 5,
  /** 5.4.5: u32 window, u8 limit type. */
  SET_PEER_BANDWIDTH: 6,
  AUDIO: 8,
  VIDEO: 9,
  /** AMF3 data: a 0x00 format byte, then AMF0 in practice. */
  DATA_AMF3: 15,
  SHARED_OBJECT_AMF3: 16,
  /** AMF3 command: a 0x00 format byte, then AMF0 values (FMS clients). */
  COMMAND_AMF3: 17,
  DATA_AMF0: 18,
  SHARED_OBJECT_AMF0: 19,
  COMMAND_AMF0: 20,
  /** 7.1.6: several audio, video and data messages in FLV tag framing. */
  AGGREGATE: 22,
} as const;

/** User control event types (7.1.7). */
export const UserControlEvent = {
  STREAM_BEGIN: 0,
  STREAM_EOF: 1,
  STREAM_DRY: 2,
  SET_BUFFER_LENGTH: 3,
  STREAM_IS_RECORDED: 4,
  PING_REQUEST: 6,
  PING_RESPONSE: 7,
} as const;

/** Limit types of Set Peer Bandwidth (5.4.5). */
export const BandwidthLimit = { HARD: 0, SOFT: 1, DYNAMIC: 2 } as const;

/** Chunk stream ids mediagate sends on (as ffmpeg does); csid 2 is reserved for control (5.3.1.1). */
export const ChunkStream = {
  CONTROL: 2,
  COMMAND: 3,
  AUDIO: 4,
  /** NetStream commands and data (onStatus, onMetaData). */
  STREAM: 5,
  VIDEO: 6,
} as const;

/** One RTMP message, reassembled from its chunks. */
export interface RtmpMessage {
  /** The chunk stream it arrived on (or is to be sent on), 2..65599. */
  csid: number;
  /** Message type id (`MessageType`). */
  type: number;
  /** Message stream id: 0 for NetConnection, the createStream result for NetStream. */
  streamId: number;
  /** Milliseconds, 32 bits (wraps after about 49.7 days). */
  timestamp: number;
  /** The payload; may be a view that aliases the parser's input (see `ChunkParser`). */
  body: Buffer;
}

/** Limits of a `ChunkParser`; every one is checked before the memory is taken. */
export interface ChunkLimits {
  /** Largest Set Chunk Size accepted from the peer, bytes; default 2^31 - 1 (the spec's maximum). */
  maxChunkSize?: number;
  /** Largest message length accepted, bytes; default 16 MiB - 1 (the 24-bit field's maximum). */
  maxMessageSize?: number;
  /** Chunk streams that may be in use at once; default 64. */
  maxChunkStreams?: number;
  /** Bytes of unfinished messages held over all chunk streams; default 32 MiB. */
  maxPendingBytes?: number;
}

/** The default chunk size of both directions until a Set Chunk Size (5.4.1). */
export const DEFAULT_CHUNK_SIZE = 128;
/** The chunk size mediagate announces for what it sends. */
export const OUTGOING_CHUNK_SIZE = 4096;
/** Largest chunk size the spec allows (31 bits). */
export const MAX_CHUNK_SIZE = 0x7fffffff;
/** Largest message length the 24-bit field can express. */
export const MAX_MESSAGE_SIZE = 0xffffff;
/** Window Ack Size and Set Peer Bandwidth mediagate announces, bytes (as nginx-rtmp and ffmpeg). */
export const DEFAULT_WINDOW_ACK_SIZE = 2_500_000;
