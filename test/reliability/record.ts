/**
 * Figures of the reliability suite: tests call `recordIfAsked()` with what they ran and measured;
 * only with `MEDIAGATE_RECORD=1` are they merged into docs/reliability.json (one section per test
 * file) and docs/reliability.md re-rendered, so an ordinary `npm test` leaves the tree clean.
 * Test files run in parallel processes, so the read-merge-write runs under a lock file.
 */
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { renderReport } from '../fuzz/report.ts';

export const RECORDING = process.env.MEDIAGATE_RECORD === '1';

const DOCS = new URL('../../docs/', import.meta.url);
export const JSON_FILE = new URL('reliability.json', DOCS);
export const MD_FILE = new URL('reliability.md', DOCS);
const LOCK = new URL('reliability.json.lock', DOCS);
const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withLock<T>(fn: () => T): T {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(LOCK, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) unlinkSync(LOCK);
      } catch {
        // gone in between
      }
      if (Date.now() > deadline) throw new Error(`${LOCK.pathname} held for ${LOCK_WAIT_MS} ms`);
      sleepSync(20);
    }
  }
  try {
    return fn();
  } finally {
    unlinkSync(LOCK);
  }
}

/** The recorded figures, `{}` when none. */
export function readFigures(): Record<string, unknown> {
  return existsSync(JSON_FILE)
    ? (JSON.parse(readFileSync(JSON_FILE, 'utf8')) as Record<string, unknown>)
    : {};
}

/** Sets `section` of docs/reliability.json to `data` and re-renders docs/reliability.md. */
export function record(section: string, data: unknown): void {
  withLock(() => {
    const all = readFigures();
    all[section] = data;
    const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
    const tmp = new URL(`reliability.json.${process.pid}`, DOCS);
    writeFileSync(tmp, `${JSON.stringify(sorted, null, 2)}\n`);
    renameSync(tmp, JSON_FILE);
    writeFileSync(MD_FILE, renderReport(sorted));
  });
}

/** `record()` when MEDIAGATE_RECORD=1, else nothing. */
export function recordIfAsked(section: string, data: unknown): void {
  if (RECORDING) record(section, data);
}
