/**
 * A WebRTC DataChannel (RFC 8831) on one SCTP stream. Each `send()` is one SCTP user message, so
 * message boundaries are kept however many are sent at once.
 */
import { SafeEmitter } from '../../../core/emitter.ts';
import { BadRequestError, InvalidStateError } from '../../../core/errors.ts';
import { CHANNEL_UNORDERED, decodeMessage, encodeMessage } from './dcep.ts';

export type DataChannelState = 'connecting' | 'open' | 'closing' | 'closed';

export type DataChannelEvents = {
  open: [];
  /** A text message arrives as a string, a binary one as a Buffer. */
  message: [data: Buffer | string];
  /** Once. */
  close: [];
};

/** What a channel needs from its SCTP session: a narrow port, not the session itself. */
export interface DataChannelIo {
  send(streamId: number, ppid: number, payload: Buffer, ordered: boolean): void;
  /** Resets the outgoing stream (RFC 8831 §6.7) and forgets the channel. */
  reset(streamId: number): void;
  /** Bytes of this stream's messages not yet handed to the network. */
  bufferedAmount(streamId: number): number;
  readonly maxMessageSize: number;
}

export interface DataChannelInit {
  id: number;
  label: string;
  protocol?: string;
  ordered?: boolean;
}

export class DataChannel extends SafeEmitter<DataChannelEvents> {
  /** The SCTP stream id. */
  readonly id: number;
  readonly label: string;
  readonly protocol: string;
  readonly ordered: boolean;
  /** Messages and bytes of user data, each way. */
  readonly counters = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  #state: DataChannelState = 'connecting';
  readonly #io: DataChannelIo;

  /** Created by the transport's SCTP session; use `WebRtcTransport.createDataChannel()`. */
  constructor(init: DataChannelInit, io: DataChannelIo) {
    super();
    this.id = init.id;
    this.label = init.label;
    this.protocol = init.protocol ?? '';
    this.ordered = init.ordered ?? true;
    this.#io = io;
  }

  get readyState(): DataChannelState {
    return this.#state;
  }

  /** Bytes sent with `send()` and not yet handed to the network (SCTP congestion window full). */
  get bufferedAmount(): number {
    return this.#state === 'closed' ? 0 : this.#io.bufferedAmount(this.id);
  }

  /** The DCEP channel type byte: reliable, unordered when asked. */
  get channelType(): number {
    return this.ordered ? 0 : CHANNEL_UNORDERED;
  }

  /**
   * Sends one message: a string as UTF-8 text, a Buffer as binary. Throws InvalidStateError unless
   * the channel is open, BadRequestError if it is larger than the peer's max-message-size.
   */
  send(data: string | Buffer): void {
    if (this.#state !== 'open') {
      throw new InvalidStateError(`datachannel ${this.id} "${this.label}": cannot send while ${this.#state}`);
    }
    const { ppid, payload } = encodeMessage(data);
    if (payload.length > this.#io.maxMessageSize) {
      throw new BadRequestError(
        `datachannel ${this.id} "${this.label}": message of ${payload.length} bytes exceeds ${this.#io.maxMessageSize}`,
      );
    }
    this.counters.messagesOut++;
    this.counters.bytesOut += payload.length;
    this.#io.send(this.id, ppid, payload, this.ordered);
  }

  /** Closes the channel (resets its stream); idempotent, emits `close` once. */
  close(): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = 'closing';
    this.#io.reset(this.id);
    this.markClosed();
  }

  /** @internal The session opened the channel (DCEP ACK received, or OPEN received). */
  markOpen(): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'open';
    this.emit('open');
  }

  /** @internal A message for this channel arrived. */
  deliver(ppid: number, payload: Buffer): void {
    if (this.#state !== 'open') return;
    const data = decodeMessage(ppid, payload);
    if (data === undefined) return;
    this.counters.messagesIn++;
    this.counters.bytesIn += data.length;
    this.emit('message', data);
  }

  /** @internal The stream was reset or the association is gone; emits `close` once. */
  markClosed(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.emit('close');
  }
}
