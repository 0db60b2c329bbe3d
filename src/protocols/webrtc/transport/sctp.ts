/**
 * SCTP over DTLS (RFC 8261) for DataChannels: werift's association, fed with DTLS application
 * data, and DCEP (RFC 8832) on top. We are the DTLS server, so the channels we open use odd
 * stream ids (RFC 8832 §6).
 */

import { errorMessage, InvalidStateError } from '../../../core/errors.ts';
import type { Logger } from '../../../log/logger.ts';
import { DataChannel, type DataChannelIo } from './datachannel.ts';
import { DcepType, Ppid, parseOpen, serializeAck, serializeOpen } from './dcep.ts';
import { createSctpAssociation, type SctpAssociation, SctpState } from './werift.ts';

/** Highest SCTP stream id (65535 is reserved, RFC 8831 §6.5). */
const MAX_STREAM_ID = 65534;

export interface SctpSessionOptions {
  /** `a=sctp-port` of both sides. */
  port: number;
  /** Largest user message we send, bytes. */
  maxMessageSize: number;
  /** Sends one SCTP packet as DTLS application data. */
  send(packet: Buffer): void;
  /** The peer opened a channel. */
  onDataChannel(channel: DataChannel): void;
  log: Logger;
}

export class SctpSession {
  readonly #assoc: SctpAssociation;
  readonly #opts: SctpSessionOptions;
  readonly #channels = new Map<number, DataChannel>();
  /** Channels created before the association was up: their OPEN waits. */
  #waiting: DataChannel[] = [];
  #nextId = 1;
  #closed = false;
  /** Messages waiting for werift, in send order. */
  #queue: { streamId: number; ppid: number; payload: Buffer; ordered: boolean }[] = [];
  #pumping = false;
  /** Bytes queued per stream and not yet handed to the network (a channel's `bufferedAmount`). */
  readonly #buffered = new Map<number, number>();
  readonly #io: DataChannelIo;

  constructor(opts: SctpSessionOptions) {
    this.#opts = opts;
    this.#assoc = createSctpAssociation(
      {
        send: async (packet) => {
          if (!this.#closed) opts.send(packet);
        },
        close: () => {},
      },
      opts.port,
    );
    this.#io = {
      maxMessageSize: opts.maxMessageSize,
      send: (streamId, ppid, payload, ordered) => this.#send(streamId, ppid, payload, ordered),
      reset: (streamId) => this.#reset(streamId),
      bufferedAmount: (streamId) => this.#buffered.get(streamId) ?? 0,
    };
    this.#assoc.onReceive.subscribe((streamId, ppid, data) => this.#onReceive(streamId, ppid, data));
    this.#assoc.onReconfigStreams.subscribe((ids) => {
      for (const id of ids) this.#forget(id)?.markClosed();
    });
    this.#assoc.stateChanged.connected.subscribe(() => this.#onEstablished());
    this.#assoc.stateChanged.closed.subscribe(() => this.#closeChannels());
    this.#assoc.start(opts.port).catch((err) => opts.log.debug({ err }, 'sctp start failed'));
  }

  get established(): boolean {
    return !this.#closed && this.#assoc.associationState === SctpState.ESTABLISHED;
  }

  /** One SCTP packet from DTLS application data. Never throws. */
  receive(packet: Buffer): void {
    if (this.#closed) return;
    this.#assoc.handleData(packet).catch((err) => {
      this.#opts.log.debug({ err: errorMessage(err) }, 'sctp packet dropped');
    });
  }

  /** Opens a channel (DCEP OPEN now, or once the association is up). */
  createDataChannel(label: string, opts: { ordered?: boolean; protocol?: string } = {}): DataChannel {
    const id = this.#allocateId();
    const channel = new DataChannel({ id, label, ordered: opts.ordered, protocol: opts.protocol }, this.#io);
    this.#channels.set(id, channel);
    if (this.established) this.#sendOpen(channel);
    else this.#waiting.push(channel);
    return channel;
  }

  /**
   * Closes every channel, sends an ABORT (through DTLS, which is still open), and stops the
   * association and its timers. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closeChannels();
    // stop() sends the ABORT synchronously up to its first await; CLOSED then clears the timers now.
    this.#assoc.stop().catch(() => {});
    this.#closed = true;
    this.#assoc.setState(SctpState.CLOSED);
  }

  #allocateId(): number {
    for (let i = 0; i <= MAX_STREAM_ID; i += 2) {
      const id = this.#nextId;
      this.#nextId = id + 2 > MAX_STREAM_ID ? 1 : id + 2;
      if (!this.#channels.has(id)) return id;
    }
    throw new InvalidStateError('sctp: no free stream id for a new DataChannel');
  }

  #sendOpen(channel: DataChannel): void {
    const open = serializeOpen({
      channelType: channel.channelType,
      priority: 0,
      reliability: 0,
      label: channel.label,
      protocol: channel.protocol,
    });
    this.#send(channel.id, Ppid.Dcep, open, true);
  }

  #send(streamId: number, ppid: number, payload: Buffer, ordered: boolean): void {
    if (!this.established) return;
    this.#queue.push({ streamId, ppid, payload, ordered });
    this.#buffered.set(streamId, (this.#buffered.get(streamId) ?? 0) + payload.length);
    if (!this.#pumping) void this.#pump();
  }

  /**
   * Hands queued messages to werift one at a time, in order. werift's `send()` resolves once the
   * message's chunks have left (cwnd permitting); calling it for every message at once makes each
   * flush wake every pending sender, which is quadratic and stalls a burst of 1000 for seconds.
   */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        for (const m of batch) {
          if (this.#closed) return;
          await this.#assoc.send(m.streamId, m.ppid, m.payload, { ordered: m.ordered });
          const left = (this.#buffered.get(m.streamId) ?? 0) - m.payload.length;
          if (left > 0) this.#buffered.set(m.streamId, left);
          else this.#buffered.delete(m.streamId);
        }
      }
    } catch (err) {
      this.#opts.log.debug({ err: errorMessage(err) }, 'sctp send failed');
    } finally {
      this.#pumping = false;
    }
  }

  #reset(streamId: number): void {
    this.#channels.delete(streamId);
    if (!this.established) return;
    const queue = this.#assoc.reconfigQueue;
    if (!queue.includes(streamId)) queue.push(streamId);
    if (queue.length === 1) this.#assoc.transmitReconfigRequest().catch(() => {});
  }

  #forget(streamId: number): DataChannel | undefined {
    const channel = this.#channels.get(streamId);
    this.#channels.delete(streamId);
    return channel;
  }

  #onEstablished(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const channel of waiting) {
      if (channel.readyState === 'connecting') this.#sendOpen(channel);
    }
  }

  #onReceive(streamId: number, ppid: number, data: Buffer): void {
    if (this.#closed) return;
    if (ppid !== Ppid.Dcep) {
      this.#channels.get(streamId)?.deliver(ppid, data);
      return;
    }
    if (data.length === 0) return;
    if (data[0] === DcepType.Ack) {
      this.#channels.get(streamId)?.markOpen();
      return;
    }
    if (data[0] !== DcepType.Open) return;
    let open: ReturnType<typeof parseOpen>;
    try {
      open = parseOpen(data);
    } catch (err) {
      this.#opts.log.debug({ err: errorMessage(err), streamId }, 'bad DATA_CHANNEL_OPEN');
      return;
    }
    if (!this.#channels.has(streamId)) {
      const channel = new DataChannel(
        {
          id: streamId,
          label: open.label,
          protocol: open.protocol,
          ordered: (open.channelType & 0x80) === 0,
        },
        this.#io,
      );
      this.#channels.set(streamId, channel);
      this.#send(streamId, Ppid.Dcep, serializeAck(), true);
      this.#opts.onDataChannel(channel); // as in browsers: 'datachannel' first, then the channel's 'open'
      channel.markOpen();
    } else {
      this.#send(streamId, Ppid.Dcep, serializeAck(), true); // a retransmitted OPEN
    }
  }

  #closeChannels(): void {
    const channels = [...this.#channels.values(), ...this.#waiting];
    this.#channels.clear();
    this.#waiting = [];
    for (const channel of channels) channel.markClosed();
  }
}
