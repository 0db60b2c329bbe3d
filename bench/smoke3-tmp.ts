import { setTimeout as sleep } from 'node:timers/promises';
import { loadClip, makeClip } from './lib/clip.ts';
import { startWorker } from './lib/ipc.ts';
import { freeUdpPortPair } from './lib/ports.ts';
import { cpuSeconds, ProcessGroup, rssBytes } from './lib/procs.ts';
import { MOUNTPOINT_ID, startJanus } from './peers/janus.ts';

const group = new ProcessGroup();
const clipPath = makeClip();
const clip = loadClip(clipPath);
const n = Number(process.argv[2] ?? 5);
let j;
try {
  const udp = await freeUdpPortPair();
  j = await startJanus(group, udp, clip.fmtp);
  console.log('janus ready', j.readyMs);
  const pub = startWorker(group, 'publisher', 'publisher.ts');
  await pub.call('start', { clip: clipPath, udp });
  const viewers = startWorker(group, 'viewers', 'webrtc-viewers.ts');
  await sleep(1500);
  const t = performance.now();
  console.log('add', await viewers.call('add', { target: { kind: 'janus', url: j.url, mountpoint: MOUNTPOINT_ID }, count: n }, 120000), performance.now() - t);
  await sleep(2000);
  await viewers.call('reset');
  const c0 = cpuSeconds(j.pid);
  await sleep(5000);
  await viewers.call('freeze');
  const c1 = cpuSeconds(j.pid);
  console.log(await viewers.call('collect'), 'cpu', c1 - c0, 'rss', rssBytes(j.pid) / 1e6);
  await viewers.call('close');
} catch (e) { console.error(e); } finally {
  await group.stopAll();
}
