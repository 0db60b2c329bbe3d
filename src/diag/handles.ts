/**
 * What keeps the process busy: active resources by type, and for the handles Node exposes the
 * details that tell whose they are: sockets with their addresses and listener, servers with
 * theirs, child processes with their pid and owner (from the children registry). Modules can name
 * the owner of a server or socket with `labelHandle()`; accepted sockets inherit their server's.
 */
import { ChildProcess } from 'node:child_process';
import { Socket as UdpSocket } from 'node:dgram';
import { Server, Socket } from 'node:net';
import { liveChildren } from './children.ts';

export interface SocketHandle {
  kind: 'tcp' | 'udp' | 'pipe' | 'tty' | 'other';
  local?: string;
  remote?: string;
  /** The listener that accepted it, for server-side sockets. */
  listener?: string;
  owner?: string;
}

export interface HandlesReport {
  /** `process.getActiveResourcesInfo()` counted by type (TCPSocketWrap, Timeout, ProcessWrap...). */
  counts: Record<string, number>;
  total: number;
  /** Active timers (`Timeout` resources); they carry no owner, so only their number. */
  timers: number;
  servers: { kind: 'tcp' | 'pipe'; address: string; owner?: string }[];
  sockets: SocketHandle[];
  children: { pid: number | undefined; owner: string; command: string; startedAt: string }[];
}

const owners = new WeakMap<object, string>();

/** Names the owner of a server or socket (`rtsp`, `api`, `rtsp-client:door`) for the report. */
export function labelHandle(handle: object, owner: string): void {
  owners.set(handle, owner);
}

/** Counts of `process.getActiveResourcesInfo()` by type. */
export function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** A report of the active resources with what is known of their owners. */
export function describeHandles(): HandlesReport {
  const counts = resourceCounts();
  const report: HandlesReport = {
    counts,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    timers: counts.Timeout ?? 0,
    servers: [],
    sockets: [],
    children: liveChildren(),
  };
  // Undocumented but stable since Node 0.x; the only way to reach the handle objects.
  const getHandles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  for (const h of getHandles?.call(process) ?? []) {
    if (h instanceof Server) {
      const a = h.address();
      report.servers.push({
        kind: typeof a === 'string' ? 'pipe' : 'tcp',
        address: formatAddress(a),
        owner: owners.get(h),
      });
    } else if (h instanceof Socket) {
      report.sockets.push(describeSocket(h));
    } else if (h instanceof UdpSocket) {
      let local: string | undefined;
      try {
        local = formatAddress(h.address());
      } catch {
        local = undefined; // not bound yet
      }
      report.sockets.push({ kind: 'udp', local, owner: owners.get(h) });
    } else if (h instanceof ChildProcess && !report.children.some((c) => c.pid === h.pid)) {
      report.children.push({ pid: h.pid, owner: 'untracked', command: h.spawnargs.join(' '), startedAt: '' });
    }
  }
  return report;
}

function describeSocket(s: Socket): SocketHandle {
  const wrap = (s as unknown as { _handle?: { constructor?: { name?: string } } })._handle?.constructor?.name;
  const kind = wrap === 'TCP' ? 'tcp' : wrap === 'Pipe' ? 'pipe' : wrap === 'TTY' ? 'tty' : 'other';
  const server = (s as unknown as { _server?: Server | null })._server ?? undefined;
  const out: SocketHandle = { kind, owner: owners.get(s) ?? (server && owners.get(server)) };
  if (kind === 'tcp') {
    out.local = hostPort(s.localAddress, s.localPort);
    out.remote = hostPort(s.remoteAddress, s.remotePort);
  }
  if (server) out.listener = formatAddress(server.address());
  return out;
}

function hostPort(host: string | undefined, port: number | undefined): string | undefined {
  if (!host) return undefined;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function formatAddress(a: ReturnType<Server['address']>): string {
  if (!a) return '';
  if (typeof a === 'string') return a;
  return hostPort(a.address, a.port) ?? '';
}
