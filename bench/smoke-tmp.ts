import { setTimeout as sleep } from 'node:timers/promises';
import { loadClip, makeClip, monoUs } from './lib/clip.ts';
import { startWorker } from './lib/ipc.ts';
import { freeUdpPortPair } from './lib/ports.ts';
import { cpuSeconds, ProcessGroup, rssBytes } from './lib/procs.ts';
import { startCeiling, startGstRelay, startMediagate } from './lib/servers.ts';

const group = new ProcessGroup();
const clipPath = makeClip();
const clip = loadClip(clipPath);
console.log('clip', clip.frames.length, clip.packets, Math.round(clip.bitrate));
const which = process.argv[2] ?? 'mediagate';
const n = Number(process.argv[3] ?? 10);
try {
  let url: string; let pid: number;
  const pub = startWorker(group, 'publisher', 'publisher.ts');
  if (which === 'mediagate') {
    const mg = await startMediagate(group);
    url = `rtsp://127.0.0.1:${mg.rtspPort}/bench`; pid = mg.pid;
    await pub.call('start', { clip: clipPath, rtsp: url });
  } else if (which === 'ceiling') {
    const c = await startCeiling(group); url = c.url; pid = c.pid;
    await pub.call('start', { clip: clipPath, rtsp: url });
  } else {
    const udp = await freeUdpPortPair();
    const g = await startGstRelay(group, udp, clip.codec.fmtp!['sprop-parameter-sets'], which === 'gstpass' ? 'passthrough' : 'repay');
    url = g.url; pid = g.pid;
    await pub.call('start', { clip: clipPath, udp });
  }
  const readers = startWorker(group, 'readers', 'rtsp-readers.ts');
  await sleep(1000);
  console.log('add', await readers.call('add', { url, count: n }));
  await sleep(2000);
  await readers.call('reset');
  const t0 = monoUs(); const c0 = cpuSeconds(pid);
  await sleep(5000);
  await readers.call('freeze');
  const c1 = cpuSeconds(pid);
  const sends = await pub.call('sends', { sinceUs: t0 - 10e6 });
  const r = await readers.call<Record<string, unknown>>('collect', { sends });
  console.log(await pub.call('stats'));
  console.log(which, r, 'cpu', c1 - c0, 'rss MB', rssBytes(pid) / 1e6);
} finally {
  await group.stopAll();
}
