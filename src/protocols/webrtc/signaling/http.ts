/**
 * WHEP (draft-ietf-wish-whep) and WHIP (RFC 9725) on `/api/webrtc`, plus go2rtc's JSON variant:
 *
 * - `POST /api/webrtc?src=NAME` (play) or `?dst=NAME` (publish), `Content-Type: application/sdp`:
 *   201 with the answer and `Location: /api/webrtc?id=<session>`.
 * - The same with a JSON body `{"type":"offer","sdp":"..."}`: 200 with `{"type":"answer","sdp":"..."}`.
 * - `?transport=udp|tcp` limits the candidates of that session.
 * - `DELETE /api/webrtc?id=<session>` ends it (200; 404 for an unknown id).
 * - `PATCH /api/webrtc?id=<session>` (trickle ICE): 204; ICE-lite needs nothing from it.
 * - `GET /api/webrtc`: the live sessions.
 */
import type { ServerResponse } from 'node:http';
import { type ApiRequest, type HttpServer, sendJson } from '../../../api/http.ts';
import { BadRequestError, NotFoundError } from '../../../core/errors.ts';
import type { PeerSessions } from '../peer/sessions.ts';

export const WEBRTC_PATH = '/api/webrtc';

interface JsonOffer {
  type?: unknown;
  sdp?: unknown;
}

function readOffer(req: ApiRequest, body: Buffer): { sdp: string; json: boolean } {
  const type = String(req.raw.headers['content-type'] ?? '').toLowerCase();
  const text = body.toString('utf8');
  const json = type.includes('json') || (!type.includes('sdp') && text.trimStart().startsWith('{'));
  if (!json) {
    if (text.trim() === '') throw new BadRequestError('empty body: expected an SDP offer');
    return { sdp: text, json };
  }
  let parsed: JsonOffer;
  try {
    parsed = JSON.parse(text) as JsonOffer;
  } catch (err) {
    throw new BadRequestError(`malformed JSON body: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.sdp !== 'string' || parsed.sdp === '') {
    throw new BadRequestError('expected a JSON body {"type":"offer","sdp":"..."}');
  }
  if (parsed.type !== undefined && parsed.type !== 'offer') {
    throw new BadRequestError(
      `expected a description of type "offer", got "${String(parsed.type).slice(0, 20)}"`,
    );
  }
  return { sdp: parsed.sdp, json };
}

function requireId(req: ApiRequest, sessions: PeerSessions): string {
  const id = req.query.get('id');
  if (!id) throw new BadRequestError('missing ?id=SESSION');
  if (!sessions.get(id)) throw new NotFoundError(`webrtc session "${id.slice(0, 64)}" not found`);
  return id;
}

export function mountWebRtcHttp(http: HttpServer, sessions: PeerSessions): void {
  http.route('POST', WEBRTC_PATH, async (req, res: ServerResponse) => {
    const { sdp, json } = readOffer(req, await req.body());
    const closed = new AbortController();
    // A client that hangs up while the source connects leaves nothing behind.
    res.once('close', () => {
      if (!res.writableFinished) closed.abort();
    });
    const { session, answer } = await sessions.answer({
      sdp,
      src: req.query.get('src') ?? undefined,
      dst: req.query.get('dst') ?? undefined,
      transport: req.query.get('transport') ?? undefined,
      remoteAddress: req.raw.socket.remoteAddress,
      userAgent: req.raw.headers['user-agent'],
      signal: closed.signal,
    });
    const location = `${WEBRTC_PATH}?id=${session.id}`;
    res.setHeader('location', location);
    // A WHEP player on another origin needs to read Location to DELETE its session.
    res.setHeader('access-control-expose-headers', 'location');
    if (json) {
      sendJson(res, 200, { type: 'answer', sdp: answer });
      return;
    }
    res.writeHead(201, {
      'content-type': 'application/sdp',
      'content-length': Buffer.byteLength(answer),
    });
    res.end(answer);
  });

  http.route('GET', WEBRTC_PATH, (_req, res) => {
    sendJson(
      res,
      200,
      sessions.list().map((s) => s.info()),
    );
  });

  http.route('DELETE', WEBRTC_PATH, (req, res) => {
    sessions.close(requireId(req, sessions));
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  });

  http.route('PATCH', WEBRTC_PATH, (req, res) => {
    requireId(req, sessions);
    res.writeHead(204);
    res.end();
  });
}
