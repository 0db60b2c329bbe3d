/**
 * RtmpServerSession: the NetConnection and NetStream commands of one server connection (RTMP 1.0
 * section 7.2): `connect`, `createStream`, `releaseStream`/`FCPublish`/`FCUnpublish`,
 * `getStreamLength`, `publish`, `play`, `deleteStream`/`closeStream`; answered with `_result` and
 * `onStatus` as nginx-rtmp and MediaMTX answer them, so that OBS, ffmpeg, ffplay and VLC work.
 *
 * Commands run one after the other (publish and play wait for the registry); media messages are
 * taken at once, so nothing a publisher sends right after `publish` is lost. The session owns its
 * connection, publishers and players; any of them ending with an error ends the connection.
 */
import { errorMessage } from '../../../core/errors.ts';
import type { StreamRegistry } from '../../../core/registry.ts';
import { sessionClosed, sessionOpened } from '../../../diag/sessions.ts';
import type { Amf0Value } from '../../../formats/flv/amf0.ts';
import type { Logger } from '../../../log/logger.ts';
import {
  commandMessage,
  dataMessage,
  field,
  parseCommand,
  type RtmpCommand,
  statusInfo,
  stringField,
} from '../command.ts';
import type { RtmpConnection } from '../connection.ts';
import {
  setPeerBandwidthMessage,
  streamBeginMessage,
  streamEofMessage,
  windowAckSizeMessage,
} from '../control.ts';
import { RtmpMediaReader } from '../media-reader.ts';
import {
  BandwidthLimit,
  ChunkStream,
  DEFAULT_WINDOW_ACK_SIZE,
  MessageType,
  OUTGOING_CHUNK_SIZE,
  type RtmpMessage,
} from '../types.ts';
import { resolveTarget } from '../url.ts';
import type { RtmpAccess } from './access.ts';
import { RtmpPlayer } from './player.ts';
import { RtmpPublisher } from './publisher.ts';

/** Message streams one connection may create. */
const MAX_STREAMS = 8;
/** Pending commands one connection may queue. */
const MAX_QUEUED_COMMANDS = 32;

export interface RtmpSessionContext {
  registry: StreamRegistry;
  log: Logger;
  access: RtmpAccess;
}

type Role = { kind: 'publish'; publisher: RtmpPublisher } | { kind: 'play'; player: RtmpPlayer };

export class RtmpServerSession {
  /** `performance.now()` of the connection, and of `connect`. */
  readonly openedAt = performance.now();
  connectedAt = 0;
  /** `performance.now()` when it last published or played (the server's idle check). */
  lastActiveAt = 0;
  readonly #conn: RtmpConnection;
  readonly #ctx: RtmpSessionContext;
  #app = '';
  #hevc = false;
  #nextStreamId = 1;
  readonly #created = new Set<number>();
  readonly #roles = new Map<number, Role>();
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #closed = false;

  constructor(conn: RtmpConnection, ctx: RtmpSessionContext) {
    this.#conn = conn;
    this.#ctx = ctx;
    conn.on('message', (m) => {
      try {
        this.#onMessage(m);
      } catch (err) {
        this.close(err instanceof Error ? err : new Error(errorMessage(err))); // ParseError of a command
      }
    });
    conn.once('close', (err) => this.#onClose(err));
  }

  get connection(): RtmpConnection {
    return this.#conn;
  }

  /** Whether anything is published or played now. */
  get active(): boolean {
    return this.#roles.size > 0;
  }

  /** Idempotent: ends the publishers and players, then the connection. */
  close(error?: Error): void {
    this.#conn.close(error);
  }

  #onClose(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.#roles.keys()]) this.#endRole(id);
    const log = this.#ctx.log;
    if (error)
      log.debug({ remote: this.#conn.remoteAddress, err: errorMessage(error) }, 'RTMP connection closed');
  }

  #onMessage(message: RtmpMessage): void {
    if (message.type === MessageType.COMMAND_AMF0 || message.type === MessageType.COMMAND_AMF3) {
      const command = parseCommand(message);
      if (++this.#queued > MAX_QUEUED_COMMANDS) {
        this.close(new Error(`more than ${MAX_QUEUED_COMMANDS} commands pending`));
        return;
      }
      this.#queue = this.#queue
        .then(() => (this.#closed ? undefined : this.#command(command, message.streamId)))
        .catch((err) => this.close(err instanceof Error ? err : new Error(errorMessage(err))))
        .finally(() => this.#queued--);
      return;
    }
    if (RtmpMediaReader.handles(message.type)) {
      const role = this.#roles.get(message.streamId);
      if (role?.kind === 'publish') role.publisher.push(message);
    }
  }

  async #command(c: RtmpCommand, streamId: number): Promise<void> {
    switch (c.name) {
      case 'connect':
        return this.#connect(c);
      case 'createStream':
        return this.#createStream(c);
      case 'releaseStream':
      case 'FCPublish':
      case 'FCUnpublish':
      case 'FCSubscribe':
        return this.#result(c, undefined);
      case 'getStreamLength':
        return this.#result(c, 0);
      case 'publish':
        return this.#publish(c, streamId);
      case 'play':
        return this.#play(c, streamId);
      case 'deleteStream': {
        const id = typeof c.args[0] === 'number' ? c.args[0] : streamId;
        this.#endRole(id);
        this.#created.delete(id);
        return;
      }
      case 'closeStream':
        this.#endRole(streamId);
        return;
      default:
        this.#ctx.log.debug(
          { remote: this.#conn.remoteAddress, command: c.name.slice(0, 64) },
          'RTMP command ignored',
        );
    }
  }

  #connect(c: RtmpCommand): void {
    if (this.connectedAt > 0) throw new Error('connect sent twice');
    this.#app = stringField(c.object, 'app') ?? '';
    const fourCc = field(c.object, 'fourCcList');
    this.#hevc = Array.isArray(fourCc) && fourCc.some((f) => f === 'hvc1' || f === '*');
    this.connectedAt = performance.now();
    this.lastActiveAt = this.connectedAt;
    const conn = this.#conn;
    conn.send(windowAckSizeMessage(DEFAULT_WINDOW_ACK_SIZE));
    conn.send(setPeerBandwidthMessage(DEFAULT_WINDOW_ACK_SIZE, BandwidthLimit.DYNAMIC));
    conn.setChunkSize(OUTGOING_CHUNK_SIZE);
    const properties = { fmsVer: 'FMS/3,0,1,123', capabilities: 31, mode: 1 };
    const info = statusInfo('status', 'NetConnection.Connect.Success', 'Connection succeeded.', {
      objectEncoding: 0,
    });
    conn.send(commandMessage(ChunkStream.COMMAND, 0, '_result', c.transactionId, properties, info));
  }

  #createStream(c: RtmpCommand): void {
    if (this.#created.size >= MAX_STREAMS) {
      this.#conn.send(commandMessage(ChunkStream.COMMAND, 0, '_error', c.transactionId, null, null));
      return;
    }
    const id = this.#nextStreamId++;
    this.#created.add(id);
    this.#result(c, id);
  }

  #result(c: RtmpCommand, value: Amf0Value): void {
    if (c.transactionId === 0) return;
    this.#conn.send(commandMessage(ChunkStream.COMMAND, 0, '_result', c.transactionId, null, value));
  }

  #status(streamId: number, level: 'status' | 'error', code: string, description: string): void {
    const info = statusInfo(level, code, description);
    this.#conn.send(commandMessage(ChunkStream.STREAM, streamId, 'onStatus', 0, null, info));
  }

  /** The stream a `publish`/`play` names, or an error status and undefined. */
  #target(c: RtmpCommand, streamId: number, failCode: string) {
    const name = typeof c.args[0] === 'string' ? c.args[0] : '';
    const target = resolveTarget(this.#app, name, (n) => this.#ctx.registry.get(n) !== undefined);
    if (!target) {
      this.#status(streamId, 'error', failCode, 'no stream name');
      return undefined;
    }
    return target;
  }

  async #publish(c: RtmpCommand, streamId: number): Promise<void> {
    if (this.#roles.has(streamId) || streamId === 0) {
      this.#status(streamId, 'error', 'NetStream.Publish.BadName', 'stream already in use');
      return;
    }
    const target = this.#target(c, streamId, 'NetStream.Publish.BadName');
    if (!target) return;
    const conn = this.#conn;
    const url = `rtmp://${conn.remoteAddress}/${this.#app}/${target.stream}`.replace(/\?.*$/, '');
    const publisher = new RtmpPublisher(url, conn.remoteAddress, (err) => {
      const role = this.#roles.get(streamId);
      if (role?.kind !== 'publish' || role.publisher !== publisher) return; // ended by the client
      this.#roles.delete(streamId);
      // The stream went away or the publisher timed out: the encoder should know and reconnect.
      this.close(err ?? new Error(`stream "${target.stream}" ended the publisher`));
    });
    this.#roles.set(streamId, { kind: 'publish', publisher }); // media from now on is kept
    const denied = await this.#ctx.access({
      action: 'publish',
      stream: target.stream,
      params: target.params,
      address: conn.remoteAddress.replace(/^\[?(.*?)\]?:\d+$/, '$1'),
    });
    if (denied) {
      this.#status(streamId, 'error', 'NetStream.Publish.Unauthorized', denied);
      this.close(new Error(`publish to "${target.stream}" refused: ${denied}`));
      return;
    }
    let stream: Awaited<ReturnType<StreamRegistry['forPublish']>>;
    try {
      stream = await this.#ctx.registry.forPublish(target.stream);
    } catch (err) {
      this.#status(streamId, 'error', 'NetStream.Publish.BadName', errorMessage(err));
      this.#endRole(streamId);
      return;
    }
    if (publisher.closed) return;
    conn.send(streamBeginMessage(streamId));
    this.#status(streamId, 'status', 'NetStream.Publish.Start', `${target.stream} is now published.`);
    sessionOpened('rtmp');
    publisher.feed.once('close', () => sessionClosed('rtmp'));
    this.#ctx.log.info({ remote: conn.remoteAddress, stream: target.stream }, 'RTMP publish');
    publisher.adoptInto(stream).catch((err) => {
      if (!publisher.closed) publisher.close(err instanceof Error ? err : undefined);
    });
  }

  async #play(c: RtmpCommand, streamId: number): Promise<void> {
    if (this.#roles.has(streamId)) {
      this.#status(streamId, 'error', 'NetStream.Play.Failed', 'stream already in use');
      return;
    }
    const target = this.#target(c, streamId, 'NetStream.Play.StreamNotFound');
    if (!target) return;
    const conn = this.#conn;
    const denied = await this.#ctx.access({
      action: 'read',
      stream: target.stream,
      params: target.params,
      address: conn.remoteAddress.replace(/^\[?(.*?)\]?:\d+$/, '$1'),
    });
    if (denied) {
      this.#status(streamId, 'error', 'NetStream.Play.Failed', denied);
      this.close(new Error(`play of "${target.stream}" refused: ${denied}`));
      return;
    }
    if (this.#closed) return;
    const stream = this.#ctx.registry.get(target.stream);
    if (!stream) {
      this.#status(streamId, 'error', 'NetStream.Play.StreamNotFound', `no stream "${target.stream}"`);
      return;
    }
    const player = new RtmpPlayer(conn, streamId, this.#hevc);
    this.#roles.set(streamId, { kind: 'play', player });
    player.once('close', (err) => {
      const role = this.#roles.get(streamId);
      if (role?.kind !== 'play' || role.player !== player) return; // ended by the client
      this.#roles.delete(streamId);
      if (conn.closed) return;
      // The stream ended under the player (publisher left, stream deleted, too slow): tell it.
      conn.send(streamEofMessage(streamId));
      this.#status(streamId, 'status', 'NetStream.Play.Stop', err ? errorMessage(err) : 'stopped');
      if (err) this.close(err);
    });
    try {
      await stream.addConsumer(player);
    } catch (err) {
      if (!player.closed) {
        this.#roles.delete(streamId);
        player.close();
        this.#status(streamId, 'error', 'NetStream.Play.Failed', errorMessage(err));
      }
      return;
    }
    if (player.closed) return;
    conn.send(streamBeginMessage(streamId));
    this.#status(streamId, 'status', 'NetStream.Play.Reset', `Playing and resetting ${target.stream}.`);
    this.#status(streamId, 'status', 'NetStream.Play.Start', `Started playing ${target.stream}.`);
    conn.send(dataMessage(ChunkStream.STREAM, streamId, ['|RtmpSampleAccess', true, true]));
    sessionOpened('rtmp');
    player.once('close', () => sessionClosed('rtmp'));
    this.#ctx.log.info({ remote: conn.remoteAddress, stream: target.stream }, 'RTMP play');
    player.play();
  }

  /** Ends what message stream `id` publishes or plays. */
  #endRole(id: number): void {
    const role = this.#roles.get(id);
    if (!role) return;
    this.#roles.delete(id);
    if (role.kind === 'publish') role.publisher.close();
    else role.player.close();
  }
}
