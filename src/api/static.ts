/**
 * The web UI's files from `web/`, served as they are (no build step). Paths are resolved inside
 * the folder; anything else is a 404.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import type { HttpServer } from './http.ts';
import { sendError } from './http.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export function mountStatic(http: HttpServer, root: string): void {
  const base = resolve(root);
  http.routePrefix('GET', '/', async (req, res) => {
    if (req.path.startsWith('/api/')) {
      sendError(res, 404, `no such endpoint: ${req.path}`);
      return;
    }
    const rel = req.path === '/' ? 'index.html' : req.path.slice(1);
    const file = normalize(join(base, rel));
    if (!file.startsWith(base + '/') || !TYPES[extname(file)]) {
      sendError(res, 404, `no such page: ${req.path}`);
      return;
    }
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      sendError(res, 404, `no such page: ${req.path}`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)],
      'content-length': body.length,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}
