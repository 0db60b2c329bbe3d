/**
 * A tiny RTSP client for the server tests: requests with automatic CSeq, raw bytes for abuse cases,
 * and the interleaved frames the server sends, each stamped with its arrival time.
 */
import { connect, type Socket } from 'node:net';
import { joinAvcc } from '../../../src/codecs/avcc.ts';
import type { Frame } from '../../../src/core/media.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import {
  type InterleavedFrame,
  RtspDecoder,
  type RtspResponse,
  serializeRequest,
} from '../../../src/protocols/rtsp/message.ts';
import { RtspServer, type RtspServerOptions } from '../../../src/protocols/rtsp/server/index.ts';
import { parseRtp } from '../../../src/rtp/index.ts';
import { FakeDriver, H264, media, OPUS } from '../../helpers/fakes.ts';

export interface ReceivedFrame extends InterleavedFrame {
  /** `performance.now()` at arrival. */
  at: number;
}

export class TestRtspClient {
  readonly frames: ReceivedFrame[] = [];
  readonly responses: RtspResponse[] = [];
  ended = false;
  #cseq = 0;
  readonly #decoder = new RtspDecoder({ maxBodyBytes: 1024 * 1024 });
  #waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const at = performance.now();
      for (const item of this.#decoder.push(chunk)) {
        if (item.kind === 'frame') this.frames.push({ ...item, data: Buffer.from(item.data), at });
        else if (item.kind === 'response') this.responses.push(item);
      }
      this.#wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.#wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<TestRtspClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => {
        socket.off('error', reject);
        resolve(new TestRtspClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends a request with the next CSeq and resolves with its response. */
  async request(
    method: string,
    uri: string,
    headers: Record<string, string> = {},
    body?: Buffer,
    timeoutMs = 3000,
  ): Promise<RtspResponse> {
    const cseq = String(++this.#cseq);
    this.socket.write(serializeRequest(method, uri, [['CSeq', cseq], ...Object.entries(headers)], body));
    return this.waitFor(
      () => this.responses.find((r) => r.headers.get('cseq') === cseq),
      timeoutMs,
      `${method} answer`,
    );
  }

  /** Writes raw bytes. */
  send(data: Buffer | string): void {
    this.socket.write(data);
  }

  /** Resolves with the first truthy value of `probe`, re-checked on every arrival. */
  waitFor<T>(probe: () => T | undefined, timeoutMs = 3000, what = 'condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const check = (): void => {
        if (settled) return;
        const v = probe();
        if (v) {
          settled = true;
          clearTimeout(timer);
          resolve(v);
        } else if (this.ended) {
          settled = true;
          clearTimeout(timer);
          reject(new Error(`connection ended while waiting for ${what}`));
        } else {
          this.#waiters.push(check);
        }
      };
      const timer = setTimeout(() => {
        settled = true;
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      check();
    });
  }

  /** Resolves when the server has closed the connection. */
  waitEnd(timeoutMs = 3000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ended) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`connection still open after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** A server on 127.0.0.1 (TCP and UDP on OS-chosen ports) serving stream `cam` from a fake H.264 + Opus source. */
export async function startTestServer(options: Partial<RtspServerOptions> = {}) {
  const schemes = new SchemeTable();
  const driver = new FakeDriver([media(H264), media(OPUS)]);
  schemes.register('fake', () => driver);
  const registry = new StreamRegistry(schemes, { idleTimeoutMs: 50 });
  await registry.create('cam', ['fake://cam']);
  const server = new RtspServer(
    { registry, log: silentLogger() },
    { host: '127.0.0.1', port: 0, udp: { host: '127.0.0.1', rtpPort: 0, rtcpPort: 0 }, ...options },
  );
  const { port } = await server.listen();
  const clients: TestRtspClient[] = [];
  return {
    server,
    registry,
    driver,
    port,
    url: `rtsp://127.0.0.1:${port}/cam`,
    async client(): Promise<TestRtspClient> {
      const c = await TestRtspClient.connect(port);
      clients.push(c);
      return c;
    },
    async close(): Promise<void> {
      for (const c of clients) c.close();
      registry.close();
      await server.close();
    },
  };
}

/** An AVCC H.264 frame: an IDR slice for a keyframe (large enough for FU-A), else a P slice. */
export function videoFrame(pts: number, keyframe: boolean): Frame {
  // Never ending in 0x00: real NAL units end with the RBSP stop bit, and depayloaders trim zero bytes.
  const nal = Buffer.alloc(keyframe ? 3000 : 400, 0x80 | (pts & 0x7f));
  nal[0] = keyframe ? 0x65 : 0x41;
  return { pts, dts: pts, keyframe, data: joinAvcc([nal]) };
}

/** An Opus packet (one 20 ms CELT frame TOC). */
export function audioFrame(pts: number): Frame {
  const data = Buffer.alloc(60, 7);
  data[0] = 0xfc;
  return { pts, dts: pts, keyframe: true, data };
}

/** True for the first packet of an H.264 IDR: a single NAL of type 5, a STAP-A or an FU-A start of type 5. */
export function startsKeyframe(rtp: Buffer): boolean {
  const p = parseRtp(rtp).payload;
  const type = p[0] & 0x1f;
  if (type === 5 || type === 24) return true;
  return type === 28 && (p[1] & 0x80) !== 0 && (p[1] & 0x1f) === 5;
}

/** Polls `probe` every 10 ms until it is truthy; for conditions no socket event announces (UDP). */
export async function waitUntil(probe: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
