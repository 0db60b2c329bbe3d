/**
 * RtmpPlayer: the consumer behind an RTMP `play`. It sends the stream as FLV tag bodies in RTMP
 * messages on the player's message stream: onMetaData and the sequence headers first (AVC or,
 * for clients that announced Enhanced RTMP `hvc1`, HEVC; AAC), then the frames, from the first
 * video keyframe on. Classic RTMP has no Opus or G.711 in its players' reach, so audio is AAC only
 * (the stream's transcoder, when there is one, makes it; else the player gets video alone).
 */
import type { MediaRequest } from '../../../core/consumer.ts';
import type { Codec, Frame } from '../../../core/media.ts';
import { FlvMuxer, type FlvTag } from '../../../formats/flv/muxer.ts';
import { TagType } from '../../../formats/flv/types.ts';
import { ByteStreamConsumer } from '../../http/out/byte-consumer.ts';
import type { RtmpConnection } from '../connection.ts';
import { ChunkStream, type RtmpMessage } from '../types.ts';

const H264: Codec = { name: 'H264', clockRate: 90000 };
const H265: Codec = { name: 'H265', clockRate: 90000 };
const AAC: Codec = { name: 'AAC', clockRate: 0 };

/** What a player accepts: H.264 (and H.265 when it speaks Enhanced RTMP), AAC. */
export function playerRequests(hevc: boolean): MediaRequest[] {
  return [
    { kind: 'video', codecs: hevc ? [H264, H265] : [H264] },
    { kind: 'audio', codecs: [AAC] },
  ];
}

export class RtmpPlayer extends ByteStreamConsumer {
  readonly type = 'rtmp';
  #muxer: FlvMuxer | undefined;

  /**
   * @param conn the client's connection (not owned: closing the player leaves it open)
   * @param streamId the message stream the client plays on
   */
  constructor(
    private readonly conn: RtmpConnection,
    private readonly streamId: number,
    hevc: boolean,
  ) {
    super(playerRequests(hevc));
    this.remoteAddress = conn.remoteAddress;
  }

  protected override backlogBytes(): number {
    return this.conn.writableLength;
  }

  protected start(): void {
    this.#muxer = new FlvMuxer(this.medias());
    for (const tag of this.#muxer.startTags()) this.#send(tag);
  }

  protected write(index: number, frame: Frame): void {
    if (this.conn.closed) {
      this.close();
      return;
    }
    for (const tag of this.#muxer!.frameTags(index, frame)) this.#send(tag);
  }

  protected onClose(): void {}

  #send(tag: FlvTag): void {
    const csid =
      tag.type === TagType.VIDEO
        ? ChunkStream.VIDEO
        : tag.type === TagType.AUDIO
          ? ChunkStream.AUDIO
          : ChunkStream.STREAM;
    const message: RtmpMessage = {
      csid,
      type: tag.type,
      streamId: this.streamId,
      timestamp: Math.max(0, Math.round(tag.timestampMs)),
      body: tag.body,
    };
    this.conn.send(message);
  }
}
