/**
 * Where recordings live and what they are called. Pure.
 *
 *   <path>/<stream dir>/<YYYY-MM-DDTHH-MM-SS.sss>.mp4     a finished segment, named by its start (UTC)
 *   <path>/<stream dir>/.<YYYY-MM-DDTHH-MM-SS.sss>.mp4.part   the segment being written
 *
 * A stream name may hold `/`, `:` or start with `.`; its folder name is the name percent-encoded
 * (`encodeURIComponent`, and a leading `.` as `%2E`), so it is always exactly one path component.
 */
import { join } from 'node:path';

/** A finished segment's file name: the start time, UTC, with `-` instead of `:` (safe everywhere). */
export const SEGMENT_NAME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})\.mp4$/;
/** A segment being written (or left behind by a crash). */
export const PART_NAME = /^\.(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.mp4)\.part$/;

/** `1714564800123` -> `2024-05-01T12-00-00.123.mp4`. */
export function segmentName(startMs: number): string {
  return `${new Date(startMs).toISOString().slice(0, 23).replace(/:/g, '-')}.mp4`;
}

/** The start time (ms since the epoch) a segment name stands for, or undefined for any other name. */
export function parseSegmentName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number);
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  // Date.UTC rolls 2024-02-31 over into March: such a name was not written by us.
  return segmentName(t) === name ? t : undefined;
}

/** `2024-05-01T12-00-00.123.mp4` -> `.2024-05-01T12-00-00.123.mp4.part`. */
export function partName(segment: string): string {
  return `.${segment}.part`;
}

/** The segment a part file becomes, or undefined for any other name. */
export function segmentOfPart(name: string): string | undefined {
  return PART_NAME.exec(name)?.[1];
}

/** The folder name of a stream: one path component, never `.` or `..`. */
export function streamDirName(stream: string): string {
  return encodeURIComponent(stream).replace(/^\./, '%2E');
}

/** The stream a folder name stands for, or undefined when it is not one `streamDirName()` makes. */
export function streamOfDirName(dir: string): string | undefined {
  try {
    const name = decodeURIComponent(dir);
    return streamDirName(name) === dir ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The folder of a stream's recordings under `root`. */
export function streamDir(root: string, stream: string): string {
  return join(root, streamDirName(stream));
}
