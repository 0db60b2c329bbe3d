/**
 * ffmpeg and ffprobe for the RTMP and HTTP end-to-end tests: live test sources (lavfi, real time)
 * published or served by ffmpeg, probing a URL, free ports. Every child is killed by `killAll()`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface ProbeResult {
  streams: {
    codec_name: string;
    codec_type: string;
    width?: number;
    height?: number;
    sample_rate?: string;
  }[];
}

/** `codec_name` of each stream, sorted (`h264 320x240`, `aac`). */
export function codecsOf(p: ProbeResult): string[] {
  return p.streams.map((s) => (s.width ? `${s.codec_name} ${s.width}x${s.height}` : s.codec_name)).sort();
}

/** ffprobe of `url` (extra `args` first), within `timeoutMs`. */
export function ffprobe(url: string, args: string[] = [], timeoutMs = 15000): Promise<ProbeResult> {
  const all = [
    ...args,
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name,codec_type,width,height,sample_rate',
    '-of',
    'json',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile('ffprobe', all, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ffprobe ${url} failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout) as ProbeResult);
    });
  });
}

/** A free TCP port on 127.0.0.1 (bound and released: good enough for a test's own servers). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** lavfi test picture (320x240, 25 fps) and a 440 Hz tone, in real time, `seconds` long. */
export function liveInputs(seconds: number, audio = true): string[] {
  const video = ['-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25'];
  const tone = audio ? ['-f', 'lavfi', '-i', 'sine=f=440:sample_rate=44100'] : [];
  return [...video, ...tone, '-t', String(seconds)];
}

/** H.264 for low latency with a keyframe every second, and AAC. */
export const H264_AAC = [
  '-c:v',
  'libx264',
  '-preset',
  'ultrafast',
  '-tune',
  'zerolatency',
  '-g',
  '25',
  '-c:a',
  'aac',
];

const children = new Set<ChildProcess>();

/** Starts ffmpeg; its stderr is kept for failure messages. */
export function startFfmpeg(args: string[]): { proc: ChildProcess; stderr: () => string } {
  const proc = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return { proc, stderr: () => err };
}

/** Kills every ffmpeg started here that still runs, and waits for them to exit. */
export async function killAll(): Promise<void> {
  const running = [...children].filter((p) => p.exitCode === null && p.signalCode === null);
  await Promise.all(
    running.map(
      (p) =>
        new Promise<void>((resolve) => {
          p.once('exit', () => resolve());
          p.kill('SIGKILL');
        }),
    ),
  );
}

/** Polls `probe` every 100 ms until it returns a truthy value or `ms` pass. */
export async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
