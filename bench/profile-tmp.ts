import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeClip } from './lib/clip.ts';
import { startWorker } from './lib/ipc.ts';
import { cpuSeconds, ProcessGroup } from './lib/procs.ts';
import { startMediagate } from './lib/servers.ts';

const group = new ProcessGroup();
const clipPath = makeClip();
const n = Number(process.argv[2] ?? 200);
try {
  const mg = await startMediagate(group);
  const url = `rtsp://127.0.0.1:${mg.rtspPort}/bench`;
  const pub = startWorker(group, 'publisher', 'publisher.ts');
  await pub.call('start', { clip: clipPath, rtsp: url });
  const readers = startWorker(group, 'readers', 'rtsp-readers.ts');
  console.log(await readers.call('add', { url, count: n }, 60000));
  await sleep(2000);
  const c0 = cpuSeconds(mg.pid);
  const res = await fetch(`http://127.0.0.1:${mg.apiPort}/api/debug/cpu?seconds=8`);
  const prof = await res.json() as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }[]; samples: number[]; timeDeltas: number[] };
  console.log('cpu during profile', cpuSeconds(mg.pid) - c0);
  writeFileSync('/tmp/mgbench/mg.cpuprofile', JSON.stringify(prof));
  const self = new Map<string, number>();
  const counts = new Map<number, number>();
  for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  let total = 0;
  for (const node of prof.nodes) {
    const c = counts.get(node.id) ?? 0;
    total += c;
    const k = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.replace(/.*\/(src|node_modules)\//, '$1/')}:${node.callFrame.lineNumber}`;
    self.set(k, (self.get(k) ?? 0) + c);
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
  for (const [k, v] of top) console.log((100 * v / total).toFixed(1).padStart(5), k);
} finally {
  await group.stopAll();
}
