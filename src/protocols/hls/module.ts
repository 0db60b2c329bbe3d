/**
 * HLS with fMP4 segments, go2rtc's paths:
 *
 * - `GET /api/stream.m3u8?src=NAME[&codecs=LIST]` creates a session and answers a multivariant
 *   playlist pointing at `hls/playlist.m3u8?id=ID`;
 * - `GET /api/hls/playlist.m3u8?id=`, `/api/hls/init.mp4?id=&v=`, `/api/hls/segment.m4s?id=&n=`.
 *
 * A session ends 30 s after its last request (one sweeper timer for the module, not a timer per
 * session), when its stream goes away, or at shutdown.
 */
import type { ServerResponse } from 'node:http';
import type { ApiRequest } from '../../api/http.ts';
import { BadRequestError, NotFoundError } from '../../core/errors.ts';
import type { GatewayContext, GatewayModule } from '../../module.ts';
import { requestsForCodecList } from '../mp4/codecs.ts';
import { streamName } from '../mp4/module.ts';
import { attachConsumer } from '../mp4/negotiate.ts';
import { Sweeper } from '../mp4/sweeper.ts';
import { multivariantPlaylist } from './playlist.ts';
import { HlsSession } from './session.ts';

/** A session without requests for this long is closed, ms. */
const SESSION_IDLE_MS = 30_000;
/** How long the first playlist waits for the first segment, ms. */
const START_TIMEOUT_MS = 15_000;
/**
 * Segments a live media playlist has before it is first served: players start three target
 * durations from the end (RFC 8216 6.3.3), and Chromium's native HLS refuses a shorter one.
 */
const MIN_LIVE_SEGMENTS = 3;
/** How long the media playlist waits for those; after that it is served with what there is, ms. */
const LIVE_START_MS = 12_000;
/** How long a request for the segment being written waits, ms. */
const SEGMENT_WAIT_MS = 12_000;
/** Sessions at once; more is a client bug or an attack, each holds a few segments in memory. */
const MAX_SESSIONS = 256;
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

function send(res: ServerResponse, type: string, body: Buffer | string, head: boolean): void {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(200, { 'content-type': type, 'content-length': data.length, 'cache-control': 'no-cache' });
  res.end(head ? undefined : data);
}

function intParam(req: ApiRequest, key: string): number {
  const v = req.query.get(key);
  const n = Number(v);
  if (v === null || v === '' || !Number.isSafeInteger(n) || n < 0)
    throw new BadRequestError(`missing or bad ?${key}= (a number)`);
  return n;
}

export interface HlsOptions {
  /** A session without requests for this long is closed, ms. Default 30000. */
  sessionIdleMs?: number;
  /** How often expiry and request deadlines are checked, ms. Default 1000. */
  sweepMs?: number;
}

export function createHlsModule(ctx: GatewayContext, options: HlsOptions = {}): GatewayModule {
  const { registry, http } = ctx;
  const idleMs = options.sessionIdleMs ?? SESSION_IDLE_MS;
  const sessions = new Map<string, HlsSession>();
  const sweeper = new Sweeper(options.sweepMs ?? 1000, (now) => {
    for (const s of sessions.values()) {
      if (now - s.lastAccess > idleMs) s.close();
      else s.expireWaiters(now);
    }
    return sessions.size > 0;
  });

  function session(req: ApiRequest): HlsSession {
    const id = req.query.get('id') ?? '';
    const s = sessions.get(id);
    if (!s) throw new NotFoundError(`HLS session "${id.slice(0, 40)}" not found or expired`);
    s.lastAccess = performance.now();
    return s;
  }

  http.route('GET', '/api/stream.m3u8', async (req, res) => {
    const name = streamName(req);
    if (sessions.size >= MAX_SESSIONS)
      throw new BadRequestError(`too many HLS sessions (${MAX_SESSIONS}); try again later`);
    const s = new HlsSession(name, requestsForCodecList(req.query.get('codecs') ?? undefined));
    s.consumer.remoteAddress = req.raw.socket.remoteAddress;
    s.consumer.userAgent = req.raw.headers['user-agent'];
    sessions.set(s.id, s);
    s.once('close', () => sessions.delete(s.id));
    sweeper.ensure();
    try {
      await attachConsumer(registry, name, s.consumer);
      s.consumer.play();
      await s.ready(1, START_TIMEOUT_MS);
    } catch (err) {
      s.close();
      throw err;
    }
    const init = s.init;
    if (!init) throw new NotFoundError(`HLS session ${s.id}: no init segment`);
    const codecs = /codecs="([^"]*)"/.exec(init.mime)?.[1] ?? '';
    const body = multivariantPlaylist({
      bandwidth: s.bandwidth,
      codecs,
      width: init.width,
      height: init.height,
      uri: `hls/playlist.m3u8?id=${s.id}`,
    });
    send(res, PLAYLIST_TYPE, body, req.method === 'HEAD');
  });

  http.route('GET', '/api/hls/playlist.m3u8', async (req, res) => {
    const s = session(req);
    try {
      await s.ready(MIN_LIVE_SEGMENTS, LIVE_START_MS);
    } catch (err) {
      if (s.closed || s.segmentCount === 0) throw err;
    }
    send(res, PLAYLIST_TYPE, s.playlist(), req.method === 'HEAD');
  });

  http.route('GET', '/api/hls/init.mp4', (req, res) => {
    const s = session(req);
    const v = req.query.has('v') ? intParam(req, 'v') : 0;
    send(res, 'video/mp4', s.initSegment(v), req.method === 'HEAD');
  });

  http.route('GET', '/api/hls/segment.m4s', async (req, res) => {
    const s = session(req);
    const data = await s.segment(intParam(req, 'n'), SEGMENT_WAIT_MS);
    send(res, 'video/iso.segment', data, req.method === 'HEAD');
  });

  return {
    name: 'hls',
    async start() {},
    close() {
      for (const s of [...sessions.values()]) s.close();
      sessions.clear();
      sweeper.close();
    },
  };
}
