/**
 * HTTPS/WSS for the API and UI (`api.tls_listen`, `api.tls_cert`, `api.tls_key`): the same
 * routes as the plain listener, on a second server of the same HttpServer. `reload()` (on
 * SIGHUP) re-reads both files and swaps the certificate for new connections; a pair that does
 * not load leaves the old one in place.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { HttpServer } from '../api/http.ts';
import { ConfigError, parseListen } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../log/logger.ts';

export class TlsEndpoint {
  #address: AddressInfo | undefined;

  private constructor(
    private readonly http: HttpServer,
    private readonly cert: string,
    private readonly key: string,
    private readonly log: Logger,
  ) {}

  get address(): AddressInfo | undefined {
    return this.#address;
  }

  /**
   * Starts HTTPS when `api.tls_listen` is set; logs "HTTPS listening". Throws ConfigError when the
   * certificate or key is missing or does not load.
   */
  static async start(http: HttpServer, api: Config['api'], log: Logger): Promise<TlsEndpoint | undefined> {
    const listen = api.tlsListen ? parseListen(api.tlsListen) : undefined;
    if (!listen) return undefined;
    if (!api.tlsCert || !api.tlsKey)
      throw new ConfigError('api.tls_listen needs api.tls_cert and api.tls_key (PEM files)');
    const endpoint = new TlsEndpoint(http, api.tlsCert, api.tlsKey, log);
    let options: SecureContextOptions;
    try {
      options = await endpoint.#load();
    } catch (err) {
      throw new ConfigError(`api.tls_cert/api.tls_key: ${errorMessage(err)}`);
    }
    const server = http.attachTls(options);
    endpoint.#address = await http.listen(listen.port, listen.host, server);
    const a = endpoint.#address;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    log.info({ address: `${host}:${a.port}` }, 'HTTPS listening');
    return endpoint;
  }

  /** Re-reads the certificate and key; resolves false (and logs) when they do not load. */
  async reload(): Promise<boolean> {
    try {
      const options = await this.#load();
      this.http.tlsServer?.setSecureContext(options);
      this.log.info({ cert: this.cert }, 'TLS certificate reloaded');
      return true;
    } catch (err) {
      this.log.error({ err: errorMessage(err), cert: this.cert }, 'TLS certificate not reloaded');
      return false;
    }
  }

  async #load(): Promise<SecureContextOptions> {
    const [cert, key] = await Promise.all([readFile(this.cert), readFile(this.key)]);
    const options = { cert, key };
    createSecureContext(options); // throws for a bad PEM or a key that does not match
    return options;
  }
}
