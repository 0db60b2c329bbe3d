/**
 * The RTMP handshake (RTMP 1.0 section 5.2) as two small state machines, bytes in and bytes out.
 *
 *   C0/S0: version (8) = 3
 *   C1/S1: time (32) | zero (32) | random (1528 bytes)
 *   C2/S2: time (32) | time2 (32) | random echo (1528 bytes): the peer's C1/S1 echoed back
 *
 * Flash-era clients send a C1 with a version in the zero field and an HMAC digest in the random
 * part and expect a digest in S1 only when S1's own version field is set; mediagate's S1 has
 * zeros there, so echoing C1 as S2 satisfies them (ffmpeg, OBS/librtmp, Flash, Larix). The
 * content of C2/S2 is not checked, as no implementation relies on it.
 */
import { randomBytes } from 'node:crypto';
import { ParseError } from '../../core/errors.ts';

const WHAT = 'RTMP handshake';
/** Bytes of C1, C2, S1 and S2. */
export const HANDSHAKE_SIZE = 1536;
/** The only protocol version (6 would be RTMPE, which is not supported). */
export const RTMP_VERSION = 3;
const TIME2_OFFSET = 4;

/** What one `push` produced: bytes to send, and once finished the input left over (chunks). */
export interface HandshakeStep {
  send?: Buffer;
  done: boolean;
  /** Bytes after the handshake (the first chunks); only when `done`. */
  rest?: Buffer;
}

/** C1 or S1: a 4-byte time, four zero bytes, 1528 random bytes. */
function packet1(timeMs: number): Buffer {
  const out = randomBytes(HANDSHAKE_SIZE);
  out.writeUInt32BE(timeMs >>> 0, 0);
  out.writeUInt32BE(0, 4);
  return out;
}

/** The echo of the peer's C1/S1 with our read time in `time2`. */
function echo(peer: Buffer, timeMs: number): Buffer {
  const out = Buffer.from(peer);
  out.writeUInt32BE(timeMs >>> 0, TIME2_OFFSET);
  return out;
}

function checkVersion(version: number): void {
  if (version !== RTMP_VERSION) {
    throw new ParseError(WHAT, `version ${version} is not ${RTMP_VERSION}${version === 6 ? ' (RTMPE)' : ''}`);
  }
}

/** Collects input until `size` bytes are there. */
class Collector {
  #parts: Buffer[] = [];
  #size = 0;

  add(data: Buffer): void {
    this.#parts.push(data);
    this.#size += data.length;
  }

  /** The first `size` bytes and the rest, or undefined while fewer are there. */
  take(size: number): { head: Buffer; rest: Buffer } | undefined {
    if (this.#size < size) return undefined;
    const all = Buffer.concat(this.#parts, this.#size);
    const rest = all.subarray(size);
    this.#parts = rest.length > 0 ? [rest] : [];
    this.#size = rest.length;
    return { head: all.subarray(0, size), rest };
  }
}

/** The server side: C0+C1 in, S0+S1+S2 out, C2 in. Throws `ParseError` on a wrong version. */
export class ServerHandshake {
  #state: 'c0c1' | 'c2' | 'done' = 'c0c1';
  readonly #in = new Collector();

  constructor(private readonly now: () => number = () => Math.round(performance.now())) {}

  push(data: Buffer): HandshakeStep {
    if (this.#state === 'done') return { done: true, rest: data };
    this.#in.add(data);
    let send: Buffer | undefined;
    if (this.#state === 'c0c1') {
      const c0c1 = this.#in.take(1 + HANDSHAKE_SIZE);
      if (!c0c1) return { done: false };
      checkVersion(c0c1.head[0]);
      const c1 = c0c1.head.subarray(1);
      const t = this.now();
      send = Buffer.concat([Buffer.from([RTMP_VERSION]), packet1(t), echo(c1, t)]);
      this.#state = 'c2';
    }
    const c2 = this.#in.take(HANDSHAKE_SIZE);
    if (!c2) return { send, done: false };
    this.#state = 'done';
    return { send, done: true, rest: c2.rest };
  }
}

/** The client side: `start()` gives C0+C1; S0+S1 in, C2 out, S2 in. */
export class ClientHandshake {
  #state: 's0s1' | 's2' | 'done' = 's0s1';
  readonly #in = new Collector();

  constructor(private readonly now: () => number = () => Math.round(performance.now())) {}

  /** C0 and C1, to send first. */
  start(): Buffer {
    return Buffer.concat([Buffer.from([RTMP_VERSION]), packet1(this.now())]);
  }

  push(data: Buffer): HandshakeStep {
    if (this.#state === 'done') return { done: true, rest: data };
    this.#in.add(data);
    let send: Buffer | undefined;
    if (this.#state === 's0s1') {
      const s0s1 = this.#in.take(1 + HANDSHAKE_SIZE);
      if (!s0s1) return { done: false };
      checkVersion(s0s1.head[0]);
      send = echo(s0s1.head.subarray(1), this.now());
      this.#state = 's2';
    }
    const s2 = this.#in.take(HANDSHAKE_SIZE);
    if (!s2) return { send, done: false };
    this.#state = 'done';
    return { send, done: true, rest: s2.rest };
  }
}
