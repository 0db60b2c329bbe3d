import { createServer, connect, type Socket } from 'node:net';
import { StreamTrack } from '../src/core/track.ts';
import { RtspReader } from '../src/protocols/rtsp/server/reader.ts';
import { rtpSenderFor } from '../src/protocols/rtp/track-sender.ts';
import { loadClip, makeClip } from './lib/clip.ts';
import { readMp4, sampleFrame } from '../src/formats/mp4/index.ts';
import { readFileSync } from 'node:fs';

const N = 200;
const path = makeClip();
const buf = readFileSync(path);
const t = readMp4(buf).tracks[0];
const frames = t.samples.map((s) => sampleFrame(buf, t, s));
const server = createServer();
const serverSockets: Socket[] = [];
server.on('connection', (s) => { s.setNoDelay(true); serverSockets.push(s); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as any).port;
const clients: Socket[] = [];
for (let i = 0; i < N; i++) { const c = connect(port, '127.0.0.1'); c.on('data', () => {}); clients.push(c); }
while (serverSockets.length < N) await new Promise((r) => setTimeout(r, 10));
const track = new StreamTrack(0, { ...t.codec, payloadType: 96 });
const mode = process.argv[2] ?? 'reader';
if (mode === 'reader') {
  for (const s of serverSockets) {
    const r = new RtspReader([{ kind: 'video', codecs: 'any' }], s, undefined, { requests: 0, badRequests: 0, droppedFrames: 0 });
    r.attachTrack(track);
    r.bind(0, 'x', { channels: [0, 1] });
    r.prepareToPlay();
    r.play();
  }
}
const sender = rtpSenderFor(track);
const { performance } = await import('node:perf_hooks');
const { PerformanceObserver } = await import('node:perf_hooks');
const gcs: Record<string, [number, number]> = {};
const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) { const k = String((e as any).detail?.kind); gcs[k] ??= [0, 0]; gcs[k][0]++; gcs[k][1] += e.duration; } });
obs.observe({ entryTypes: ['gc'] });
const t0 = performance.now(); const c0 = process.cpuUsage();
let i = 0;
const total = 600;
await new Promise<void>((resolve) => {
  const tick = () => {
    for (let k = 0; k < 1; k++) {
      const f = frames[i % frames.length];
      const frame = { ...f, pts: f.pts + Math.floor(i / frames.length) * 450000, dts: f.dts + Math.floor(i / frames.length) * 450000 };
      if (mode === 'reader') track.write(frame);
      else { const p = sender.packets(frame); const framed = Buffer.concat(p.map((x) => Buffer.concat([Buffer.from([0x24, 0, x.length >> 8, x.length & 255]), x]))); for (const s of serverSockets) s.write(framed); }
      i++;
    }
    if (i >= total) resolve(); else setTimeout(tick, 5);
  };
  tick();
});
const cu = process.cpuUsage(c0);
console.log(mode, 'frames', total, 'user ms', cu.user / 1000, 'sys ms', cu.system / 1000, 'per reader-frame µs user', (cu.user / total / N).toFixed(2), 'sys', (cu.system / total / N).toFixed(2));
console.log(JSON.stringify(gcs));
for (const c of clients) c.destroy();
server.close();
process.exit(0);
