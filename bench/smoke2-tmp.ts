import { setTimeout as sleep } from 'node:timers/promises';
import { loadClip, makeClip } from './lib/clip.ts';
import { startWorker } from './lib/ipc.ts';
import { cpuSeconds, ProcessGroup, rssBytes } from './lib/procs.ts';
import { startMediagate } from './lib/servers.ts';

const group = new ProcessGroup();
const clipPath = makeClip();
loadClip(clipPath);
const n = Number(process.argv[2] ?? 5);
try {
  const pub = startWorker(group, 'publisher', 'publisher.ts');
  const mg = await startMediagate(group);
  const url = `rtsp://127.0.0.1:${mg.rtspPort}/bench`;
  await pub.call('start', { clip: clipPath, rtsp: url });
  const viewers = startWorker(group, 'viewers', 'webrtc-viewers.ts');
  await sleep(500);
  const t = performance.now();
  console.log('add', await viewers.call('add', { target: { kind: 'whep', url: `http://127.0.0.1:${mg.apiPort}/api/webrtc?src=bench` }, count: n }, 120000), performance.now() - t);
  await sleep(2000);
  await viewers.call('reset');
  const c0 = cpuSeconds(mg.pid);
  await sleep(5000);
  await viewers.call('freeze');
  const c1 = cpuSeconds(mg.pid);
  console.log(await viewers.call('collect'), 'cpu', c1 - c0, 'rss', rssBytes(mg.pid) / 1e6);
  await viewers.call('close');
} finally {
  await group.stopAll();
}
