/**
 * Gateway: the running server. It owns the stream registry and every listener, starts them in
 * order and closes them top-down: stop accepting, close consumers, then sources, then sockets.
 */

import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { HttpServer } from './api/http.ts';
import { mountApiInfo } from './api/info.ts';
import { mountStatic } from './api/static.ts';
import { mountStreamsApi } from './api/streams.ts';
import { WsHub } from './api/ws.ts';
import type { AuthService } from './auth/index.ts';
import { logSecurityWarnings, setupAuth, streamsGuard } from './auth/setup.ts';
import { TlsEndpoint } from './auth/tls.ts';
import { ConfigError, parseListen } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { ConfigWriter } from './config/writeback.ts';
import { errorMessage } from './core/errors.ts';
import { StreamRegistry } from './core/registry.ts';
import { SchemeTable } from './core/schemes.ts';
import type { Logging } from './log/logger.ts';
import type { GatewayContext, GatewayModule } from './module.ts';
import { MODULES } from './modules.ts';
import { registerSourceSchemes } from './protocols/index.ts';
import { PACKAGE_ROOT } from './version.ts';

export const DEMO_STREAM = 'demo';
export const DEMO_FILE = join(PACKAGE_ROOT, 'assets', 'demo.mp4');

export class Gateway {
  readonly schemes = new SchemeTable();
  readonly registry: StreamRegistry;
  readonly http: HttpServer;
  readonly ws: WsHub;
  /** Users and permissions; undefined without an `auth:` section (everything open). */
  readonly auth: AuthService | undefined;
  apiAddress: AddressInfo | undefined;
  #tls: TlsEndpoint | undefined;
  readonly modules: GatewayModule[];
  #writer: ConfigWriter | undefined;
  #closing: Promise<void> | undefined;

  constructor(
    readonly config: Config,
    readonly logging: Logging,
  ) {
    registerSourceSchemes(this.schemes);
    this.registry = new StreamRegistry(this.schemes, { idleTimeoutMs: config.source.idleTimeoutMs });
    this.http = new HttpServer({
      maxBodyBytes: config.api.maxBodyBytes,
      origin: config.api.origin,
      log: logging.module('api'),
    });
    this.auth = setupAuth(this.http, config, logging.module('auth'));
    mountApiInfo(this.http, this);
    mountStreamsApi(this.http, this.registry, streamsGuard(config, this.auth));
    this.ws = new WsHub(this.http, logging.module('ws'));
    const ctx: GatewayContext = {
      config,
      logging,
      registry: this.registry,
      schemes: this.schemes,
      http: this.http,
      ws: this.ws,
      auth: this.auth,
    };
    this.modules = MODULES.map((create) => create(ctx));
    mountStatic(this.http, join(PACKAGE_ROOT, 'web'));
  }

  /** Creates the configured streams and starts the listeners. Throws ConfigError for bad streams. */
  async start(): Promise<void> {
    const log = this.logging.root;
    logSecurityWarnings(this.config, this.auth, this.logging.module('auth'));
    for (const section of this.config.ignoredSections)
      log.warn({ section }, 'config section not supported, ignored');
    for (const [name, urls] of Object.entries(this.config.streams)) {
      try {
        await this.registry.create(name, urls, 'config');
      } catch (err) {
        throw new ConfigError(
          `${this.config.files.at(-1) ?? 'config'}: streams.${name}: ${errorMessage(err)}`,
        );
      }
    }
    if (this.config.demo && !this.registry.get(DEMO_STREAM)) {
      await this.registry.create(DEMO_STREAM, [`file:${DEMO_FILE}`], 'config');
    }
    const file = this.config.files.at(-1);
    if (file) {
      const writer = new ConfigWriter(file, this.logging.module('config'));
      this.#writer = writer;
      this.registry.on('change', (name, urls, origin) => {
        if (origin === 'api') void writer.update(name, urls);
      });
    }
    for (const module of this.modules) await module.start();
    const api = parseListen(this.config.api.listen);
    if (api) {
      this.apiAddress = await this.http.listen(api.port, api.host);
      log.info({ address: `${this.apiAddress.address}:${this.apiAddress.port}` }, 'API listening');
    }
    this.#tls = await TlsEndpoint.start(this.http, this.config.api, log);
    log.info({ streams: this.registry.names().length }, 'ready');
  }

  /** Re-reads the TLS certificate and key (SIGHUP); false when they do not load or TLS is off. */
  async reloadTls(): Promise<boolean> {
    for (const module of this.modules) await module.reloadTls?.();
    return (await this.#tls?.reload()) ?? false;
  }

  /** Idempotent: resolves when everything is closed. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const errors: unknown[] = [];
    const step = async (what: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
        this.logging.root.error({ err }, `shutdown: ${what} failed`);
      }
    };
    for (const module of this.modules)
      await step(`${module.name} stop accepting`, () => module.stopAccepting?.());
    // Consumers and sources first, so that nothing writes through a socket that is already gone.
    await step('streams', () => this.registry.close());
    for (const module of [...this.modules].reverse()) await step(module.name, () => module.close());
    await step('websockets', () => this.ws.close());
    await step('api', () => this.http.close());
    await step('auth', () => this.auth?.close());
    await step('config', () => this.#writer?.flush());
    if (errors.length > 0) throw new AggregateError(errors, 'shutdown finished with errors');
  }
}
