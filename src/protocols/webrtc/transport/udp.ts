/**
 * The server's one UDP socket: bind, guarded sends, and a close that lets queued packets (the DTLS
 * close alerts) leave first.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

export class UdpPort {
  #socket: Socket | undefined;
  #open = false;
  #pending = 0;
  #onDrained: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  /** Binds to `host:port` (0 = ephemeral) and resolves with the bound port. */
  async bind(
    host: string,
    port: number,
    onMessage: (msg: Buffer, rinfo: RemoteInfo) => void,
    onError: (err: Error) => void,
  ): Promise<number> {
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    this.#socket = socket;
    socket.on('message', onMessage);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', onError);
    this.#open = true;
    return socket.address().port;
  }

  /** Sends one datagram; false (never a throw) when the socket is not open. */
  send = (packet: Buffer, address: string, port: number): boolean => {
    const socket = this.#socket;
    if (!socket || !this.#open) return false;
    this.#pending++;
    try {
      socket.send(packet, port, address, () => {
        this.#pending--;
        if (this.#pending === 0) this.#onDrained?.();
      });
      return true;
    } catch {
      this.#pending--;
      return false;
    }
  };

  /**
   * Stops sending, waits (up to `deadlineMs`) until every queued datagram has been handed to the
   * kernel, then closes the socket. Idempotent.
   */
  close(deadlineMs: number): Promise<void> {
    this.#closed ??= this.#close(deadlineMs);
    return this.#closed;
  }

  async #close(deadlineMs: number): Promise<void> {
    const socket = this.#socket;
    if (!socket) return;
    if (this.#pending > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => resolve(), deadlineMs);
        this.#onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#open = false;
    this.#onDrained = undefined;
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
  }
}
