/**
 * A scriptable RTSP server on 127.0.0.1 for the RTSP client tests: a raw `net` server that records
 * every request and answers through a handler, plus `camera()`, a handler that plays a camera
 * (OPTIONS, DESCRIBE with optional auth, SETUP for TCP or UDP, PLAY, GET_PARAMETER, TEARDOWN).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { RtspAuthenticator } from '../../../src/protocols/rtsp/auth.ts';
import {
  interleavedHeader,
  RtspDecoder,
  type RtspItem,
  type RtspRequest,
  STATUS_TEXT,
} from '../../../src/protocols/rtsp/message.ts';
import { parseTransports } from '../../../src/protocols/rtsp/transport.ts';
import { serializeRtp } from '../../../src/rtp/index.ts';

export const SPS = Buffer.from('Z0LADdoFB+wFqDAwNSgAAAMACAAAAwGUeKFV', 'base64'); // 320x240 from x264
export const PPS = Buffer.from('aM48gA==', 'base64');
export const SSRC = 0x1234abcd;

/** One RTP packet as bytes. */
export function rtp(seq: number, ts: number, marker: boolean, payload: Buffer, pt = 96, ssrc = SSRC): Buffer {
  return serializeRtp({
    version: 2,
    padding: false,
    marker,
    payloadType: pt,
    sequenceNumber: seq & 0xffff,
    timestamp: ts >>> 0,
    ssrc,
    csrc: [],
    payload,
  });
}

/** An H.264 keyframe in two packets: STAP-A with SPS and PPS (in-band), then the IDR slice. */
export function h264Keyframe(seq: number, ts: number): Buffer[] {
  const len = (b: Buffer) => Buffer.from([b.length >> 8, b.length & 0xff]);
  const stap = Buffer.concat([Buffer.from([0x18]), len(SPS), SPS, len(PPS), PPS]);
  const idr = Buffer.concat([Buffer.from([0x65, 0x88, 0x84]), Buffer.alloc(40, 7)]);
  return [rtp(seq, ts, false, stap), rtp(seq + 1, ts, true, idr)];
}

export interface ServerConn {
  socket: Socket;
  reply(req: RtspRequest, status: number, headers?: Record<string, string>, body?: string): void;
  /** `$ channel length data`. */
  interleaved(channel: number, data: Buffer): void;
  /** Interleaved frames the client sent (RTCP). */
  frames: { channel: number; data: Buffer }[];
}

export type Handler = (req: RtspRequest, conn: ServerConn) => void;

export class FakeRtspServer {
  readonly requests: RtspRequest[] = [];
  readonly conns: ServerConn[] = [];
  port = 0;
  readonly #server: Server;

  /**
   * @param lf answer with bare LF line ends (sloppy cameras)
   * @param tls serve RTSP over TLS with these options (rtsps://)
   */
  constructor(
    public handler: Handler,
    readonly lf = false,
    tls?: TlsOptions,
  ) {
    this.#server = tls
      ? createTlsServer(tls, (socket) => this.#accept(socket))
      : createServer((socket) => this.#accept(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return this.port;
  }

  url(path = '/stream', fragment = ''): string {
    return `rtsp://127.0.0.1:${this.port}${path}${fragment}`;
  }

  methods(): string[] {
    return this.requests.map((r) => r.method);
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const decoder = new RtspDecoder();
    const eol = this.lf ? '\n' : '\r\n';
    const conn: ServerConn = {
      socket,
      frames: [],
      reply: (req, status, headers = {}, body = '') => {
        const lines = [`RTSP/1.0 ${status} ${STATUS_TEXT[status] ?? 'Status'}`];
        const cseq = req.headers.get('cseq');
        if (cseq !== undefined && headers.CSeq === undefined) lines.push(`CSeq: ${cseq}`);
        for (const [k, v] of Object.entries(headers)) if (v !== '') lines.push(`${k}: ${v}`);
        if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
        if (!socket.destroyed) socket.write(lines.join(eol) + eol + eol + body);
      },
      interleaved: (channel, data) => {
        if (!socket.destroyed) socket.write(Buffer.concat([interleavedHeader(channel, data.length), data]));
      },
    };
    this.conns.push(conn);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      let items: RtspItem[];
      try {
        items = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const item of items) {
        if (item.kind === 'frame') conn.frames.push({ channel: item.channel, data: Buffer.from(item.data) });
        else if (item.kind === 'request') {
          this.requests.push(item);
          this.handler(item, conn);
        }
      }
    });
  }
}

export interface CameraOptions {
  sdp: string;
  /** Answer DESCRIBE (and later requests) with 401 unless authorized by this. */
  auth?: RtspAuthenticator;
  contentBase?: string;
  /** Added to the interleaved channels the client asked for (servers that choose their own). */
  channelOffset?: number;
  /** `Session: ID;timeout=N`; undefined leaves the timeout out. */
  sessionTimeout?: number;
  public?: string;
  /** Called after the PLAY answer was written. */
  onPlay?: (conn: ServerConn) => void;
  /** UDP: the server's RTCP socket; `server_port` is announced as (its port - 1)-(its port). */
  udpRtcp?: UdpSocket;
  /** Records the client ports of each UDP SETUP. */
  clientPorts?: number[];
}

export const SESSION_ID = 'A1B2C3D4';

/** A handler that behaves like an ordinary camera. */
export function camera(o: CameraOptions): Handler {
  return (req, conn) => {
    if (o.auth && req.method !== 'OPTIONS' && !o.auth.check(req.headers.get('authorization'), req.method)) {
      conn.reply(req, 401, { 'WWW-Authenticate': o.auth.challenges().join(', ') });
      return;
    }
    const session = `${SESSION_ID}${o.sessionTimeout !== undefined ? `;timeout=${o.sessionTimeout}` : ''}`;
    switch (req.method) {
      case 'OPTIONS':
        conn.reply(req, 200, {
          Public: o.public ?? 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER',
        });
        break;
      case 'DESCRIBE':
        conn.reply(
          req,
          200,
          { 'Content-Type': 'application/sdp', 'Content-Base': o.contentBase ?? '' },
          o.sdp,
        );
        break;
      case 'SETUP': {
        const t = parseTransports(req.headers.get('transport') ?? '')[0];
        let transport: string;
        if (t.protocol === 'tcp') {
          const [a, b] = t.interleaved ?? [0, 1];
          const off = o.channelOffset ?? 0;
          transport = `RTP/AVP/TCP;unicast;interleaved=${a + off}-${b + off};ssrc=1234ABCD`;
        } else {
          const [a, b] = t.clientPort ?? [0, 0];
          o.clientPorts?.push(a);
          const sp = o.udpRtcp ? (o.udpRtcp.address() as { port: number }).port - 1 : 40000;
          transport = `RTP/AVP;unicast;client_port=${a}-${b};server_port=${sp}-${sp + 1}`;
        }
        conn.reply(req, 200, { Transport: transport, Session: session });
        break;
      }
      case 'PLAY':
        conn.reply(req, 200, { Session: SESSION_ID, 'RTP-Info': `url=${req.uri};seq=100;rtptime=0` });
        o.onPlay?.(conn);
        break;
      case 'GET_PARAMETER':
      case 'TEARDOWN':
        conn.reply(req, 200, { Session: SESSION_ID });
        break;
      default:
        conn.reply(req, 501);
    }
  };
}

/** A UDP socket bound on `address` (127.0.0.2 works too on Linux loopback). */
export async function udpSocket(address = '127.0.0.1'): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  return s;
}

/** Polls `check` every 10 ms; throws after `ms`. */
export async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
