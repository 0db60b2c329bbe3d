/**
 * Starting the servers under test: mediagate (the real `bin/mediagate.js` with a generated config),
 * gst-rtsp-server (bench/peers/gst-rtsp-relay.py), Janus (bench/peers/janus.ts) and the Node
 * ceiling. Every one binds 127.0.0.1 only, on free ports, and is a child of the `ProcessGroup`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startWorker, type Worker } from './ipc.ts';
import { freeTcpPort } from './ports.ts';
import type { Child, ProcessGroup } from './procs.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
/** Debian's Python, which has the GObject bindings (python3-gi); a pyenv one on PATH may not. */
export const GST_PYTHON = '/usr/bin/python3';

/** A server under test: the pid whose CPU and memory are measured, and how to stop it. */
export interface Server {
  name: string;
  pid: number;
  stop(): Promise<void>;
}

export interface Mediagate extends Server {
  apiPort: number;
  rtspPort: number;
  webrtcPort: number;
  /** Milliseconds from spawn to the first 200 of `GET /api`. */
  readyMs: number;
  child: Child;
}

/** Polls `url` until it answers 200; returns the ms it took, throws after `timeoutMs`. */
export async function waitHttp(url: string, timeoutMs: number, child?: Child): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (child && child.proc.exitCode !== null) throw new Error(`${child.name} exited:\n${child.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  throw new Error(`${url} not ready in ${timeoutMs} ms${child ? `:\n${child.output().slice(-2000)}` : ''}`);
}

/** Starts the gateway with its defaults, demo off, on free 127.0.0.1 ports; resolves once `/api` answers. */
export async function startMediagate(
  group: ProcessGroup,
  extraConfig = '',
  env: NodeJS.ProcessEnv = {},
): Promise<Mediagate> {
  const dir = group.tempDir('mediagate-bench-');
  const [apiPort, rtspPort, webrtcPort] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
  const config = [
    `api:\n  listen: "127.0.0.1:${apiPort}"`,
    `rtsp:\n  listen: "127.0.0.1:${rtspPort}"\n  rtp_listen: ""`,
    `webrtc:\n  listen: "127.0.0.1:${webrtcPort}"`,
    'demo: false',
    extraConfig,
  ].join('\n');
  writeFileSync(join(dir, 'mediagate.yaml'), `${config}\n`);
  const t0 = performance.now();
  const child = group.spawn(
    'mediagate',
    process.execPath,
    [join(ROOT, 'bin/mediagate.js'), '-c', 'mediagate.yaml'],
    {
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
    },
  );
  try {
    await waitHttp(`http://127.0.0.1:${apiPort}/api`, 30000, child);
  } catch (err) {
    await child.stop();
    group.removeDir(dir);
    throw err;
  }
  const readyMs = performance.now() - t0;
  return {
    name: 'mediagate',
    pid: child.pid,
    apiPort,
    rtspPort,
    webrtcPort,
    readyMs,
    child,
    stop: async () => {
      await child.stop();
      group.removeDir(dir);
    },
  };
}

export interface GstRelay extends Server {
  url: string;
  readyMs: number;
}

/** gst-rtsp-server fed with RTP on `udpPort`; resolves once it prints READY. */
export async function startGstRelay(
  group: ProcessGroup,
  udpPort: number,
  sprop: string,
  mode: 'repay' | 'passthrough' = 'repay',
): Promise<GstRelay> {
  const port = await freeTcpPort();
  const t0 = performance.now();
  const child = group.spawn(
    'gst-rtsp-server',
    GST_PYTHON,
    [join(ROOT, 'bench/peers/gst-rtsp-relay.py'), String(port), String(udpPort), sprop, '--mode', mode],
    {},
  );
  const deadline = performance.now() + 15000;
  while (!child.output().includes('READY')) {
    if (child.proc.exitCode !== null || performance.now() > deadline) {
      await child.stop();
      throw new Error(`gst-rtsp-server did not start:\n${child.output().slice(-2000)}`);
    }
    await sleep(20);
  }
  return {
    name: 'gst-rtsp-server',
    pid: child.pid,
    url: `rtsp://127.0.0.1:${port}/bench`,
    readyMs: performance.now() - t0,
    stop: () => child.stop(),
  };
}

export interface Ceiling extends Server {
  url: string;
  worker: Worker;
}

export async function startCeiling(group: ProcessGroup): Promise<Ceiling> {
  const worker = startWorker(group, 'ceiling', 'ceiling.ts');
  const { port } = await worker.call<{ port: number }>('listen', {}, 20000);
  return {
    name: 'node ceiling',
    pid: worker.pid,
    url: `rtsp://127.0.0.1:${port}/bench`,
    worker,
    stop: () => worker.stop(),
  };
}
