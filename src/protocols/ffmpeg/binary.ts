/**
 * Whether the configured ffmpeg can run, checked once, lazily (the first time a feature needs it):
 * the gateway without ffmpeg still serves everything else and says why a feature is unavailable.
 */
import { execFile } from 'node:child_process';
import { UnsupportedError } from '../../core/errors.ts';
import { trackChild } from '../../diag/children.ts';

/** What needs ffmpeg, for the error message. */
export const FFMPEG_FEATURES = 'ffmpeg: sources, transcoding and snapshots';
const CHECK_TIMEOUT_MS = 5000;

export class FfmpegBinary {
  #check: Promise<void> | undefined;

  /** @param bin the `ffmpeg.bin` setting: a path or a name looked up in PATH */
  constructor(readonly bin: string) {}

  /**
   * Resolves when `bin -version` ran; rejects with UnsupportedError ("ffmpeg not found
   * (ffmpeg.bin=...): needed for ...") otherwise. The result is kept: one check per gateway.
   */
  check(): Promise<void> {
    this.#check ??= new Promise<void>((resolve, reject) => {
      const proc = execFile(this.bin, ['-hide_banner', '-version'], { timeout: CHECK_TIMEOUT_MS }, (err) => {
        if (!err) resolve();
        else {
          const why =
            (err as NodeJS.ErrnoException).code === 'ENOENT'
              ? 'not found'
              : `not usable (${err.message.split('\n')[0]})`;
          reject(
            new UnsupportedError(`ffmpeg ${why} (ffmpeg.bin=${this.bin}): needed for ${FFMPEG_FEATURES}`),
          );
        }
      });
      trackChild(proc, 'ffmpeg:version');
    });
    return this.#check;
  }
}

const binaries = new Map<string, FfmpegBinary>();

/** The checker of `bin`, shared by every module of the process (one check per program). */
export function ffmpegBinary(bin: string): FfmpegBinary {
  let b = binaries.get(bin);
  if (!b) {
    b = new FfmpegBinary(bin);
    binaries.set(bin, b);
  }
  return b;
}
