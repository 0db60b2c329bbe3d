/**
 * Attaching an MP4-family consumer to a stream, with the one rule the engine does not apply: a
 * stream whose video the client cannot decode is an error, never a black picture with sound.
 */
import type { Consumer } from '../../core/consumer.ts';
import { UnsupportedError } from '../../core/errors.ts';
import { requestToString } from '../../core/negotiate.ts';
import type { StreamRegistry } from '../../core/registry.ts';
import type { Stream } from '../../core/stream.ts';

/**
 * Negotiates `consumer` with the stream `name` and registers it (it starts with `play()`). On any
 * failure the consumer is closed and the error thrown: NotFoundError for an unknown stream,
 * UnsupportedError naming both sides (`codecs not matched: video:H265 => video:H264`) when no
 * track matched or when the stream has video but none the client accepts.
 */
export async function attachConsumer(
  registry: StreamRegistry,
  name: string,
  consumer: Consumer,
): Promise<Stream> {
  try {
    const stream = registry.require(name);
    await stream.addConsumer(consumer);
    const video = consumer.requests().find((r) => r.kind === 'video');
    if (video && !consumer.tracks.some((t) => t.kind === 'video')) {
      const offered = [
        ...new Set(
          stream
            .info()
            .tracks.filter((t) => t.kind === 'video')
            .map((t) => t.codec),
        ),
      ];
      if (offered.length > 0) {
        throw new UnsupportedError(
          `codecs not matched: video:${offered.join(',')} => ${requestToString(video)}`,
        );
      }
    }
    return stream;
  } catch (err) {
    consumer.close();
    throw err;
  }
}
