/**
 * The common first step of parsing a network source URL (`rtsp://`, `rtmp://`, ...): a valid URL
 * of one of the expected schemes with a host, and the port defaulted per scheme. Errors name the
 * URL with its secrets masked.
 */
import { BadRequestError } from '../core/errors.ts';
import { maskSecrets } from '../core/mask.ts';

export interface ParsedSourceUrl {
  url: URL;
  /** Lower case, without the colon. */
  scheme: string;
  /** Without IPv6 brackets. */
  host: string;
  port: number;
  /** The URL with secrets masked, for messages. */
  display: string;
}

/** @param defaultPorts the accepted schemes and their default ports, e.g. `{ rtsp: 554, rtsps: 322 }` */
export function parseSourceUrl(raw: string, defaultPorts: Readonly<Record<string, number>>): ParsedSourceUrl {
  const display = maskSecrets(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BadRequestError(`source "${display}" is not a valid URL`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const schemes = Object.keys(defaultPorts);
  if (!schemes.includes(scheme)) {
    throw new BadRequestError(
      `source "${display}" is not an ${schemes.map((s) => `${s}://`).join(' or ')} URL`,
    );
  }
  if (!url.hostname) throw new BadRequestError(`source "${display}" has no host`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : defaultPorts[scheme];
  return { url, scheme, host, port, display };
}
