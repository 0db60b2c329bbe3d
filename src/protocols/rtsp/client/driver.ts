/**
 * The `rtsp://` and `rtsps://` source driver: one connect() = one control connection, the handshake
 * (OPTIONS, DESCRIBE, SETUP, PLAY) within the connect timeout, then an RtspSource. Reconnecting is
 * the SourceRunner's job; a failed or aborted attempt leaves no socket or timer behind.
 *
 * A camera that refuses the ONVIF back channel (see handshake.ts) is asked without it from then
 * on; one that hung up on the request is connected to again at once, without it.
 */
import { InvalidStateError, TimeoutError } from '../../../core/errors.ts';
import type { FrameSink, SourceConnection, SourceDriver } from '../../../core/source.ts';
import { RtspClientConn } from './conn.ts';
import { BackchannelRefusedError, setUpSession } from './handshake.ts';
import { RtspSource } from './source.ts';
import { parseRtspUrl, type RtspSourceOptions } from './url.ts';

/** SourceFactory of the `rtsp` and `rtsps` schemes; throws BadRequestError for a malformed URL. */
export function rtspSourceFactory(url: string): SourceDriver {
  return new RtspDriver(parseRtspUrl(url));
}

export class RtspDriver implements SourceDriver {
  /** The camera refused the back channel once: not asked for again. */
  #noBackchannel = false;

  constructor(readonly options: RtspSourceOptions) {}

  /** True once the camera refused the back channel. */
  get backchannelRefused(): boolean {
    return this.#noBackchannel;
  }

  async connect(sink: FrameSink, signal: AbortSignal): Promise<SourceConnection> {
    const ask = this.options.backchannel && !this.#noBackchannel;
    try {
      return await this.#connect(sink, signal, { ...this.options, backchannel: ask });
    } catch (err) {
      if (!(err instanceof BackchannelRefusedError) || signal.aborted) throw err;
      this.#noBackchannel = true;
      return this.#connect(sink, signal, { ...this.options, backchannel: false });
    }
  }

  async #connect(sink: FrameSink, signal: AbortSignal, opts: RtspSourceOptions): Promise<SourceConnection> {
    if (signal.aborted) throw new InvalidStateError(`${opts.display}: connect aborted`);
    const conn = new RtspClientConn(opts);
    let source: RtspSource | undefined;
    const timer = setTimeout(() => {
      const ms = opts.connectTimeoutMs;
      const what = conn.connecting
        ? `${opts.tls ? 'TLS' : 'TCP'} connect did not finish`
        : `no answer to ${conn.lastMethod ?? 'OPTIONS'}`;
      conn.close(new TimeoutError(`${opts.display}: ${what} within ${ms} ms`));
    }, opts.connectTimeoutMs);
    const onAbort = () => conn.close(new InvalidStateError(`${opts.display}: connect aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const plan = await setUpSession(conn, opts);
      if (plan.backchannelRefused) this.#noBackchannel = true;
      source = new RtspSource(conn, opts, plan, sink);
      await source.play();
      source.start();
      return source;
    } catch (err) {
      // The source owns the UDP sockets once it exists; before that the handshake freed them.
      if (source) source.close();
      else conn.close(err instanceof Error ? err : undefined);
      throw err;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}
