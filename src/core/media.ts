/**
 * The media model shared by every layer: what a source offers and a consumer accepts (Media, Codec)
 * and the unit that flows through the engine (Frame). Pure types and helpers, no I/O.
 */

export type MediaKind = 'video' | 'audio';

/** Direction as seen from the gateway: `recvonly` = the gateway receives (a source's media). */
export type Direction = 'recvonly' | 'sendonly' | 'sendrecv';

/** Codec names as used in SDP rtpmap, upper case; AAC is `MPEG4-GENERIC` on the wire but `AAC` here. */
export type CodecName = 'H264' | 'H265' | 'AAC' | 'OPUS' | 'PCMA' | 'PCMU' | 'L16' | 'JPEG';

export interface Codec {
  name: CodecName;
  /** RTP clock rate in Hz (90000 for video). Frame timestamps are in these units. */
  clockRate: number;
  /** Audio channel count; undefined for video. */
  channels?: number;
  /**
   * Codec parameters as in an SDP `a=fmtp` line (keys lower case): H.264 `profile-level-id`,
   * `packetization-mode`, `sprop-parameter-sets`; H.265 `sprop-vps/sps/pps`; AAC `config`, `mode`, ...
   */
  fmtp?: Record<string, string>;
  /** RTP payload type, when the codec is carried over RTP. */
  payloadType?: number;
}

export interface Media {
  kind: MediaKind;
  direction: Direction;
  /** Alternatives in order of preference; a source usually offers exactly one. */
  codecs: Codec[];
  /** Protocol-specific id (RTSP control URL, WebRTC mid). */
  id?: string;
}

/**
 * One access unit: a whole video picture or one audio packet.
 *
 * - H.264 / H.265: `data` is AVCC, i.e. NAL units each preceded by a 4-byte big-endian length.
 * - AAC: one raw access unit (no ADTS header).
 * - Opus, PCMA, PCMU, L16: the packet payload.
 */
export interface Frame {
  /** Presentation time in the codec's clock units; unwrapped, monotonic within a track. */
  pts: number;
  /** Decode time in clock units; equals `pts` when the stream has no B-frames. */
  dts: number;
  /** True for a video frame that starts a GOP (IDR / IRAP); always true for audio. */
  keyframe: boolean;
  data: Buffer;
}

export function isVideo(codec: Codec): boolean {
  return codec.name === 'H264' || codec.name === 'H265' || codec.name === 'JPEG';
}

export function kindOf(codec: Codec): MediaKind {
  return isVideo(codec) ? 'video' : 'audio';
}

/** `H264/90000`, `OPUS/48000/2`: the short form used in logs, errors and the API. */
export function codecToString(codec: Codec): string {
  return `${codec.name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`;
}

/** `video:H264`, the form used in negotiation errors (as go2rtc prints them). */
export function mediaToString(kind: MediaKind, codecs: readonly Codec[]): string {
  return `${kind}:${codecs.map((c) => c.name).join(',') || 'none'}`;
}
