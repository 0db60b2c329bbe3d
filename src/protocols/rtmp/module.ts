/**
 * The RTMP server module (`rtmp.listen`, off by default; `:1935` is the usual port): publishers
 * push into `rtmp://HOST/live/NAME` (or `rtmp://HOST/NAME`) and players read the same URL.
 */
import { parseListen } from '../../config/load.ts';
import type { GatewayContext, GatewayModule, ModuleFactory } from '../../module.ts';
import { rtmpAccess } from './server/access.ts';
import { RtmpServer } from './server/server.ts';

class RtmpServerModule implements GatewayModule {
  readonly name = 'rtmp';
  #server: RtmpServer | undefined;

  constructor(private readonly ctx: GatewayContext) {}

  async start(): Promise<void> {
    const listen = parseListen(this.ctx.config.rtmp.listen);
    if (!listen) return;
    const log = this.ctx.logging.module('rtmp');
    const server = new RtmpServer(
      { registry: this.ctx.registry, log, access: rtmpAccess(this.ctx.auth) },
      { host: listen.host, port: listen.port, maxConnections: this.ctx.config.rtmp.maxConnections },
    );
    this.#server = server;
    const address = await server.listen();
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    log.info({ address: `${host}:${address.port}` }, 'RTMP listening');
  }

  stopAccepting(): void {
    this.#server?.stopAccepting();
  }

  close(): Promise<void> | undefined {
    return this.#server?.close();
  }
}

/** The module factory registered in `src/modules.ts`. */
export const rtmpServerModule: ModuleFactory = (ctx) => new RtmpServerModule(ctx);
