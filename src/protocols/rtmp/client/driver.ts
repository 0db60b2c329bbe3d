/**
 * The `rtmp://` and `rtmps://` source driver: one connect() = one connection that plays one
 * stream (RTMP 1.0 section 7.2): handshake, `connect` (announcing Enhanced RTMP `avc1`/`hvc1`),
 * `createStream`, `play` with a Set Buffer Length, then the media messages through an
 * `RtmpMediaReader`. connect() resolves once the codecs are known (the sequence headers and a
 * first frame); TCP or TLS connect plus the commands up to `NetStream.Play.Start` must finish
 * within the connect timeout, and no media for the no-data timeout closes the connection.
 * Reconnecting is the SourceRunner's job; a failed or aborted attempt leaves no socket or timer.
 */
import { type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { InvalidStateError, TimeoutError, UnsupportedError } from '../../../core/errors.ts';
import type { FrameSink, SourceConnection, SourceDriver } from '../../../core/source.ts';
import { labelHandle } from '../../../diag/handles.ts';
import type { Amf0Value } from '../../../formats/flv/amf0.ts';
import { FeedConnection } from '../../http/feed.ts';
import { commandMessage, field, parseCommand, type RtmpCommand } from '../command.ts';
import { RtmpConnection } from '../connection.ts';
import { setBufferLengthMessage, windowAckSizeMessage } from '../control.ts';
import { RtmpMediaReader } from '../media-reader.ts';
import {
  ChunkStream,
  DEFAULT_WINDOW_ACK_SIZE,
  MessageType,
  OUTGOING_CHUNK_SIZE,
  type RtmpMessage,
} from '../types.ts';
import { parseRtmpUrl, type RtmpSourceOptions } from '../url.ts';

/** What the client tells the server it is (as ffmpeg does). */
const FLASH_VERSION = 'LNX 9,0,124,2';
/** Client buffer announced with Set Buffer Length, ms. */
const BUFFER_MS = 1000;
const TXN_CONNECT = 1;
const TXN_CREATE_STREAM = 2;

/** SourceFactory of the `rtmp` and `rtmps` schemes; throws BadRequestError for a malformed URL. */
export function rtmpSourceFactory(url: string): SourceDriver {
  return new RtmpDriver(parseRtmpUrl(url));
}

/** The description of an error `_error`/`onStatus`, for the rejection. */
function describe(c: RtmpCommand): string {
  const info = c.args[0];
  const code = field(info, 'code');
  const text = field(info, 'description');
  return [code, text].filter((v): v is string => typeof v === 'string').join(': ') || c.name;
}

export class RtmpDriver implements SourceDriver {
  constructor(readonly options: RtmpSourceOptions) {}

  async connect(sink: FrameSink, signal: AbortSignal): Promise<SourceConnection> {
    const opts = this.options;
    if (signal.aborted) throw new InvalidStateError(`${opts.display}: connect aborted`);
    const socket: Socket = opts.tls
      ? tlsConnect({ host: opts.host, port: opts.port, servername: opts.host, rejectUnauthorized: false })
      : tcpConnect({ host: opts.host, port: opts.port });
    labelHandle(socket, `rtmp-client:${opts.display}`);
    let conn: RtmpConnection | undefined;
    const feed = new FeedConnection({
      remoteAddress: `${opts.host}:${opts.port}`,
      what: opts.display,
      noDataTimeoutMs: opts.noDataTimeoutMs,
      onClose: () => (conn ? conn.close() : socket.destroy()),
    });
    let playing = false;
    const timer = setTimeout(() => {
      const what = conn?.ready
        ? 'no NetStream.Play.Start'
        : `${opts.tls ? 'TLS' : 'TCP'} connect or handshake did not finish`;
      feed.close(new TimeoutError(`${opts.display}: ${what} within ${opts.connectTimeoutMs} ms`));
    }, opts.connectTimeoutMs);
    const onAbort = () => feed.close(new InvalidStateError(`${opts.display}: connect aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    const onSocketError = (err: Error) => feed.close(err);
    socket.once('error', onSocketError);
    const connected = opts.tls ? 'secureConnect' : 'connect';
    socket.once(connected, () => {
      socket.off('error', onSocketError);
      if (feed.closed) return;
      const c = new RtmpConnection(socket, 'client');
      conn = c;
      c.once('close', (err) => feed.close(err ?? new Error(`${opts.display}: server closed the connection`)));
      c.once('ready', () => this.#sendConnect(c));
      const reader = new RtmpMediaReader();
      let streamId = 0;
      c.on('message', (m: RtmpMessage) => {
        try {
          onMessage(m);
        } catch (err) {
          c.close(err instanceof Error ? err : new Error(String(err)));
        }
      });
      const onMessage = (m: RtmpMessage) => {
        if (RtmpMediaReader.handles(m.type)) {
          if (!playing) return;
          feed.touch();
          feed.handle(reader.push(m));
          return;
        }
        if (m.type !== MessageType.COMMAND_AMF0 && m.type !== MessageType.COMMAND_AMF3) return;
        const cmd = parseCommand(m);
        if (cmd.name === '_error') {
          feed.close(new UnsupportedError(`${opts.display}: ${describe(cmd)}`));
        } else if (cmd.name === '_result' && cmd.transactionId === TXN_CONNECT) {
          c.send(windowAckSizeMessage(DEFAULT_WINDOW_ACK_SIZE));
          c.setChunkSize(OUTGOING_CHUNK_SIZE);
          c.send(commandMessage(ChunkStream.COMMAND, 0, 'createStream', TXN_CREATE_STREAM, null));
        } else if (cmd.name === '_result' && cmd.transactionId === TXN_CREATE_STREAM) {
          streamId = typeof cmd.args[0] === 'number' ? cmd.args[0] : 1;
          c.send(commandMessage(ChunkStream.STREAM, streamId, 'play', 0, null, opts.playPath, -2));
          c.send(setBufferLengthMessage(streamId, BUFFER_MS));
        } else if (cmd.name === 'onStatus') {
          const level = field(cmd.args[0], 'level');
          const code = field(cmd.args[0], 'code');
          if (level === 'error') feed.close(new UnsupportedError(`${opts.display}: ${describe(cmd)}`));
          else if (code === 'NetStream.Play.Start' || code === 'NetStream.Play.Reset') {
            playing = true;
            clearTimeout(timer);
          } else if (code === 'NetStream.Play.Stop' || code === 'NetStream.Play.UnpublishNotify') {
            feed.close(new Error(`${opts.display}: ${describe(cmd)}`));
          }
        }
      };
    });
    try {
      await feed.ready;
      // The runner maps the medias to tracks once this resolved: frames flow after that.
      setImmediate(() => feed.attach(sink));
      return feed;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  #sendConnect(c: RtmpConnection): void {
    const opts = this.options;
    const object: Record<string, Amf0Value> = {
      app: opts.app,
      flashVer: FLASH_VERSION,
      tcUrl: opts.tcUrl,
      fpad: false,
      capabilities: 15,
      audioCodecs: 4071,
      videoCodecs: 252,
      videoFunction: 1,
      objectEncoding: 0,
      fourCcList: ['avc1', 'hvc1'],
    };
    c.send(commandMessage(ChunkStream.COMMAND, 0, 'connect', TXN_CONNECT, object));
  }
}
