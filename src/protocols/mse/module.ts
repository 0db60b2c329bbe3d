/**
 * MSE over WebSocket, as go2rtc: on `/api/ws?src=NAME` the client sends
 * `{"type":"mse","value":"avc1.640029,hvc1.1.6.L153.B0,mp4a.40.2,opus"}` (the codecs it can
 * decode); the gateway negotiates, answers `{"type":"mse","value":"video/mp4; codecs=..."}` and
 * sends the init segment and fragments as binary messages. Failures are `{"type":"error"}` with a
 * message naming the stream or both sides of the codec mismatch.
 */
import type { WsConnection, WsMessage } from '../../api/ws.ts';
import { BadRequestError, TimeoutError } from '../../core/errors.ts';
import type { GatewayContext, GatewayModule } from '../../module.ts';
import { requestsForCodecList } from '../mp4/codecs.ts';
import { SlowReaderError } from '../mp4/consumer.ts';
import { attachConsumer } from '../mp4/negotiate.ts';
import { StartWatch } from '../mp4/sweeper.ts';
import { MseConsumer } from './consumer.ts';

/** How long a viewer waits for the first keyframe before it gets an error, ms. */
const START_TIMEOUT_MS = 10_000;
/** WebSocket close code for a reader that could not keep up (RFC 6455 7.4.1: policy violation). */
const CLOSE_TOO_SLOW = 1008;

export function createMseModule(ctx: GatewayContext): GatewayModule {
  const { registry } = ctx;
  const log = ctx.logging.module('mse');
  const watch = new StartWatch();
  /** One MSE stream per socket: a second `mse` message replaces the first (a player restarting). */
  const current = new WeakMap<WsConnection, MseConsumer>();

  async function onMse(conn: WsConnection, msg: WsMessage): Promise<void> {
    const name = conn.query.get('src');
    if (!name) throw new BadRequestError('missing ?src=NAME in the WebSocket URL');
    const consumer = new MseConsumer(conn, requestsForCodecList(msg.value));
    const previous = current.get(conn);
    current.set(conn, consumer);
    previous?.close();
    consumer.remoteAddress = conn.remoteAddress;
    consumer.userAgent = conn.userAgent;
    conn.onClose(() => consumer.close());
    await attachConsumer(registry, name, consumer);
    consumer.once('close', (err) => {
      if (conn.closed || current.get(conn) !== consumer) return;
      // The stream went away, changed codec, or this reader was too slow: tell the client and hang up.
      if (err) {
        log.info({ stream: name, consumer: consumer.id, err: err.message }, 'mse viewer closed');
        conn.sendError(err.message);
      }
      if (err instanceof SlowReaderError) {
        // Its socket is full: a close frame would wait behind megabytes, so drop the connection.
        conn.close(CLOSE_TOO_SLOW, 'reader too slow');
        conn.ws.terminate();
      } else conn.close();
    });
    watch.watch(
      consumer,
      START_TIMEOUT_MS,
      () => new TimeoutError(`stream "${name}": no keyframe within ${START_TIMEOUT_MS / 1000} s`),
    );
    consumer.play();
  }

  ctx.ws.handle('mse', onMse);

  return {
    name: 'mse',
    async start() {},
    close() {
      watch.close();
    },
  };
}
