/**
 * Per-protocol session counters. Protocol modules call `sessionOpened('rtsp')` when a session
 * (a connection that reads or publishes) begins and `sessionClosed('rtsp')` once when it ends;
 * /metrics exposes the open gauge and the total counter. No per-packet work.
 */

export interface SessionCounts {
  open: number;
  total: number;
}

const counts = new Map<string, SessionCounts>();

/** Counts a new session of `protocol` (`rtsp`, `webrtc`, `mse`, ...). */
export function sessionOpened(protocol: string): void {
  const c = counts.get(protocol) ?? { open: 0, total: 0 };
  c.open++;
  c.total++;
  counts.set(protocol, c);
}

/** Counts the end of a session; call exactly once per `sessionOpened()`. Never goes below 0. */
export function sessionClosed(protocol: string): void {
  const c = counts.get(protocol);
  if (c && c.open > 0) c.open--;
}

/** A copy of the counters by protocol. */
export function sessionCounts(): Record<string, SessionCounts> {
  const out: Record<string, SessionCounts> = {};
  for (const [protocol, c] of counts) out[protocol] = { ...c };
  return out;
}
