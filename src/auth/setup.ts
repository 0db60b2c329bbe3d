/**
 * Wiring of access control into the gateway: the AuthService and its HTTP hook and routes, the
 * guard of the streams API, and the start-up warnings about an exposed or weakly configured gateway.
 */
import type { HttpServer } from '../api/http.ts';
import type { StreamsApiGuard } from '../api/streams.ts';
import { ConfigError, parseListen } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../log/logger.ts';
import { mountAuthApi } from './api.ts';
import { AuthService, isLoopback } from './index.ts';
import { checkApiSource } from './sources.ts';
import { hasStream } from './types.ts';

/** Creates the AuthService (undefined without `auth:`), sets the HTTP hook and mounts /api/me and /api/token. */
export function setupAuth(http: HttpServer, config: Config, log: Logger): AuthService | undefined {
  let auth: AuthService | undefined;
  if (config.auth) {
    try {
      auth = new AuthService(config.auth, log);
    } catch (err) {
      throw new ConfigError(`${config.files.at(-1) ?? 'config'}: ${errorMessage(err)}`);
    }
    http.authorize = auth.authorizeHttp;
  }
  mountAuthApi(http, auth);
  return auth;
}

/**
 * The streams API's guard: source URLs from the API may not point at the gateway itself, and
 * `file:` ones must be inside `api.file_root` (refused without it once `auth:` is on; an open
 * gateway keeps accepting any file, as before). The list shows a user only its streams.
 */
export function streamsGuard(config: Config, auth: AuthService | undefined): StreamsApiGuard {
  const opts = { fileRoot: config.api.fileRoot, requireFileRoot: auth !== undefined };
  return {
    checkSource: (url) => checkApiSource(url, opts),
    visible: (req, name) => {
      const p = auth?.principalOf(req.raw);
      return !auth || (p !== undefined && hasStream(p.read, name));
    },
  };
}

/** True when a listen address reaches beyond this machine (every interface, or a non-loopback host). */
function exposed(listen: string | undefined): boolean {
  const a = listen ? parseListen(listen) : undefined;
  return a !== undefined && !(a.host === 'localhost' || isLoopback(a.host));
}

/** Logs what makes this gateway easy to misuse. */
export function logSecurityWarnings(config: Config, auth: AuthService | undefined, log: Logger): void {
  if (!auth) {
    const open = [config.api.listen, config.api.tlsListen, config.rtsp.listen].filter((l) => exposed(l));
    if (open.length > 0)
      log.warn(
        { listen: open },
        'no auth: section: anyone who can reach these addresses can watch, change and delete every stream',
      );
    return;
  }
  for (const user of auth.users.plainText())
    log.warn(
      { user },
      'password stored in plain text: replace it with the output of mediagate --hash-password',
    );
  for (const user of auth.users.withoutHa1())
    log.info({ user }, 'no rtsp_ha1 for this user: RTSP Digest is not possible, Basic only');
  if (config.auth?.localhostBypass)
    log.warn(
      'auth.localhost_bypass: requests from 127.0.0.1 and ::1 act as admin; behind a reverse proxy on this host, so does everyone',
    );
  if (exposed(config.api.listen) && !config.api.tlsListen)
    log.info(
      'API served without TLS: passwords cross the network in the clear (set api.tls_listen or use a TLS proxy)',
    );
}
