import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeClip, loadClip } from './lib/clip.ts';
import { startWorker } from './lib/ipc.ts';
import { freeUdpPortPair } from './lib/ports.ts';
import { ProcessGroup } from './lib/procs.ts';
import { startCeiling, startGstRelay, startMediagate } from './lib/servers.ts';

function threads(pid: number) {
  const out: Record<string, [number, number]> = {};
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
    const name = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const k = `${name}/${t === String(pid) ? "main" : t}`;
    const prev = out[k] ?? [0, 0];
    out[k] = [prev[0] + Number(f[11]), prev[1] + Number(f[12])];
  }
  return out;
}
const group = new ProcessGroup();
const clipPath = makeClip();
const clip = loadClip(clipPath);
const which = process.argv[2] ?? 'mediagate';
const n = Number(process.argv[3] ?? 200);
try {
  let url: string; let pid: number; let feed: object;
  if (which === 'mediagate') { const mg = await startMediagate(group, process.env.MG_CONFIG ?? '', process.env.MG_NODE_OPTIONS ? { NODE_OPTIONS: process.env.MG_NODE_OPTIONS } : {}); (globalThis as any).mg = mg; url = `rtsp://127.0.0.1:${mg.rtspPort}/bench`; pid = mg.pid; feed = { rtsp: url }; }
  else if (which === 'ceiling') { const w = startWorker(group, 'ceiling', 'ceiling.ts', []); const { port } = await w.call<{port:number}>('listen'); url = `rtsp://127.0.0.1:${port}/bench`; pid = w.pid; feed = { rtsp: url }; }
  else { const udp = await freeUdpPortPair(); const g = await startGstRelay(group, udp, clip.codec.fmtp!['sprop-parameter-sets']); url = g.url; pid = g.pid; feed = { udp }; }
  const pub = startWorker(group, 'publisher', 'publisher.ts');
  await pub.call('start', { clip: clipPath, ...feed });
  const readers = startWorker(group, 'readers', 'rtsp-readers.ts');
  console.log(await readers.call('add', { url, count: n }, 60000));
  await sleep(2000);
  const gc = async () => (globalThis as any).mg ? (await (await fetch(`http://127.0.0.1:${(globalThis as any).mg.apiPort}/metrics`)).text()).split('\n').filter((l) => l.startsWith('nodejs_gc_duration_seconds_sum') || l.startsWith('nodejs_gc_duration_seconds_count')) : [];
  const g0 = await gc();
  const a = threads(pid);
  await readers.call('reset');
  const { spawn } = await import('node:child_process');
  const st = process.env.STRACE ? spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'inherit', 'inherit'] }) : undefined;
  await sleep(8000);
  if (st) { st.kill('SIGINT'); await new Promise((r) => st.once('exit', r)); }
  await readers.call('freeze');
  const b = threads(pid);
  const g1 = await gc();
  console.log(g0.join('\n')); console.log(g1.join('\n'));
  const r = await readers.call<{ bytes: number }>('collect', { sends: [] });
  let tu = 0, ts = 0;
  for (const k of Object.keys(b)) { const du = b[k][0] - (a[k]?.[0] ?? 0), ds = b[k][1] - (a[k]?.[1] ?? 0); tu += du; ts += ds; if (du + ds > 0) console.log(k.padEnd(20), 'user', du, 'sys', ds); }
  if ((globalThis as any).mg) { const o = (globalThis as any).mg.child.output(); const gcs = o.split('\n').filter((l: string) => /Scavenge|Mark-Compact|Mark-sweep/.test(l)); console.log('gc lines', gcs.length, gcs.slice(-5).join('\n')); }
  console.log(which, 'total user', tu, 'sys', ts, 'ticks; GB', r.bytes / 1e9, 's/GB', (tu + ts) / 100 / (r.bytes / 1e9));
} finally {
  await group.stopAll();
}
