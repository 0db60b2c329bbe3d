/**
 * The RTSP server module (:8554): readers (DESCRIBE/SETUP/PLAY over TCP or UDP) and publishers
 * (ANNOUNCE/SETUP/RECORD) of every stream, wired to the gateway's config and registry.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, parseListen } from '../../../config/load.ts';
import type { Config } from '../../../config/schema.ts';
import { errorMessage } from '../../../core/errors.ts';
import type { GatewayContext, GatewayModule, ModuleFactory } from '../../../module.ts';
import { loopbackHost, rtspLoopback } from './loopback.ts';
import { RtspServer } from './server.ts';
import type { RtspServerOptions } from './types.ts';

export type { RtspAccessControl, RtspAccessRequest, RtspAccessResult } from './access.ts';
export {
  INTERNAL_PATH_PREFIX,
  type InternalPublishHandler,
  type LoopbackAddress,
  RtspLoopback,
  rtspLoopback,
} from './loopback.ts';
export { RtspServer } from './server.ts';
export type { ConnectionCounters, RtspServerOptions, ServerCounters } from './types.ts';

const DEFAULT_RTP_PORT = 8000;

/**
 * Server options from the `rtsp:` config section; undefined when `listen` is "". UDP binds
 * `rtp_listen`/`rtcp_listen`, by default ports 8000/8001 on the `listen` host, or OS-chosen ports
 * when `listen` asks for an OS-chosen port (tests); `rtp_listen: ""` turns UDP off.
 */
export function rtspServerOptions(config: Config['rtsp']): RtspServerOptions | undefined {
  const tcp = parseListen(config.listen);
  if (!tcp) return undefined;
  const ephemeral = tcp.port === 0;
  const rtp =
    config.rtpListen === undefined
      ? { host: tcp.host, port: ephemeral ? 0 : DEFAULT_RTP_PORT }
      : parseListen(config.rtpListen);
  const rtcp =
    config.rtcpListen !== undefined
      ? parseListen(config.rtcpListen)
      : rtp && { host: rtp.host, port: rtp.port === 0 ? 0 : rtp.port + 1 };
  return {
    host: tcp.host,
    port: tcp.port,
    udp: rtp && rtcp ? { host: rtp.host, rtpPort: rtp.port, rtcpPort: rtcp.port } : undefined,
    username: config.username,
    password: config.password,
    defaultQuery: config.defaultQuery,
    maxConnections: config.maxConnections,
    sessionTimeoutMs: config.sessionTimeoutMs,
  };
}

class RtspServerModule implements GatewayModule {
  readonly name = 'rtsp';
  #server: RtspServer | undefined;
  /** RTSPS: a second listener, TLS, TCP interleaved only, same sessions and access rules. */
  #tlsServer: RtspServer | undefined;

  constructor(private readonly ctx: GatewayContext) {}

  async start(): Promise<void> {
    const options = rtspServerOptions(this.ctx.config.rtsp);
    if (!options) return;
    const log = this.ctx.logging.module('rtsp');
    const loopback = rtspLoopback(this.ctx.registry);
    // With auth: users, they decide (and the gateway's own children use its internal user).
    const auth = this.ctx.auth;
    if (auth && options.username) log.warn('rtsp.username/password ignored: the auth: users apply to RTSP');
    const server = new RtspServer(
      { registry: this.ctx.registry, log, loopback },
      auth ? { ...options, access: auth.rtsp } : options,
    );
    this.#server = server;
    const address = await server.listen();
    loopback.address = {
      host: loopbackHost(options.host),
      port: address.port,
      ...(auth ? auth.internal : { username: options.username || undefined, password: options.password }),
    };
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    log.info({ address: `${host}:${address.port}` }, 'RTSP listening');
    const udp = server.udpPorts;
    if (udp) log.info({ rtp: udp[0], rtcp: udp[1] }, 'RTSP UDP transport ready');
    await this.#startTls({ ...options, ...(auth ? { access: auth.rtsp } : {}) }, loopback);
  }

  async #startTls(options: RtspServerOptions, loopback: ReturnType<typeof rtspLoopback>): Promise<void> {
    const listen = this.ctx.config.rtsp.tlsListen ? parseListen(this.ctx.config.rtsp.tlsListen) : undefined;
    if (!listen) return;
    const tls = await readCertificate(this.ctx.config.api);
    const server = new RtspServer(
      { registry: this.ctx.registry, log: this.ctx.logging.module('rtsp'), loopback },
      { ...options, host: listen.host, port: listen.port, udp: undefined, tls },
    );
    this.#tlsServer = server;
    const address = await server.listen();
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.ctx.logging.module('rtsp').info({ address: `${host}:${address.port}` }, 'RTSPS listening');
  }

  async reloadTls(): Promise<void> {
    if (!this.#tlsServer) return;
    try {
      this.#tlsServer.setSecureContext(await readCertificate(this.ctx.config.api));
    } catch (err) {
      this.ctx.logging
        .module('rtsp')
        .error({ err: errorMessage(err) }, 'RTSPS certificate reload failed; keeping the old one');
    }
  }

  stopAccepting(): void {
    this.#server?.stopAccepting();
    this.#tlsServer?.stopAccepting();
  }

  async close(): Promise<void> {
    rtspLoopback(this.ctx.registry).address = undefined;
    await Promise.all([this.#server?.close(), this.#tlsServer?.close()]);
  }
}

/** The API's PEM certificate and key, shared by RTSPS. ConfigError when they are not configured. */
async function readCertificate(api: Config['api']): Promise<{ cert: Buffer; key: Buffer }> {
  if (!api.tlsCert || !api.tlsKey)
    throw new ConfigError('rtsp.tls_listen needs api.tls_cert and api.tls_key (PEM files)');
  const [cert, key] = await Promise.all([readFile(api.tlsCert), readFile(api.tlsKey)]);
  return { cert, key };
}

/** The module factory registered in `src/modules.ts`. */
export const rtspServerModule: ModuleFactory = (ctx) => new RtspServerModule(ctx);
