/**
 * The diag HTTP endpoints: /metrics, /api/streams.dot, /api/debug/{cpu,heap,handles,gc},
 * /api/health, /api/incidents(/file) and /api/log.
 */
import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { type ApiRequest, HttpError, type HttpServer, sendJson } from '../api/http.ts';
import type { StreamRegistry } from '../core/registry.ts';
import type { LogRing } from '../log/logger.ts';
import { streamGraph, toDot } from './dot.ts';
import { describeHandles } from './handles.ts';
import type { IncidentStore } from './incidents.ts';
import type { DiagMetrics } from './metrics.ts';
import type { Profiler } from './profiler.ts';
import type { Watchdog } from './watchdog.ts';

export interface DiagRoutesDeps {
  metrics: DiagMetrics;
  streams: StreamRegistry;
  profiler: Profiler;
  incidents: IncidentStore;
  watchdog: Watchdog;
  ring: LogRing;
}

/** Default and bounds of `?seconds=` of the profiling endpoints. */
const PROFILE_SECONDS = { default: 5, min: 1, max: 60 };

export function mountDiagRoutes(http: HttpServer, d: DiagRoutesDeps): void {
  http.route('GET', '/metrics', async (_req, res) => {
    const body = await d.metrics.text();
    res.writeHead(200, { 'content-type': d.metrics.contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });

  http.route('GET', '/api/streams.dot', (_req, res) => {
    const body = toDot(d.streams.list().map(streamGraph));
    res.writeHead(200, {
      'content-type': 'text/vnd.graphviz; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });

  http.route('GET', '/api/debug/cpu', async (req, res) => {
    const seconds = intParam(req, 'seconds', PROFILE_SECONDS);
    const profile = await d.profiler.cpuProfile(seconds * 1000, clientGone(res));
    sendDownload(res, JSON.stringify(profile), `mediagate-${stamp()}.cpuprofile`);
  });

  http.route('GET', '/api/debug/heap', async (req, res) => {
    if (req.query.get('sampling') === '1') {
      const seconds = intParam(req, 'seconds', PROFILE_SECONDS);
      const profile = await d.profiler.samplingHeapProfile(seconds * 1000, clientGone(res));
      sendDownload(res, JSON.stringify(profile), `mediagate-${stamp()}.heapprofile`);
      return;
    }
    // Headers go out with the first chunk, so that a 409 can still be sent before it.
    await d.profiler.heapSnapshot((chunk) => {
      if (!res.headersSent) {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-disposition': `attachment; filename="mediagate-${stamp()}.heapsnapshot"`,
        });
      }
      res.write(chunk);
    });
    res.end();
  });

  http.route('GET', '/api/debug/handles', (_req, res) => sendJson(res, 200, describeHandles()));

  // A full GC on request, for leak checks that compare the heap before and after; only when the
  // process runs with --expose-gc (it stops the process for the length of a full collection).
  http.route('POST', '/api/debug/gc', (_req, res) => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (typeof gc !== 'function')
      throw new HttpError(501, 'start node with --expose-gc to allow a forced GC');
    const t0 = performance.now();
    gc();
    sendJson(res, 200, {
      heapUsedBytes: process.memoryUsage().heapUsed,
      ms: Math.round(performance.now() - t0),
    });
  });

  http.route('GET', '/api/health', (_req, res) => {
    const health = d.watchdog.health(performance.now());
    sendJson(res, health.status === 'ok' ? 200 : 503, health);
  });

  http.route('GET', '/api/incidents', async (_req, res) => {
    const list = await d.incidents.list();
    sendJson(
      res,
      200,
      list.map((incident) => ({
        ...incident,
        files: [`${incident.id}.json`, ...incident.files].map((name) => ({
          name,
          url: `/api/incidents/file?name=${encodeURIComponent(name)}`,
        })),
      })),
    );
  });

  http.route('GET', '/api/incidents/file', async (req, res) => {
    const name = req.query.get('name') ?? '';
    const path = await d.incidents.resolveFile(name);
    if (!path) throw new HttpError(404, `no such incident file: ${name.slice(0, 100)}`);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-disposition': `attachment; filename="${name}"`,
    });
    await pipeline(createReadStream(path), res).catch(() => res.destroy());
  });

  http.route('GET', '/api/log', (req, res) => {
    const lines = d.ring.lines();
    const limit = req.query.has('limit')
      ? intParam(req, 'limit', { default: 0, min: 1, max: d.ring.size })
      : lines.length;
    sendJson(res, 200, lines.slice(-limit).map(parseLine));
  });
}

/** An integer query parameter within bounds; 400 naming the bounds otherwise. */
function intParam(req: ApiRequest, name: string, b: { default: number; min: number; max: number }): number {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return b.default;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < b.min || n > b.max)
    throw new HttpError(
      400,
      `?${name}= must be an integer from ${b.min} to ${b.max}, got "${raw.slice(0, 20)}"`,
    );
  return n;
}

/** Aborts when the client goes away before the response is complete. */
function clientGone(res: ServerResponse): AbortSignal {
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  return abort.signal;
}

function sendDownload(res: ServerResponse, body: string, filename: string): void {
  if (res.destroyed) return;
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'content-disposition': `attachment; filename="${filename}"`,
  });
  res.end(body);
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return line;
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:.]/g, '');
}
