/**
 * Checks of source URLs that come through the API (config-defined sources are trusted):
 *
 * - no loops: a URL that points at one of the gateway's own TCP ports on this machine
 *   (127.0.0.0/8, ::1, localhost, this host's name, 0.0.0.0 or any local interface address) is
 *   refused, also when nested (`ffmpeg:rtsp://127.0.0.1:8554/x`). Host names that merely resolve
 *   to a local address are not looked up.
 * - no path traversal: a `file:` source must lie inside `api.file_root` (symlinks resolved);
 *   without a root it is refused when `requireFileRoot` is set (the default once `auth:` is on).
 */
import { realpath } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { resolve, sep } from 'node:path';
import { BadRequestError } from '../core/errors.ts';
import { describeHandles } from '../diag/handles.ts';

export interface SourceGuardOptions {
  /** Absolute folder API-created `file:` sources must be in. */
  fileRoot?: string;
  /** Refuse `file:` sources from the API when there is no `fileRoot`. */
  requireFileRoot: boolean;
  /** TCP ports this gateway listens on; default: every listening TCP server of the process. */
  localPorts?: () => Set<number>;
}

const DEFAULT_PORTS: Record<string, number> = {
  rtsp: 554,
  rtsps: 322,
  rtspx: 554,
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
  rtmp: 1935,
  rtmps: 443,
};

/** `scheme://[userinfo@]host[:port]` anywhere in a string. */
const AUTHORITY = /([a-z][a-z0-9+.-]*):\/\/(?:[^@/\s?#]*@)?(\[[0-9a-f:.]+\]|[^:/\s?#@[\]]+)(?::(\d{1,5}))?/gi;

/** Ports of every TCP server listening in this process. */
export function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const s of describeHandles().servers) {
    const m = /:(\d+)$/.exec(s.address);
    if (s.kind === 'tcp' && m) ports.add(Number(m[1]));
  }
  return ports;
}

/** True when `host` (a URL's host, IPv6 in brackets or not) is this machine. */
export function isLocalHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === hostname().toLowerCase()) return true;
  if (h === '0.0.0.0' || h === '::' || h === '::1' || /^(::ffff:)?127\./.test(h) || /^0+$/.test(h))
    return true;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.address.toLowerCase() === h) return true;
  }
  return false;
}

/** Throws BadRequestError when `url`, given through the API, loops back or escapes the file root. */
export async function checkApiSource(url: string, opts: SourceGuardOptions): Promise<void> {
  const ports = (opts.localPorts ?? listeningPorts)();
  for (const m of url.matchAll(AUTHORITY)) {
    const scheme = m[1].toLowerCase();
    const port = m[3] !== undefined ? Number(m[3]) : DEFAULT_PORTS[scheme];
    if (port !== undefined && ports.has(port) && isLocalHost(m[2])) {
      throw new BadRequestError(
        `source points at this gateway (${m[2]}:${port}); a stream cannot read itself through the API`,
      );
    }
  }
  if (/^file:/i.test(url)) await checkFile(url, opts);
}

async function checkFile(url: string, opts: SourceGuardOptions): Promise<void> {
  if (!opts.fileRoot) {
    if (opts.requireFileRoot)
      throw new BadRequestError('file: sources may only be added through the API when api.file_root is set');
    return;
  }
  // The same path the file source will open (see src/protocols/file/source.ts).
  const path = resolve(
    url
      .slice('file:'.length)
      .split('#')[0]
      .replace(/^\/\/(?=\/)/, ''),
  );
  const root = resolve(opts.fileRoot);
  const inside = (p: string, r: string) => p === r || p.startsWith(r.endsWith(sep) ? r : r + sep);
  const refuse = () => new BadRequestError('file: source outside api.file_root');
  if (!inside(path, root)) throw refuse();
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return; // not there (yet): its path is inside, and the source fails until it exists
  }
  // A symlink inside the root may point anywhere: the real path must be inside the real root.
  const realRoot = await realpath(root).catch(() => root);
  if (!inside(real, realRoot)) throw refuse();
}
