/**
 * RtmpConnection: one RTMP connection over a TCP or TLS socket, either side. It runs the
 * handshake, reassembles messages, answers what the protocol answers by itself (Acknowledgements
 * every window, Ping Responses, the Window Ack Size a Set Peer Bandwidth asks for) and hands
 * every other message (commands, data, audio, video; aggregates split) to its owner.
 *
 * It owns its socket: `close()` destroys it, and a socket error, a protocol violation or the peer
 * closing closes the connection with the reason. `close` is emitted exactly once.
 */
import type { Socket } from 'node:net';
import { SafeEmitter } from '../../core/emitter.ts';
import { errorMessage } from '../../core/errors.ts';
import { splitAggregate } from './aggregate.ts';
import { ChunkParser } from './chunk-parser.ts';
import { ChunkWriter } from './chunk-writer.ts';
import {
  ackMessage,
  parseUserControl,
  readU32Body,
  setChunkSizeMessage,
  type UserControl,
  userControlMessage,
  windowAckSizeMessage,
} from './control.ts';
import { ClientHandshake, ServerHandshake } from './handshake.ts';
import { type ChunkLimits, MessageType, type RtmpMessage, UserControlEvent } from './types.ts';

export type RtmpConnectionEvents = {
  /** The handshake is done: messages may be sent. */
  ready: [];
  /** A command, data, audio or video message. */
  message: [RtmpMessage];
  /** A user control event other than a Ping Request (answered here): Stream Begin, Ping Response... */
  control: [UserControl];
  close: [error: Error | undefined];
};

/** Counters of a connection; they only grow. */
export interface RtmpConnectionCounters {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  /** The sequence number of the peer's last Acknowledgement (bytes it received, modulo 2^32). */
  peerAcknowledged: number;
}

export class RtmpConnection extends SafeEmitter<RtmpConnectionEvents> {
  readonly counters: RtmpConnectionCounters = {
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
    peerAcknowledged: 0,
  };
  readonly remoteAddress: string;
  readonly #socket: Socket;
  readonly #parser: ChunkParser;
  readonly #writer = new ChunkWriter();
  #handshake: ServerHandshake | ClientHandshake | undefined;
  /** The peer's Window Ack Size: we acknowledge every this many bytes (0 = never). */
  #ackWindow = 0;
  #ackedAt = 0;
  #peerBandwidth = 0;
  #ready = false;
  #closed = false;

  /**
   * @param role `server` waits for C0/C1; `client` sends C0/C1 at once (call after the socket
   *   connected)
   */
  constructor(socket: Socket, role: 'server' | 'client', limits: ChunkLimits = {}) {
    super();
    this.#socket = socket;
    this.#parser = new ChunkParser(limits);
    const address = socket.remoteAddress ?? '?';
    this.remoteAddress = `${address.includes(':') ? `[${address}]` : address}:${socket.remotePort ?? 0}`;
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.#onData(data));
    socket.on('error', (err) => this.close(err));
    socket.on('close', () =>
      this.close(this.#ready ? undefined : new Error('connection closed during handshake')),
    );
    socket.on('end', () => this.close());
    if (role === 'server') {
      this.#handshake = new ServerHandshake();
    } else {
      const hs = new ClientHandshake();
      this.#handshake = hs;
      this.#write(hs.start());
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Bytes written but not yet sent: the backlog of a player. */
  get writableLength(): number {
    return this.#socket.writableLength;
  }

  /** Sends one message; ignored once closed. Throws `BadRequestError` for an unencodable one. */
  send(message: RtmpMessage): void {
    if (this.#closed) return;
    this.counters.messagesOut++;
    this.#write(this.#writer.write(message));
  }

  /** Announces and starts using `size` for what we send. */
  setChunkSize(size: number): void {
    this.send(setChunkSizeMessage(size));
    this.#writer.setChunkSize(size);
  }

  /** Idempotent: destroys the socket and emits `close` once. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    this.emit('close', error);
    this.removeAllListeners();
  }

  #write(data: Buffer): void {
    this.counters.bytesOut += data.length;
    this.#socket.write(data);
  }

  #onData(data: Buffer): void {
    if (this.#closed) return;
    this.counters.bytesIn += data.length;
    try {
      const hs = this.#handshake;
      if (hs) {
        const step = hs.push(data);
        if (step.send) this.#write(step.send);
        if (!step.done) return;
        this.#handshake = undefined;
        this.#ready = true;
        this.emit('ready');
        if (!step.rest || step.rest.length === 0 || this.#closed) return;
        data = step.rest;
      }
      const messages = this.#parser.push(data);
      this.#acknowledge();
      for (const message of messages) {
        if (this.#closed) return;
        this.#onMessage(message);
      }
    } catch (err) {
      this.close(err instanceof Error ? err : new Error(errorMessage(err)));
    }
  }

  #acknowledge(): void {
    if (this.#ackWindow <= 0) return;
    if (this.counters.bytesIn - this.#ackedAt >= this.#ackWindow) {
      this.#ackedAt = this.counters.bytesIn;
      this.send(ackMessage(this.counters.bytesIn));
    }
  }

  #onMessage(message: RtmpMessage): void {
    this.counters.messagesIn++;
    switch (message.type) {
      case MessageType.SET_CHUNK_SIZE:
      case MessageType.ABORT:
        return; // the parser applied them
      case MessageType.ACK:
        this.counters.peerAcknowledged = readU32Body(message.body, 'Acknowledgement'); // not a send limit
        return;
      case MessageType.WINDOW_ACK_SIZE:
        this.#ackWindow = readU32Body(message.body, 'Window Ack Size');
        return;
      case MessageType.SET_PEER_BANDWIDTH: {
        const size = readU32Body(message.body, 'Set Peer Bandwidth');
        if (size !== this.#peerBandwidth) {
          this.#peerBandwidth = size;
          this.send(windowAckSizeMessage(size));
        }
        return;
      }
      case MessageType.USER_CONTROL: {
        const event = parseUserControl(message.body);
        if (event.event === UserControlEvent.PING_REQUEST) {
          this.send(userControlMessage(UserControlEvent.PING_RESPONSE, event.value));
        } else {
          this.emit('control', event);
        }
        return;
      }
      case MessageType.AGGREGATE:
        for (const sub of splitAggregate(message)) {
          if (this.#closed) return;
          this.emit('message', sub);
        }
        return;
      default:
        this.emit('message', message);
    }
  }
}
