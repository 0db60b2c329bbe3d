/**
 * Handle-leak checks for tests: take a snapshot of the process's active resources before a test and
 * assert after it that every socket, timer and child process it opened is gone again.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export type ResourceCounts = Record<string, number>;

/** Counts of `process.getActiveResourcesInfo()` by type (TCPWrap, UDPWrap, Timeout, ProcessWrap...). */
export function activeResources(): ResourceCounts {
  const counts: ResourceCounts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

// Resources the test runner itself holds or that come and go on their own.
const IGNORED = new Set([
  'TTYWrap',
  'PipeWrap',
  'FSReqCallback',
  'FSReqPromise',
  'GetAddrInfoReqWrap',
  'Immediate',
]);

/**
 * Waits up to `timeoutMs` for the active resources to return to `before` (closing handles is
 * asynchronous) and fails with the difference if they do not.
 */
export async function assertNoLeaks(before: ResourceCounts, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let diff: string[] = [];
  for (;;) {
    const now = activeResources();
    diff = [];
    for (const [type, n] of Object.entries(now)) {
      if (IGNORED.has(type)) continue;
      const was = before[type] ?? 0;
      if (n > was) diff.push(`${type}: ${was} -> ${n}`);
    }
    if (diff.length === 0 || Date.now() > deadline) break;
    await sleep(20);
  }
  assert.deepEqual(diff, [], `leaked handles: ${diff.join(', ')}`);
}
