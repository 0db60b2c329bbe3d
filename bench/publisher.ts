/**
 * The bench's RTP publisher (a worker process): plays the clip in real time, looped, either to an
 * RTSP server (ANNOUNCE, SETUP `mode=record` over TCP interleaved, RECORD: mediagate and the
 * ceiling) or as plain RTP over UDP (gst-rtsp-server's `udpsrc`, Janus's streaming mountpoint).
 * It remembers when each frame was handed to the socket (CLOCK_MONOTONIC, µs), keyed by the
 * frame's identity (see clip.ts), so the bench can tell the latency each reader saw.
 *
 * ops: start { clip, rtsp?: url, udp?: port } -> { packets, bitrate }; sends { sinceUs } ->
 * [key, us][]; stats -> counters.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { type Clip, clipSdp, loadClip, monoUs } from './lib/clip.ts';
import { serveIpc } from './lib/ipc.ts';
import { RtspClientConnection } from './lib/rtsp.ts';

const SEQ_OFFSET = 2;
const TS_OFFSET = 4;
/** Send times older than this are forgotten. */
const KEEP_SENDS_US = 60_000_000;

interface Output {
  send(packets: Buffer[]): void;
  close(): void;
}

let clip: Clip | undefined;
let output: Output | undefined;
let timer: NodeJS.Timeout | undefined;
const counters = { frames: 0, packets: 0, bytes: 0, late: 0 };
const sends: [key: number, us: number][] = [];

function tcpOutput(socket: Socket): Output {
  return {
    send(packets) {
      socket.cork();
      for (const p of packets) {
        const h = Buffer.allocUnsafe(4);
        h[0] = 0x24;
        h[1] = 0;
        h.writeUInt16BE(p.length, 2);
        socket.write(h);
        socket.write(p);
      }
      socket.uncork();
    },
    close: () => socket.destroy(),
  };
}

function udpOutput(socket: UdpSocket, port: number): Output {
  return {
    send(packets) {
      for (const p of packets) socket.send(p, port, '127.0.0.1');
    },
    close: () => socket.close(),
  };
}

async function connectRtsp(c: Clip, url: string): Promise<Output> {
  const u = new URL(url);
  const conn = await RtspClientConnection.connect(u.hostname, Number(u.port));
  const expect = (what: string, r: { status: number }) => {
    if (r.status !== 200) throw new Error(`${what} ${url}: status ${r.status}`);
  };
  expect(
    'ANNOUNCE',
    await conn.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, Buffer.from(clipSdp(c))),
  );
  expect(
    'SETUP',
    await conn.request('SETUP', `${url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
    }),
  );
  expect('RECORD', await conn.request('RECORD', url, { Range: 'npt=0.000-' }));
  conn.detach();
  conn.socket.on('data', () => {}); // RTCP receiver reports: not needed
  conn.socket.on('close', () => {
    if (output) process.stderr.write('publisher: RTSP connection closed by the server\n');
  });
  return tcpOutput(conn.socket);
}

/** Sends every due frame; sequence numbers and timestamps continue across loops. */
function play(c: Clip, out: Output): void {
  const start = performance.now();
  let index = 0;
  let loop = 0;
  let seq = 0;
  const tick = () => {
    const elapsed = performance.now() - start;
    for (let n = 0; n < 64; n++) {
      const frame = c.frames[index];
      const due = loop * c.durationMs + frame.timeMs;
      if (due > elapsed) break;
      if (elapsed - due > 50) counters.late++;
      const ts = (frame.rtpTime + Math.round((loop * c.durationMs * 90000) / 1000)) >>> 0;
      for (const p of frame.packets) {
        p.writeUInt16BE(seq, SEQ_OFFSET);
        p.writeUInt32BE(ts, TS_OFFSET);
        seq = (seq + 1) & 0xffff;
        counters.bytes += p.length;
      }
      // Noted before the write: a fast reader on the other core may get it before the call returns.
      sends.push([frame.key, monoUs()]);
      out.send(frame.packets);
      counters.frames++;
      counters.packets += frame.packets.length;
      if (++index === c.frames.length) {
        index = 0;
        loop++;
      }
    }
    while (sends.length > 0 && sends[0][1] < monoUs() - KEEP_SENDS_US) sends.shift();
    const next = c.frames[index];
    const wait = loop * c.durationMs + next.timeMs - (performance.now() - start);
    timer = setTimeout(tick, Math.max(0, wait));
  };
  tick();
}

serveIpc({
  async start(args) {
    clip = loadClip(String(args.clip));
    if (typeof args.rtsp === 'string') output = await connectRtsp(clip, args.rtsp);
    else {
      const socket = createSocket('udp4');
      socket.on('error', () => {}); // nobody listening yet: ICMP unreachable, ignored
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      output = udpOutput(socket, Number(args.udp));
    }
    play(clip, output);
    return { packets: clip.packets, bitrate: clip.bitrate, frames: clip.frames.length };
  },
  sends(args) {
    const since = Number(args.sinceUs ?? 0);
    return sends.filter((s) => s[1] >= since);
  },
  stats: () => ({ ...counters }),
  stop() {
    clearTimeout(timer);
    const o = output;
    output = undefined;
    o?.close();
    return true;
  },
});
