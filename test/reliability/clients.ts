/**
 * Raw clients for abusing a port: TCP connections that send bytes and watch what the server does
 * (answer, close, nothing), many connections held at once, trickling slow clients, WebSocket
 * handshakes done by hand (to send frames no library would), and UDP datagram floods. 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const HOST = '127.0.0.1';

export interface Exchange {
  /** What the server sent back (at most the first 64 KiB). */
  response: Buffer;
  /** The server closed (FIN or RST) before `timeoutMs`. */
  closedByServer: boolean;
  /** Connecting failed (refused, reset during connect). */
  failed: boolean;
}

/** Connects to `port`, writes `data` (chunks in order), waits up to `timeoutMs` for the server to close, then closes. */
export function exchange(port: number, data: Buffer | Buffer[], timeoutMs = 1000): Promise<Exchange> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const socket = connect(port, HOST);
    const finish = (closedByServer: boolean, failed = false) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response: Buffer.concat(parts), closedByServer, failed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => {
      for (const d of Array.isArray(data) ? data : [data]) if (!socket.destroyed) socket.write(d);
    });
    socket.on('data', (c: Buffer) => {
      if (size < 65536) parts.push(c);
      size += c.length;
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(err.code !== 'ECONNREFUSED', err.code === 'ECONNREFUSED'),
    );
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface Held {
  sockets: Socket[];
  /** Sockets the server closed, with how long after connecting, ms. */
  closedAt: Map<Socket, number>;
  /** Bytes each socket received. */
  received: Map<Socket, Buffer[]>;
  closeAll: () => void;
}

/** Opens `n` connections at once (each optionally sending `hello`) and keeps them open. */
export async function hold(port: number, n: number, hello?: Buffer): Promise<Held> {
  const closedAt = new Map<Socket, number>();
  const received = new Map<Socket, Buffer[]>();
  const sockets = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve) => {
          const t0 = performance.now();
          const s = connect(port, HOST);
          received.set(s, []);
          s.on('data', (c: Buffer) => received.get(s)?.push(c));
          s.on('error', () => undefined);
          s.on('close', () => closedAt.set(s, performance.now() - t0));
          s.once('connect', () => {
            if (hello) s.write(hello);
            resolve(s);
          });
          s.once('close', () => resolve(s));
        }),
    ),
  );
  return {
    sockets,
    closedAt,
    received,
    closeAll: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

export interface Trickler {
  sockets: Socket[];
  /** Per socket: ms from connect until the server closed it (undefined while open). */
  closedAfter: (number | undefined)[];
  /** What each socket received. */
  received: string[];
  stop: () => void;
}

/**
 * Slowloris: `n` connections that send `prefix` at once, then `filler` one byte every `everyMs`,
 * and never finish. The server must close them on its own timeout.
 */
export function trickle(port: number, n: number, prefix: string, filler: string, everyMs: number): Trickler {
  const sockets: Socket[] = [];
  const closedAfter: (number | undefined)[] = [];
  const received: string[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const s = connect(port, HOST);
    sockets.push(s);
    closedAfter.push(undefined);
    received.push('');
    s.on('error', () => undefined);
    s.on('connect', () => s.write(prefix, 'latin1'));
    s.on('data', (c: Buffer) => {
      received[i] += c.toString('latin1');
    });
    s.on('close', () => {
      closedAfter[i] = performance.now() - t0;
      clearInterval(timers[i]);
    });
    timers.push(
      setInterval(() => {
        if (!s.destroyed && s.writable) s.write(filler, 'latin1');
      }, everyMs),
    );
  }
  return {
    sockets,
    closedAfter,
    received,
    stop: () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
    },
  };
}

/** Does the WebSocket opening handshake by hand; resolves with the socket after `101`. */
export function wsConnect(port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, HOST);
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) {
        s.destroy();
        reject(new Error(`no upgrade: ${head.split('\r\n')[0]}`));
        return;
      }
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      if (rest.length > 0) s.unshift(rest);
      resolve(s);
    };
    s.on('data', onData);
    s.on('error', reject);
    s.on('connect', () =>
      s.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
  });
}

/** One client-to-server WebSocket frame (masked unless `mask` is false). */
export function wsFrame(
  opcode: number,
  payload: Buffer,
  opts: { mask?: boolean; fin?: boolean; rsv?: number; length?: bigint } = {},
): Buffer {
  const mask = opts.mask ?? true;
  const len = opts.length ?? BigInt(payload.length);
  const head: number[] = [((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126n) head.push(m | Number(len));
  else if (len < 65536n) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len));
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len);
  }
  const key = mask ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

/** The opcodes and payloads of the unmasked frames in `data` that the server sent. */
export function serverFrames(data: Buffer): { opcode: number; payload: Buffer }[] {
  const out: { opcode: number; payload: Buffer }[] = [];
  let o = 0;
  while (o + 2 <= data.length) {
    const opcode = data[o] & 0x0f;
    let len = data[o + 1] & 0x7f;
    let at = o + 2;
    if (len === 126) {
      if (at + 2 > data.length) break;
      len = data.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      if (at + 8 > data.length) break;
      len = Number(data.readBigUInt64BE(at));
      at += 8;
    }
    if (at + len > data.length) break;
    out.push({ opcode, payload: data.subarray(at, at + len) });
    o = at + len;
  }
  return out;
}

/** Sends `packets` to `port` from `sources` sockets, pausing every 200 datagrams so the kernel keeps up. */
export async function udpFlood(port: number, packets: readonly Buffer[], sources = 8): Promise<number> {
  const sockets = await Promise.all(
    Array.from(
      { length: sources },
      () =>
        new Promise<ReturnType<typeof createSocket>>((resolve) => {
          const s = createSocket('udp4');
          s.on('error', () => undefined);
          s.bind(0, HOST, () => resolve(s));
        }),
    ),
  );
  let sent = 0;
  for (const [i, p] of packets.entries()) {
    await new Promise<void>((resolve) => sockets[i % sources].send(p, port, HOST, () => resolve()));
    sent++;
    if (i % 200 === 199) await sleep(2);
  }
  for (const s of sockets) s.close();
  return sent;
}

/** Resolves with the first datagram `socket` receives from anyone, or undefined after `timeoutMs`. */
export function nextDatagram(
  socket: ReturnType<typeof createSocket>,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('message', on);
      resolve(undefined);
    }, timeoutMs);
    const on = (msg: Buffer) => {
      clearTimeout(timer);
      resolve(msg);
    };
    socket.once('message', on);
  });
}
