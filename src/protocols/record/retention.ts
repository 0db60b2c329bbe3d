/**
 * Retention: which finished segments to delete, by age and by size, oldest first. `planRetention`
 * is pure; `applyRetention` scans the folder and deletes what the plan says. Segments being
 * written (`.part`) are never touched.
 *
 * Rules, in order:
 * 1. age: a segment that started more than `maxAgeMs` ago goes (the stream's own age, else the
 *    global one);
 * 2. a stream's own `maxBytes`: its oldest segments go until the rest fits;
 * 3. the global `maxBytes` caps the whole folder: the oldest segments of any stream go first.
 */
import { unlink } from 'node:fs/promises';
import { allSegments, type SegmentEntry } from './store.ts';

export interface RetentionRule {
  /** Segments older than this are deleted, ms; undefined: kept whatever their age. */
  maxAgeMs?: number;
  /** Oldest segments are deleted while the total is above this, bytes; undefined: no limit. */
  maxBytes?: number;
}

/** The segments to delete, oldest first. `perStream` gives a stream's own rule (may be empty). */
export function planRetention(
  segments: readonly SegmentEntry[],
  now: number,
  global: RetentionRule,
  perStream: (stream: string) => RetentionRule = () => ({}),
): SegmentEntry[] {
  const sorted = [...segments].sort((a, b) => a.startMs - b.startMs);
  const doomed = new Set<SegmentEntry>();
  for (const s of sorted) {
    const maxAge = perStream(s.stream).maxAgeMs ?? global.maxAgeMs;
    if (maxAge !== undefined && s.startMs < now - maxAge) doomed.add(s);
  }
  const byStream = new Map<string, SegmentEntry[]>();
  for (const s of sorted) {
    if (doomed.has(s)) continue;
    const list = byStream.get(s.stream) ?? [];
    list.push(s);
    byStream.set(s.stream, list);
  }
  for (const [stream, list] of byStream) trim(list, perStream(stream).maxBytes, doomed);
  trim(
    sorted.filter((s) => !doomed.has(s)),
    global.maxBytes,
    doomed,
  );
  return sorted.filter((s) => doomed.has(s));
}

/** Marks the oldest of `list` (sorted) until the rest is at most `maxBytes`. */
function trim(list: SegmentEntry[], maxBytes: number | undefined, doomed: Set<SegmentEntry>): void {
  if (maxBytes === undefined) return;
  let total = 0;
  for (const s of list) total += s.bytes;
  for (const s of list) {
    if (total <= maxBytes) return;
    doomed.add(s);
    total -= s.bytes;
  }
}

/** What one retention run did. */
export interface RetentionResult {
  deleted: SegmentEntry[];
  /** Segments that could not be deleted, with the reason. */
  failed: { segment: SegmentEntry; error: string }[];
}

/** Scans `root` and deletes what `planRetention` says. Never throws. */
export async function applyRetention(
  root: string,
  now: number,
  global: RetentionRule,
  perStream?: (stream: string) => RetentionRule,
): Promise<RetentionResult> {
  const result: RetentionResult = { deleted: [], failed: [] };
  for (const segment of planRetention(await allSegments(root), now, global, perStream)) {
    try {
      await unlink(segment.path);
      result.deleted.push(segment);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // deleted in the meantime
      result.failed.push({ segment, error: (err as Error).message });
    }
  }
  return result;
}
