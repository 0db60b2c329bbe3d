/**
 * /api/streams, go2rtc-compatible: GET lists (or one with ?src=), PUT creates, PATCH replaces the
 * sources (creating the stream if needed), DELETE removes. An optional guard (src/auth/) refuses
 * source URLs and hides streams the user may not see.
 */
import type { ServerResponse } from 'node:http';
import { BadRequestError } from '../core/errors.ts';
import type { StreamRegistry } from '../core/registry.ts';
import { type ApiRequest, type HttpServer, sendJson } from './http.ts';

export interface StreamsApiGuard {
  /** Throws (a MediagateError) for a source URL the API may not add: loops, files outside the root. */
  checkSource?(url: string): Promise<void>;
  /** Whether the request may see the stream in the list. Default: every stream. */
  visible?(req: ApiRequest, name: string): boolean;
}

export function mountStreamsApi(
  http: HttpServer,
  registry: StreamRegistry,
  guard: StreamsApiGuard = {},
): void {
  http.route('GET', '/api/streams', (req, res) => listStreams(registry, req, res, guard));
  http.route('PUT', '/api/streams', async (req, res) => {
    const { name, sources } = nameAndSources(req);
    for (const url of sources) await guard.checkSource?.(url);
    const stream = await registry.create(name, sources);
    sendJson(res, 201, stream.info());
  });
  http.route('PATCH', '/api/streams', async (req, res) => {
    const { name, sources } = nameAndSources(req);
    for (const url of sources) await guard.checkSource?.(url);
    const stream = await registry.upsert(name, sources);
    sendJson(res, 200, stream.info());
  });
  http.route('DELETE', '/api/streams', async (req, res) => {
    const name = req.query.get('src') ?? req.query.get('name');
    if (!name) throw new BadRequestError('missing ?src=NAME of the stream to delete');
    await registry.delete(name);
    sendJson(res, 200, { deleted: name });
  });
}

function listStreams(
  registry: StreamRegistry,
  req: ApiRequest,
  res: ServerResponse,
  guard: StreamsApiGuard,
): void {
  const name = req.query.get('src');
  if (name !== null) {
    sendJson(res, 200, registry.require(name).info());
    return;
  }
  const out: Record<string, unknown> = {};
  for (const stream of registry.list()) {
    if (guard.visible?.(req, stream.name) ?? true) out[stream.name] = stream.info();
  }
  sendJson(res, 200, out);
}

/** `?name=cam&src=rtsp://...&src=...`; as in go2rtc the name defaults to the (single) source. */
function nameAndSources(req: ApiRequest): { name: string; sources: string[] } {
  const sources = req.query.getAll('src').filter((s) => s !== '');
  const name = req.query.get('name') ?? (sources.length === 1 ? sources[0] : '');
  if (sources.length === 0) throw new BadRequestError('missing ?src=URL (one or more sources)');
  if (!name) throw new BadRequestError('missing ?name=NAME');
  if (sources.length > 16) throw new BadRequestError(`too many sources (${sources.length}), at most 16`);
  return { name, sources };
}
