/**
 * One JPEG from one keyframe: the Annex B access unit goes to ffmpeg's stdin, the picture comes
 * back on its stdout (`-f h264 -i - -frames:v 1 -vf scale=... -c:v mjpeg -f image2pipe -`).
 */

import { TimeoutError } from '../../core/errors.ts';
import type { Logger } from '../../log/logger.ts';
import { ChildProcessSupervisor } from '../../process/child.ts';
import { splitArgs } from '../exec/command.ts';

/** A picture size request; a side left out keeps the aspect ratio. */
export interface JpegSize {
  width?: number;
  height?: number;
}

/** JPEG quality for ffmpeg's mjpeg encoder (`-q:v`, 2 best ... 31 worst). */
const JPEG_QUALITY = '4';
/** Upper bound on one encode, ms. */
export const ENCODE_TIMEOUT_MS = 5000;
const MAX_JPEG_BYTES = 32 * 1024 * 1024;

/** `scale=W:H` with -2 (aspect ratio kept, even) for a side not given; undefined for none. */
export function scaleFilter(size: JpegSize): string | undefined {
  if (size.width === undefined && size.height === undefined) return undefined;
  return `scale=${size.width ?? -2}:${size.height ?? -2}`;
}

/** The ffmpeg arguments (program first) that turn one raw access unit on stdin into a JPEG on stdout. */
export function jpegArgs(bin: string, global: string, format: 'h264' | 'hevc', size: JpegSize): string[] {
  const scale = scaleFilter(size);
  return [
    bin,
    ...splitArgs(global),
    '-f',
    format,
    '-i',
    '-',
    '-frames:v',
    '1',
    ...(scale ? ['-vf', scale] : []),
    '-c:v',
    'mjpeg',
    '-q:v',
    JPEG_QUALITY,
    '-f',
    'image2pipe',
    '-',
  ];
}

/** Runs ffmpeg once; resolves with the JPEG, rejects with its stderr when it fails or takes too long. */
export function encodeJpeg(argv: string[], input: Buffer, owner: string, log: Logger): Promise<Buffer> {
  const child = new ChildProcessSupervisor({
    command: argv[0],
    args: argv.slice(1),
    owner,
    stdin: 'pipe',
    stdout: 'pipe',
    log,
  });
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      void child.stop();
      reject(new TimeoutError(`snapshot: ffmpeg took longer than ${ENCODE_TIMEOUT_MS / 1000} s`));
    }, ENCODE_TIMEOUT_MS);
    child.proc.stdout?.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_JPEG_BYTES) {
        void child.stop();
        return;
      }
      chunks.push(chunk);
    });
    void child.exited.then((exit) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(chunks);
      if (exit.code === 0 && jpeg.length > 0 && size <= MAX_JPEG_BYTES) resolve(jpeg);
      else reject(new Error(child.describeExit('snapshot: ffmpeg')));
    });
    child.proc.stdin?.end(input);
  });
}
