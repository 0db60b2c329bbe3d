/**
 * The WebRTC module: one `WebRtcServer` on `webrtc.listen` (UDP and TCP on the same port, default
 * `:8555`), with `webrtc.candidates` announced besides the host addresses and `webrtc.transport`
 * limiting every session, and the signaling on the API server: `webrtc/offer` on `/api/ws`, WHEP
 * and WHIP on `/api/webrtc`.
 */
import { parseListen } from '../../config/load.ts';
import type { Logger } from '../../log/logger.ts';
import type { GatewayContext, GatewayModule, ModuleFactory } from '../../module.ts';
import { PeerSessions } from './peer/sessions.ts';
import { mountWebRtcHttp } from './signaling/http.ts';
import { mountWebRtcWs } from './signaling/ws.ts';
import { WebRtcServer } from './transport/index.ts';

class WebRtcModule implements GatewayModule {
  readonly name = 'webrtc';
  readonly sessions: PeerSessions | undefined;
  readonly #server: WebRtcServer | undefined;
  readonly #log: Logger;
  readonly #host: string | undefined;

  constructor(ctx: GatewayContext) {
    const log = ctx.logging.module('webrtc');
    this.#log = log;
    const listen = parseListen(ctx.config.webrtc.listen);
    if (!listen) return; // `listen: ""` disables WebRTC
    this.#host = listen.host;
    this.#server = new WebRtcServer({
      host: listen.host,
      udpPort: listen.port,
      announcedAddresses: ctx.config.webrtc.candidates,
      log,
    });
    this.sessions = new PeerSessions({
      registry: ctx.registry,
      factory: this.#server,
      policy: ctx.config.webrtc.transport,
      log,
    });
    mountWebRtcWs(ctx.ws, this.sessions);
    mountWebRtcHttp(ctx.http, this.sessions);
  }

  async start(): Promise<void> {
    if (!this.#server) return;
    const { udpPort } = await this.#server.listen();
    this.#log.info({ address: `${this.#host ?? '0.0.0.0'}:${udpPort}` }, 'WebRTC listening');
  }

  stopAccepting(): void {
    this.sessions?.stopAccepting();
    this.#server?.stopAccepting();
  }

  /** Sessions first (each transport sends its DTLS close alert), then the sockets. */
  async close(): Promise<void> {
    this.sessions?.closeAll();
    await this.#server?.close();
  }
}

export const createWebRtcModule: ModuleFactory = (ctx) => new WebRtcModule(ctx);
