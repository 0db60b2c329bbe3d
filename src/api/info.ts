/** GET /api: version and what this gateway serves, as go2rtc's /api. */
import type { Gateway } from '../gateway.ts';
import { VERSION } from '../version.ts';
import { type HttpServer, sendJson } from './http.ts';

export function mountApiInfo(http: HttpServer, gateway: Gateway): void {
  const started = new Date().toISOString();
  http.route('GET', '/api', (_req, res) => {
    sendJson(res, 200, {
      version: VERSION,
      started,
      pid: process.pid,
      node: process.version,
      sources: gateway.schemes.schemes(),
      streams: gateway.registry.names().length,
    });
  });
}
