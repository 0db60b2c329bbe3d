/**
 * Helpers of the ffmpeg, exec, transcoding and snapshot tests (unit and end-to-end): what a
 * gateway process has running as children, ffprobe, and polling.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayProcess } from '../../helpers/gateway-process.ts';

/**
 * The live children of process `pid` (all its threads), with their command name; without tsx's
 * esbuild service, which the gateway run from sources has while it compiles.
 */
export function childrenOf(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    let list = '';
    try {
      list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const p of list.split(' ').filter(Boolean)) {
      let comm = '?';
      try {
        comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      } catch {}
      if (comm !== 'esbuild') out.push({ pid: Number(p), comm });
    }
  }
  return out;
}

/** The gateway's children as /api/debug/handles lists them. */
export async function trackedChildren(gw: GatewayProcess): Promise<{ pid: number; owner: string }[]> {
  const res = await gw.api('/api/debug/handles');
  return ((await res.json()) as { children: { pid: number; owner: string }[] }).children;
}

/** Polls `probe` every 100 ms until it returns a truthy value; throws after `ms`. */
export async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

export interface ProbeStream {
  codec_name: string;
  codec_type: string;
  width?: number;
  height?: number;
}

/** ffprobe of a URL or `-` (with `input`); rejects with its stderr. */
export function ffprobe(target: string, input?: Buffer, timeoutMs = 20000): Promise<ProbeStream[]> {
  const args = ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type,width,height', '-of', 'json'];
  if (target.startsWith('rtsp')) args.push('-rtsp_transport', 'tcp');
  return new Promise((resolve, reject) => {
    const proc = execFile('ffprobe', [...args, target], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ffprobe ${target}: ${stderr || err.message}`));
      else resolve((JSON.parse(stdout) as { streams: ProbeStream[] }).streams);
    });
    if (input) proc.stdin?.end(input);
  });
}

/** `h264 320x240`, `opus`: a probe in a comparable form. */
export function summary(streams: ProbeStream[]): string[] {
  return streams.map((s) => (s.width ? `${s.codec_name} ${s.width}x${s.height}` : s.codec_name)).sort();
}
