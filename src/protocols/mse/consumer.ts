/**
 * MseConsumer: a stream to a browser's Media Source Extensions over go2rtc's WebSocket API. It
 * answers `{"type":"mse","value":"video/mp4; codecs=\"avc1.4d401e,opus\""}` once the first
 * keyframe is muxed, then sends the init segment and every fragment as binary messages.
 */
import type { MediaRequest } from '../../core/consumer.ts';
import { Fmp4Consumer } from '../mp4/consumer.ts';
import type { Fmp4Chunk } from '../mp4/muxer.ts';

/** The part of a `WsConnection` the consumer uses. */
export interface MseConnection {
  send(msg: { type: string; value?: unknown }): void;
  sendBinary(data: Buffer): boolean;
  /** Bytes queued on the socket and not yet sent. */
  readonly bufferedAmount: number;
}

export class MseConsumer extends Fmp4Consumer {
  readonly type = 'mse';
  #answered = false;

  constructor(
    private readonly conn: MseConnection,
    requests: MediaRequest[],
  ) {
    super(requests);
  }

  protected override backlogBytes(): number {
    return this.conn.bufferedAmount;
  }

  protected onChunk(chunk: Fmp4Chunk): void {
    if (chunk.type === 'init' && !this.#answered) {
      this.#answered = true;
      this.conn.send({ type: 'mse', value: chunk.mime });
    }
    this.conn.sendBinary(chunk.data);
  }

  protected onClose(): void {}
}
