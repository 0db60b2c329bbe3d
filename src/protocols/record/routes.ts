/**
 * The recording API:
 *
 * | method | path | does |
 * |---|---|---|
 * | POST   | `/api/record?src=NAME[&segment=S]`          | starts recording (201 with the job) |
 * | DELETE | `/api/record?src=NAME`                      | stops; answers once the last segment is finished |
 * | GET    | `/api/record`                               | the jobs: state, current file, counters, last error |
 * | GET    | `/api/recordings`                           | the streams with recordings: count, bytes, first and last |
 * | GET    | `/api/recordings?src=NAME[&limit=N]`        | its finished segments, oldest first (the newest N, default 1000) |
 * | GET    | `/api/recordings/file?src=NAME&name=FILE`   | one segment (`video/mp4`, Range requests) |
 * | DELETE | `/api/recordings/file?src=NAME&name=FILE`   | deletes one segment |
 *
 * `name` must be a segment name as the recorder writes it and `src` is encoded into exactly one
 * folder name, so no request reaches a file outside the stream's folder.
 */
import { createReadStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { type ApiRequest, HttpError, type HttpServer, sendJson } from '../../api/http.ts';
import { BadRequestError, NotFoundError } from '../../core/errors.ts';
import { parseSegmentName, streamDir } from './naming.ts';
import type { RecordService } from './service.ts';
import { DurationReader, recordedStreams, streamSegments } from './store.ts';

const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 100_000;
const MAX_NAME = 128;

function src(req: ApiRequest): string {
  const name = req.query.get('src');
  if (!name || name.length > MAX_NAME)
    throw new BadRequestError('missing or too long ?src=NAME of the stream');
  return name;
}

function segmentSeconds(req: ApiRequest): number | undefined {
  const v = req.query.get('segment');
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1 || n > 86400)
    throw new BadRequestError(`segment=${v.slice(0, 20)}: must be seconds from 1 to 86400`);
  return n;
}

function limit(req: ApiRequest): number {
  const v = req.query.get('limit');
  if (v === null || v === '') return DEFAULT_LIMIT;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_LIMIT)
    throw new BadRequestError(`limit=${v.slice(0, 20)}: must be 1 to ${MAX_LIMIT}`);
  return n;
}

/** The file of `?src=&name=`; BadRequestError for a name the recorder does not write. */
function segmentPath(root: string, req: ApiRequest): { stream: string; name: string; path: string } {
  const stream = src(req);
  const name = req.query.get('name') ?? '';
  if (parseSegmentName(name) === undefined) {
    throw new BadRequestError(
      `name="${name.slice(0, 60)}": not a segment name such as 2024-05-01T12-00-00.000.mp4`,
    );
  }
  return { stream, name, path: join(streamDir(root, stream), name) };
}

export function fileUrl(stream: string, name: string): string {
  return `/api/recordings/file?src=${encodeURIComponent(stream)}&name=${encodeURIComponent(name)}`;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` of a file of `size` bytes; undefined: serve it whole. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // several ranges or malformed: the whole file
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

async function serveFile(req: ApiRequest, res: ServerResponse, path: string, name: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new NotFoundError(`recording ${name} not found`);
  const size = info.size;
  const range = parseRange(req.raw.headers.range, size);
  if (range === 'unsatisfiable') {
    res.setHeader('content-range', `bytes */${size}`);
    throw new HttpError(416, `range ${req.raw.headers.range} is outside the ${size}-byte file`);
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const headers: Record<string, string | number> = {
    'content-type': 'video/mp4',
    'content-length': size === 0 ? 0 : end - start + 1,
    'accept-ranges': 'bytes',
    'cache-control': 'no-cache',
  };
  if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  if (req.query.has('download')) headers['content-disposition'] = `attachment; filename="${name}"`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const file = createReadStream(path, { start, end });
    const done = () => {
      file.destroy();
      resolve();
    };
    file.once('error', () => {
      res.destroy();
      done();
    });
    res.once('close', done);
    file.once('end', () => resolve());
    file.pipe(res);
  });
}

/** Adds the recording routes to the API server. */
export function mountRecordRoutes(http: HttpServer, service: RecordService): void {
  const durations = new DurationReader();
  const root = service.root;

  http.route('POST', '/api/record', async (req, res) => {
    sendJson(res, 201, await service.record(src(req), segmentSeconds(req)));
  });

  http.route('DELETE', '/api/record', async (req, res) => {
    sendJson(res, 200, await service.stop(src(req)));
  });

  http.route('GET', '/api/record', (_req, res) => {
    sendJson(res, 200, service.list());
  });

  http.route('GET', '/api/recordings', async (req, res) => {
    if (!req.query.has('src')) {
      const out = [];
      for (const stream of await recordedStreams(root)) {
        const segs = await streamSegments(root, stream);
        if (segs.length === 0) continue;
        out.push({
          name: stream,
          segments: segs.length,
          bytes: segs.reduce((n, s) => n + s.bytes, 0),
          first: new Date(segs[0].startMs).toISOString(),
          last: new Date(segs[segs.length - 1].startMs).toISOString(),
        });
      }
      sendJson(res, 200, out);
      return;
    }
    const stream = src(req);
    const segs = (await streamSegments(root, stream)).slice(-limit(req));
    const described = await durations.describe(segs);
    sendJson(
      res,
      200,
      described.map((s) => ({
        name: s.name,
        start: new Date(s.startMs).toISOString(),
        duration: s.duration === undefined ? null : Math.round(s.duration * 1000) / 1000,
        size: s.bytes,
        url: fileUrl(stream, s.name),
      })),
    );
  });

  http.route('GET', '/api/recordings/file', async (req, res) => {
    const { name, path } = segmentPath(root, req);
    await serveFile(req, res, path, name);
  });

  http.route('DELETE', '/api/recordings/file', async (req, res) => {
    const { stream, name, path } = segmentPath(root, req);
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError(`recording ${name} not found`);
      throw err;
    }
    sendJson(res, 200, { stream, name, deleted: true });
  });
}
