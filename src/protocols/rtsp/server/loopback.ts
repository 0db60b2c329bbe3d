/**
 * RtspLoopback: the gateway's way back into its own RTSP server, for the child processes it starts
 * (ffmpeg transcoders, `ffmpeg:` and `exec:` sources). It gives the URL a child reads a stream
 * from, and routes a child's publish on a private path straight to the source connection that
 * waits for it, without creating a visible stream.
 *
 * One per gateway, found through its stream registry (`rtspLoopback(registry)`): the RTSP module
 * sets the address once it listens, the modules that start children read it.
 */
import { randomBytes } from 'node:crypto';
import type { StreamRegistry } from '../../../core/registry.ts';
import type { FrameSink } from '../../../core/source.ts';
import type { RtspPublisher } from './publisher.ts';

/** Private publish paths start with this; a publish there never creates a stream. */
export const INTERNAL_PATH_PREFIX = '_mediagate/';

/** Takes a publisher that RECORDs on an expected path; returns where its frames go. */
export type InternalPublishHandler = (publisher: RtspPublisher) => FrameSink;

export interface LoopbackAddress {
  /** A host children can reach: the listen host, or 127.0.0.1 when the server listens on every interface. */
  host: string;
  port: number;
  username?: string;
  password?: string;
}

export class RtspLoopback {
  /** undefined until the RTSP server listens (and when `rtsp.listen` is ""). */
  address: LoopbackAddress | undefined;
  readonly #expected = new Map<string, InternalPublishHandler>();

  /**
   * `rtsp://[user:pass@]HOST:PORT/PATH[?query]` for a stream name or a private path; undefined
   * when the RTSP server is not listening.
   */
  url(path: string, query = ''): string | undefined {
    const a = this.address;
    if (!a) return undefined;
    const auth = a.username
      ? `${encodeURIComponent(a.username)}:${encodeURIComponent(a.password ?? '')}@`
      : '';
    const host = a.host.includes(':') ? `[${a.host}]` : a.host;
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    return `rtsp://${auth}${host}:${a.port}/${encoded}${query ? `?${query}` : ''}`;
  }

  /**
   * A new private path whose next RECORD goes to `handler` (once). Returns the path and a function
   * that removes the route (call it when the wait ends, whatever the outcome).
   */
  expectPublish(handler: InternalPublishHandler): { path: string; cancel: () => void } {
    const path = `${INTERNAL_PATH_PREFIX}${randomBytes(16).toString('hex')}`;
    this.#expected.set(path, handler);
    return { path, cancel: () => this.#expected.delete(path) };
  }

  /** For the server at RECORD: the handler of a private path, removed from the table. */
  takePublish(path: string): InternalPublishHandler | undefined {
    const handler = this.#expected.get(path);
    this.#expected.delete(path);
    return handler;
  }

  /** Routes waiting, for tests and the debug report. */
  get pending(): number {
    return this.#expected.size;
  }
}

const byRegistry = new WeakMap<StreamRegistry, RtspLoopback>();

/** The loopback of the gateway that owns `registry`, created on first use. */
export function rtspLoopback(registry: StreamRegistry): RtspLoopback {
  let loopback = byRegistry.get(registry);
  if (!loopback) {
    loopback = new RtspLoopback();
    byRegistry.set(registry, loopback);
  }
  return loopback;
}

/** The host a child should connect to for a server listening on `listenHost`. */
export function loopbackHost(listenHost: string | undefined): string {
  // Every interface (IPv4, or dual-stack `::`): loopback is one of them.
  if (!listenHost || listenHost === '0.0.0.0' || listenHost === '::') return '127.0.0.1';
  return listenHost;
}
