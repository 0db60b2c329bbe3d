/**
 * One complete session of each protocol against a gateway process, for the soak and storm tests:
 * an RTSP reader (TCP or UDP), an RTSP publisher, a WHEP viewer (raw offer), an MSE viewer over
 * WebSocket, an HLS session and a progressive MP4 download. Each opens, waits for the first media
 * (or the answer that means the session exists) and closes; every wait has a timeout. HTTP goes
 * through `agent: false` connections so no keep-alive socket outlives a session.
 */

import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { joinAvcc } from '../../src/codecs/avcc.ts';
import { H264Payloader } from '../../src/codecs/h264/payloader.ts';
import { interleavedHeader } from '../../src/protocols/rtsp/message.ts';
import { parseSession } from '../../src/protocols/rtsp/transport.ts';
import { serializeRtp } from '../../src/rtp/packet.ts';
import { H264_SAMPLES } from '../unit/codecs/fixtures.ts';
import { TestRtspClient } from '../unit/rtsp/server-client.ts';

export const OFFER = readFileSync(
  new URL('../unit/sdp/fixtures/chromium-offer.sdp', import.meta.url),
  'utf8',
).replace('a=sendrecv', 'a=recvonly');
const TIMEOUT_MS = 10_000;

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP request on its own connection (closed after the response). */
export function http(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: { connection: 'close', ...headers },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads the first chunk of a streaming response, then hangs up; resolves with the status and bytes. */
export function httpFirstChunk(port: number, path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: TIMEOUT_MS }, (res) => {
      res.once('data', (c: Buffer) => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, bytes: c.length });
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, bytes: 0 }));
      res.on('error', () => undefined);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no data in ${TIMEOUT_MS} ms`)));
    req.on('error', (err) => {
      if (!req.destroyed || (err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

/** DESCRIBE, SETUP, PLAY; over TCP waits for the first media packet. Returns the connection. */
export async function rtspPlay(
  port: number,
  name: string,
  transport: 'tcp' | 'udp',
  udpPort = 40000,
): Promise<TestRtspClient> {
  const c = await TestRtspClient.connect(port);
  try {
    const url = `rtsp://127.0.0.1:${port}/${name}`;
    const d = await c.request('DESCRIBE', url);
    if (d.status !== 200) throw new Error(`DESCRIBE ${name}: ${d.status}`);
    const t =
      transport === 'tcp'
        ? 'RTP/AVP/TCP;unicast;interleaved=0-1'
        : `RTP/AVP;unicast;client_port=${udpPort}-${udpPort + 1}`;
    const s = await c.request('SETUP', `${url}/trackID=0`, { Transport: t });
    if (s.status !== 200) throw new Error(`SETUP ${name}: ${s.status}`);
    const session = parseSession(s.headers.get('session') ?? '').id;
    const p = await c.request('PLAY', url, { Session: session });
    if (p.status !== 200) throw new Error(`PLAY ${name}: ${p.status}`);
    if (transport === 'tcp') await c.waitFor(() => c.frames.length > 0, TIMEOUT_MS, 'the first RTP packet');
    return c;
  } catch (err) {
    c.close();
    throw err;
  }
}

/** A reader session that ends with TEARDOWN and its connection. */
export async function rtspReaderSession(
  port: number,
  name: string,
  transport: 'tcp' | 'udp',
  udpPort?: number,
): Promise<void> {
  const c = await rtspPlay(port, name, transport, udpPort);
  await c.request('TEARDOWN', `rtsp://127.0.0.1:${port}/${name}`).catch(() => undefined);
  c.close();
}

const PUBLISH_SDP =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=soak\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n' +
  'a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:trackID=0\r\n';

/** One keyframe (SPS, PPS, IDR) as interleaved RTP on channel 0. */
function keyframePackets(seq: number): Buffer {
  const { sps, pps } = H264_SAMPLES[3];
  const idr = Buffer.alloc(3000, 0x5a);
  idr[0] = 0x65;
  const p = new H264Payloader(undefined, { mtu: 1200 });
  const outs = p.packetize({
    pts: seq * 3000,
    dts: seq * 3000,
    keyframe: true,
    data: joinAvcc([sps, pps, idr]),
  });
  return Buffer.concat(
    outs.flatMap((o, i) => {
      const rtp = serializeRtp({
        version: 2,
        padding: false,
        marker: o.marker,
        payloadType: 96,
        sequenceNumber: (seq * 10 + i) & 0xffff,
        timestamp: o.timestamp,
        ssrc: 0x50a4,
        csrc: [],
        payload: o.payload,
      });
      return [interleavedHeader(0, rtp.length), rtp];
    }),
  );
}

/** ANNOUNCE, SETUP (record, TCP), RECORD, two keyframes of RTP, TEARDOWN. */
export async function rtspPublisherSession(port: number, name: string): Promise<void> {
  const c = await TestRtspClient.connect(port);
  try {
    const url = `rtsp://127.0.0.1:${port}/${name}`;
    const a = await c.request(
      'ANNOUNCE',
      url,
      { 'Content-Type': 'application/sdp' },
      Buffer.from(PUBLISH_SDP),
    );
    if (a.status !== 200) throw new Error(`ANNOUNCE ${name}: ${a.status}`);
    const s = await c.request('SETUP', `${url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
    });
    if (s.status !== 200) throw new Error(`SETUP record ${name}: ${s.status}`);
    const session = parseSession(s.headers.get('session') ?? '').id;
    const r = await c.request('RECORD', url, { Session: session });
    if (r.status !== 200) throw new Error(`RECORD ${name}: ${r.status}`);
    c.send(keyframePackets(1));
    c.send(keyframePackets(2));
    await c.request('TEARDOWN', url, { Session: session });
  } finally {
    c.close();
  }
}

/** WHEP: POST a raw offer, DELETE the session. Returns the answer's status. */
export async function whepSession(port: number, name: string, transport?: 'udp' | 'tcp'): Promise<number> {
  const q = transport ? `&transport=${transport}` : '';
  const r = await http(port, 'POST', `/api/webrtc?src=${name}${q}`, OFFER, {
    'content-type': 'application/sdp',
  });
  if (r.status !== 201) return r.status;
  const location = String(r.headers.location ?? '');
  const d = await http(port, 'DELETE', location);
  if (d.status !== 200) throw new Error(`DELETE ${location}: ${d.status}`);
  return r.status;
}

/** MSE over `/api/ws`: waits for the first binary message (the init segment), then closes. */
export function mseSession(port: number, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws?src=${encodeURIComponent(name)}`);
    let done = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`mse ${name}: no init segment in ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'mse', value: 'avc1.640029,mp4a.40.2,opus' })));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const msg = JSON.parse(String(data)) as { type: string; value: string };
        if (msg.type === 'error') {
          clearTimeout(timer);
          ws.terminate();
          reject(new Error(`mse ${name}: ${msg.value}`));
        }
        return;
      }
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.once('close', () => resolve());
      ws.close();
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** HLS: the multivariant playlist (which waits for the first segment) and the init segment. */
export async function hlsSession(port: number, name: string): Promise<void> {
  const m = await http(port, 'GET', `/api/stream.m3u8?src=${encodeURIComponent(name)}`);
  if (m.status !== 200) throw new Error(`HLS ${name}: ${m.status} ${m.body.toString().slice(0, 200)}`);
  const id = /playlist\.m3u8\?id=([^\s&]+)/.exec(m.body.toString())?.[1];
  if (!id) throw new Error(`HLS ${name}: no session in ${m.body.toString()}`);
  const init = await http(port, 'GET', `/api/hls/init.mp4?id=${id}`);
  if (init.status !== 200) throw new Error(`HLS init ${name}: ${init.status}`);
}

/** A progressive MP4 download that ends after its first chunk. */
export async function mp4Session(port: number, name: string): Promise<void> {
  const r = await httpFirstChunk(port, `/api/stream.mp4?src=${encodeURIComponent(name)}`);
  if (r.status !== 200 || r.bytes === 0) throw new Error(`MP4 ${name}: ${r.status}, ${r.bytes} bytes`);
}
