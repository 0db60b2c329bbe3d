/**
 * The ways a packet can leave for a peer: a remote UDP address on the server's shared socket, or
 * one accepted ICE-TCP connection (RFC 6544 passive, RFC 4571 framing). Every write is guarded:
 * a path whose socket is gone drops the packet and says so, it never throws.
 */
import type { Socket } from 'node:net';
import { errorMessage, ParseError } from '../../../core/errors.ts';
import { FrameDecoder, frame } from '../framing.ts';

/** A validated way to reach a peer. */
export interface IcePath {
  readonly protocol: 'udp' | 'tcp';
  /** The peer's address and port. */
  readonly address: string;
  readonly port: number;
  /** Unique per path: `udp:<ip>:<port>` or `tcp:<connection number>`. */
  readonly key: string;
  /** Sends one packet; false when it was dropped because the socket is closed. */
  send(packet: Buffer): boolean;
  /** Bytes queued on the socket and not yet handed to the kernel; 0 for UDP. */
  backlogBytes(): number;
}

/** The route key of a UDP remote address. */
export function udpKey(address: string, port: number): string {
  return `udp:${address}:${port}`;
}

/** A remote UDP address, sent to through the server's socket by `sendTo`. */
export class UdpPath implements IcePath {
  readonly protocol = 'udp';
  readonly key: string;
  readonly #sendTo: (packet: Buffer, address: string, port: number) => boolean;

  constructor(
    readonly address: string,
    readonly port: number,
    sendTo: (packet: Buffer, address: string, port: number) => boolean,
  ) {
    this.key = udpKey(address, port);
    this.#sendTo = sendTo;
  }

  send(packet: Buffer): boolean {
    return this.#sendTo(packet, this.address, this.port);
  }

  backlogBytes(): number {
    return 0;
  }
}

export interface TcpConnectionHandlers {
  /** One de-framed packet. */
  onPacket(packet: Buffer, conn: TcpConnection): void;
  /** The framing was broken (a length over the limit); the connection is being destroyed. */
  onFramingError(err: ParseError, conn: TcpConnection): void;
  /** The socket is closed (once). */
  onClose(conn: TcpConnection): void;
}

let nextConnection = 1;

/**
 * One accepted ICE-TCP connection: RFC 4571 de-framing in, framing out. It owns its socket; the
 * server owns the connection.
 */
export class TcpConnection implements IcePath {
  readonly protocol = 'tcp';
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** `Date.now()` when accepted; the server closes connections that never authenticate. */
  readonly acceptedAt = Date.now();
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  readonly #handlers: TcpConnectionHandlers;
  #closed = false;
  #closedPromise: Promise<void>;

  constructor(socket: Socket, maxFrameSize: number, handlers: TcpConnectionHandlers) {
    this.#socket = socket;
    this.#decoder = new FrameDecoder(maxFrameSize);
    this.#handlers = handlers;
    this.key = `tcp:${nextConnection++}`;
    this.address = socket.remoteAddress ?? '';
    this.port = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    this.#closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.#closed = true;
        resolve();
        handlers.onClose(this);
      });
    });
    // Errors (ECONNRESET, EPIPE) are followed by 'close'; without a listener they would throw.
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
  }

  /** The socket can still take writes. */
  get writable(): boolean {
    return !this.#closed && this.#socket.writable;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(packet: Buffer): boolean {
    if (!this.writable || packet.length > 0xffff) return false;
    this.#socket.write(frame(packet));
    return true;
  }

  backlogBytes(): number {
    return this.#closed ? 0 : this.#socket.writableLength;
  }

  /**
   * Ends the connection after the queued writes are flushed (FIN), and destroys it if the peer has
   * not closed its side within `deadlineMs`. Resolves once the socket is closed.
   */
  end(deadlineMs: number): Promise<void> {
    if (!this.#closed) {
      if (!this.#socket.writableEnded) this.#socket.end();
      const timer = setTimeout(() => this.#socket.destroy(), deadlineMs);
      this.#closedPromise.finally(() => clearTimeout(timer));
    }
    return this.#closedPromise;
  }

  /** Closes the socket at once, dropping unsent bytes. */
  destroy(): Promise<void> {
    this.#socket.destroy();
    return this.#closedPromise;
  }

  #onData(chunk: Buffer): void {
    let packets: Buffer[];
    try {
      packets = this.#decoder.push(chunk);
    } catch (err) {
      this.#socket.pause();
      const parseError = err instanceof ParseError ? err : new ParseError('rfc4571', errorMessage(err));
      this.#handlers.onFramingError(parseError, this);
      this.#socket.destroy();
      return;
    }
    for (const packet of packets) {
      if (this.#closed) return;
      this.#handlers.onPacket(packet, this);
    }
  }
}
