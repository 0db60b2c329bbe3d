import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { StreamTrack } from '../src/core/track.ts';
import { readMp4, sampleFrame } from '../src/formats/mp4/index.ts';
import { RtspReader } from '../src/protocols/rtsp/server/reader.ts';
import { makeClip } from './lib/clip.ts';

const N = 200;
const buf = readFileSync(makeClip());
const t = readMp4(buf).tracks[0];
const frames = t.samples.map((s) => sampleFrame(buf, t, s));
let writes = 0;
const fake = { writable: true, writableLength: 0, remoteAddress: '127.0.0.1', write: () => { writes++; return true; } } as unknown as Socket;
const track = new StreamTrack(0, { ...t.codec, payloadType: 96 });
for (let i = 0; i < N; i++) {
  const r = new RtspReader([{ kind: 'video', codecs: 'any' }], fake, undefined, { requests: 0, badRequests: 0, droppedFrames: 0 });
  r.attachTrack(track);
  r.bind(0, 'x', { channels: [0, 1] });
  r.prepareToPlay();
  r.play();
}
const total = 3000;
for (let round = 0; round < 3; round++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    const f = frames[i % frames.length];
    track.write({ ...f, pts: f.pts + i * 3000, dts: f.dts + i * 3000 });
  }
  const ns = Number(process.hrtime.bigint() - t0);
  console.log('per frame µs', (ns / total / 1000).toFixed(1), 'per delivery ns', (ns / total / N).toFixed(0), writes);
}
