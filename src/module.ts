/**
 * The contract between the gateway and a listener module (RTSP server, WebRTC server, metrics...).
 * Each module is created with the gateway context, started after the configured streams exist,
 * and closed in the gateway's shutdown order.
 */

import type { HttpServer } from './api/http.ts';
import type { WsHub } from './api/ws.ts';
import type { AuthService } from './auth/index.ts';
import type { Config } from './config/schema.ts';
import type { StreamRegistry } from './core/registry.ts';
import type { SchemeTable } from './core/schemes.ts';
import type { Logging } from './log/logger.ts';

export interface GatewayContext {
  config: Config;
  logging: Logging;
  registry: StreamRegistry;
  schemes: SchemeTable;
  /** The API/UI HTTP server: modules add routes and WebSocket upgrades to it. */
  http: HttpServer;
  /** `/api/ws`: modules register handlers for their message types (`mse`, `webrtc/offer`...). */
  ws: WsHub;
  /** Users and permissions (`auth:`); undefined when the gateway is open. */
  auth?: AuthService;
}

export interface GatewayModule {
  readonly name: string;
  /** Starts listeners. Log `"<Name> listening"` with `{ address: "host:port" }` once bound (tests read it). */
  start(): Promise<void>;
  /** Stops accepting new connections; sessions in progress continue. Called first at shutdown. */
  stopAccepting?(): void;
  /**
   * Closes whatever the module still owns (sessions, then sockets, then listeners). Called after
   * the streams (and so every consumer and source) are closed. Idempotent.
   */
  close(): Promise<void> | void;
  /** Re-reads certificates (SIGHUP) for TLS listeners the module owns (RTSPS). */
  reloadTls?(): Promise<void>;
}

/** Creates a module; registered in `modules.ts`. */
export type ModuleFactory = (ctx: GatewayContext) => GatewayModule;
