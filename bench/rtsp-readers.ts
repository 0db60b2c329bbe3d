/**
 * RTSP readers (a worker process): N sessions over TCP interleaved (DESCRIBE, SETUP, PLAY), each
 * counting bytes, RTP packets and sequence gaps (drops) and noting when the last packet of each
 * frame arrived. Kept cheap on purpose: one timestamp per socket read, no copies except for a
 * packet split across two reads, no RTP or H.264 parsing beyond the sequence number and marker.
 *
 * ops: add { url, count } -> { opened, failed, errors }; reset (starts a measurement window);
 * freeze (ends it); collect { sends } -> totals and latency percentiles against the publisher's send times.
 */
import { frameKey, monoUs } from './lib/clip.ts';
import { serveIpc } from './lib/ipc.ts';
import { RtspClientConnection, videoControlUrl } from './lib/rtsp.ts';
import { latencyStats, type SendTable, sendTable } from './lib/stats.ts';

const DOLLAR = 0x24;
const MARKER = 0x80;
const KEEPALIVE_MS = 15000;
/** Receive times kept per session and window (a bound for a runaway window). */
const MAX_ARRIVALS = 20000;

class Session {
  bytes = 0;
  packets = 0;
  lost = 0;
  closed = false;
  /** Counters as they were when the window ended (see `freeze`). */
  frozen = { bytes: 0, packets: 0, lost: 0 };
  firstPacket: Promise<void>;
  #gotFirst!: () => void;
  #lastSeq = -1;
  #rest: Buffer | undefined;
  readonly keys: number[] = [];
  readonly times: number[] = [];

  constructor(readonly conn: RtspClientConnection) {
    this.firstPacket = new Promise((resolve) => {
      this.#gotFirst = resolve;
    });
  }

  start(initial: Buffer, url: string): void {
    const socket = this.conn.socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('close', () => {
      this.closed = true;
    });
    const keepalive = setInterval(() => {
      if (this.closed) clearInterval(keepalive);
      else socket.write(`GET_PARAMETER ${url} RTSP/1.0\r\nCSeq: 9\r\nSession: ${this.conn.session}\r\n\r\n`);
    }, KEEPALIVE_MS);
    if (initial.length > 0) this.#onData(initial);
  }

  freeze(): void {
    this.frozen = { bytes: this.bytes, packets: this.packets, lost: this.lost };
  }

  reset(): void {
    this.bytes = 0;
    this.packets = 0;
    this.lost = 0;
    this.keys.length = 0;
    this.times.length = 0;
  }

  #onData(chunk: Buffer): void {
    const now = monoUs();
    this.bytes += chunk.length;
    let buf = chunk;
    if (this.#rest) {
      buf = this.#completeRest(chunk, now);
      if (buf.length === 0) return;
    }
    let pos = 0;
    while (pos + 4 <= buf.length) {
      if (buf[pos] !== DOLLAR) {
        // An RTSP response (to GET_PARAMETER): skip its header block.
        const end = buf.indexOf('\r\n\r\n', pos);
        if (end < 0) break;
        pos = end + 4;
        continue;
      }
      const size = 4 + buf.readUInt16BE(pos + 2);
      if (pos + size > buf.length) break;
      if ((buf[pos + 1] & 1) === 0) this.#onRtp(buf, pos + 4, pos + size, now);
      pos += size;
    }
    this.#rest = pos < buf.length ? Buffer.from(buf.subarray(pos)) : undefined;
  }

  /** Completes a packet split across reads from the head of `chunk`; returns what is left of it. */
  #completeRest(chunk: Buffer, now: number): Buffer {
    let rest = this.#rest!;
    if (rest[0] !== DOLLAR || rest.length < 4) {
      // Not enough to know the size: join and parse from the start (rare, small).
      this.#rest = undefined;
      return Buffer.concat([rest, chunk]);
    }
    const size = 4 + rest.readUInt16BE(2);
    const take = Math.min(size - rest.length, chunk.length);
    rest = Buffer.concat([rest, chunk.subarray(0, take)]);
    if (rest.length < size) {
      this.#rest = rest;
      return chunk.subarray(chunk.length);
    }
    this.#rest = undefined;
    if ((rest[1] & 1) === 0) this.#onRtp(rest, 4, size, now);
    return chunk.subarray(take);
  }

  #onRtp(buf: Buffer, start: number, end: number, now: number): void {
    if (end - start < 12) return;
    const seq = buf.readUInt16BE(start + 2);
    if (this.#lastSeq >= 0) {
      const gap = (seq - this.#lastSeq - 1) & 0xffff;
      if (gap !== 0 && gap < 0x8000) this.lost += gap;
    } else this.#gotFirst();
    this.#lastSeq = seq;
    this.packets++;
    if (buf[start + 1] & MARKER && recording && this.keys.length < MAX_ARRIVALS && end - start >= 18) {
      this.keys.push(frameKey(buf, end));
      this.times.push(now);
    }
  }
}

const sessions: Session[] = [];
/** Whether frame arrivals are noted (between `reset` and `freeze`). */
let recording = false;
let failed = 0;
const errors = new Set<string>();

async function open(url: string): Promise<Session> {
  const u = new URL(url);
  const conn = await RtspClientConnection.connect(u.hostname, Number(u.port || 554));
  try {
    const desc = await conn.request('DESCRIBE', url, { Accept: 'application/sdp' });
    if (desc.status !== 200) throw new Error(`DESCRIBE: status ${desc.status}`);
    const base = desc.headers.get('content-base') ?? url;
    const control = videoControlUrl(desc.body.toString(), base);
    const setup = await conn.request('SETUP', control, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    if (setup.status !== 200) throw new Error(`SETUP: status ${setup.status}`);
    const play = await conn.request('PLAY', base, { Range: 'npt=0.000-' });
    if (play.status !== 200) throw new Error(`PLAY: status ${play.status}`);
    const session = new Session(conn);
    session.start(conn.detach(), url);
    return session;
  } catch (err) {
    conn.close();
    throw err;
  }
}

async function add(url: string, count: number, timeoutMs: number) {
  const started: Session[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      try {
        started.push(await open(url));
      } catch (err) {
        failed++;
        errors.add(err instanceof Error ? err.message : String(err));
      }
    }
  };
  // A few handshakes at a time, as a crowd of players would arrive.
  await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
  sessions.push(...started);
  const deadline = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
  await Promise.race([Promise.all(started.map((s) => s.firstPacket)), deadline]);
  return { opened: started.length, failed, errors: [...errors].slice(0, 5), total: sessions.length };
}

serveIpc({
  add: (args) => add(String(args.url), Number(args.count), Number(args.timeoutMs ?? 20000)),
  reset() {
    for (const s of sessions) s.reset();
    recording = true;
    return sessions.length;
  },
  freeze() {
    recording = false;
    for (const s of sessions) s.freeze();
    return sessions.length;
  },
  collect(args) {
    const table: SendTable = sendTable((args.sends as [number, number][]) ?? []);
    let bytes = 0;
    let packets = 0;
    let lost = 0;
    let closed = 0;
    let silent = 0;
    let behind = 0;
    let minPackets = Number.POSITIVE_INFINITY;
    const expected = Number(args.expectedPackets ?? 0);
    const keys: number[][] = [];
    const times: number[][] = [];
    for (const s of sessions) {
      bytes += s.frozen.bytes;
      packets += s.frozen.packets;
      lost += s.frozen.lost;
      if (s.closed) closed++;
      if (s.frozen.packets === 0) silent++;
      if (s.frozen.packets < expected) behind++;
      minPackets = Math.min(minPackets, s.frozen.packets);
      keys.push(s.keys);
      times.push(s.times);
    }
    return {
      sessions: sessions.length,
      bytes,
      packets,
      lost,
      closed,
      silent,
      behind,
      minPackets: sessions.length ? minPackets : 0,
      latency: latencyStats(table, keys, times),
    };
  },
  close() {
    for (const s of sessions) s.conn.close();
    sessions.length = 0;
    return true;
  },
});
