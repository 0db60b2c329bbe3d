/**
 * Test-only faults, to prove that the watchdog catches what it claims to. Off unless the
 * environment variable `MEDIAGATE_TEST_FAULT` names one:
 * - `block-loop`: blocks the event loop for 500 ms (a busy loop), once, 3 s after start.
 */
import type { Logger } from '../log/logger.ts';

export const FAULT_ENV = 'MEDIAGATE_TEST_FAULT';
/** Delay before the fault, ms. */
export const FAULT_DELAY_MS = 3000;
/** How long `block-loop` blocks, ms. */
export const BLOCK_MS = 500;

/** Schedules the fault named in `env`, if any; returns the function that cancels it. */
export function scheduleTestFault(env: NodeJS.ProcessEnv, log: Logger): () => void {
  const fault = env[FAULT_ENV];
  if (!fault) return () => undefined;
  if (fault !== 'block-loop') {
    log.warn({ fault }, `unknown ${FAULT_ENV}, ignored`);
    return () => undefined;
  }
  log.warn({ fault, inMs: FAULT_DELAY_MS }, 'test fault armed: the event loop will be blocked');
  const timer = setTimeout(() => {
    log.warn({ fault, ms: BLOCK_MS }, 'test fault: blocking the event loop');
    const until = performance.now() + BLOCK_MS;
    while (performance.now() < until) {
      // busy on purpose
    }
  }, FAULT_DELAY_MS);
  timer.unref();
  return () => clearTimeout(timer);
}
