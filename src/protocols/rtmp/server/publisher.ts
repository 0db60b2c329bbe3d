/**
 * RtmpPublisher: one RTMP `publish` (OBS, ffmpeg, an encoder) on one message stream. Its media
 * messages go through an `RtmpMediaReader` into a `FeedConnection`, which the stream adopts with
 * `stream.addPublisher()` once the sequence headers have told the codecs. The publisher lives as
 * long as the message stream: `deleteStream`, the connection closing or the stream being deleted
 * end it.
 */
import type { Stream } from '../../../core/stream.ts';
import { FeedConnection } from '../../http/feed.ts';
import { RtmpMediaReader } from '../media-reader.ts';
import type { RtmpMessage } from '../types.ts';

/** No media for this long ends a publisher, ms. */
export const PUBLISHER_NO_DATA_TIMEOUT_MS = 10_000;

export class RtmpPublisher {
  readonly feed: FeedConnection;
  readonly #reader = new RtmpMediaReader();

  /**
   * @param url shown in the API as the publisher's source
   * @param onClose called once when the feed closes (by us, the stream, or a timeout)
   */
  constructor(
    readonly url: string,
    remoteAddress: string,
    onClose: (error: Error | undefined) => void,
  ) {
    this.feed = new FeedConnection({
      remoteAddress,
      what: url,
      noDataTimeoutMs: PUBLISHER_NO_DATA_TIMEOUT_MS,
    });
    this.feed.once('close', onClose);
  }

  get closed(): boolean {
    return this.feed.closed;
  }

  /** An audio, video or data message of this publisher's message stream. */
  push(message: RtmpMessage): void {
    if (this.feed.closed) return;
    this.feed.touch();
    this.feed.handle(this.#reader.push(message));
  }

  /**
   * Hands the feed to `stream` once its tracks are known. Rejects (and closes the feed) when the
   * publisher ends first or the stream refuses it (closed meanwhile).
   */
  async adoptInto(stream: Stream): Promise<void> {
    await this.feed.ready;
    if (this.feed.closed) return;
    try {
      this.feed.attach(stream.addPublisher(this.url, this.feed));
    } catch (err) {
      this.feed.close(err instanceof Error ? err : undefined);
      throw err;
    }
  }

  /** Idempotent. */
  close(error?: Error): void {
    this.feed.close(error);
  }
}
