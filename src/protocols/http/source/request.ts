/**
 * One HTTP GET of a source: a fresh connection (no agent, no keep-alive), redirects followed (at
 * most `MAX_REDIRECTS`, credentials dropped when the host changes), the response headers within
 * the connect timeout, an abort signal honoured at every step, and any status but 2xx an error
 * naming it. The caller owns the returned request: destroying it frees the socket.
 */
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { InvalidStateError, TimeoutError } from '../../../core/errors.ts';
import { labelHandle } from '../../../diag/handles.ts';
import { VERSION } from '../../../version.ts';
import { type HttpSourceOptions, MAX_REDIRECTS } from './url.ts';

/** A response whose headers have arrived; the body is not read yet. */
export interface OpenedResponse {
  req: ClientRequest;
  res: IncomingMessage;
  /** The URL that answered, after redirects. */
  url: string;
}

/** An HTTP status other than 2xx. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** GETs `opts.url`; see the file comment. */
export async function openHttp(opts: HttpSourceOptions, signal?: AbortSignal): Promise<OpenedResponse> {
  let url = opts.url;
  let auth = opts.auth;
  for (let redirects = 0; ; redirects++) {
    const opened = await openOnce(url, auth, opts, signal);
    const { res, req } = opened;
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return opened;
    res.resume();
    req.destroy();
    const location = res.headers.location;
    if (REDIRECTS.has(status) && location) {
      if (redirects >= MAX_REDIRECTS) {
        throw new HttpStatusError(status, `${opts.display}: more than ${MAX_REDIRECTS} redirects`);
      }
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new HttpStatusError(status, `${opts.display}: redirect to a ${next.protocol} URL`);
      }
      if (next.host !== new URL(url).host) auth = undefined;
      url = next.toString();
      continue;
    }
    const hint = status === 401 || status === 403 ? ' (check the user and password)' : '';
    throw new HttpStatusError(
      status,
      `${opts.display}: HTTP ${status} ${res.statusMessage ?? ''}`.trim() + hint,
    );
  }
}

function openOnce(
  url: string,
  auth: string | undefined,
  opts: HttpSourceOptions,
  signal: AbortSignal | undefined,
): Promise<OpenedResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new InvalidStateError(`${opts.display}: aborted`));
      return;
    }
    const https = url.startsWith('https:');
    const headers = { 'user-agent': `mediagate/${VERSION}`, accept: '*/*', ...opts.headers };
    const req = (https ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      headers,
      auth,
      agent: false,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      req.destroy(new TimeoutError(`${opts.display}: no response within ${opts.connectTimeoutMs} ms`));
    }, opts.connectTimeoutMs);
    const onAbort = () => req.destroy(new InvalidStateError(`${opts.display}: aborted`));
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    req.once('socket', (socket) => labelHandle(socket, `http-source:${opts.display}`));
    req.once('error', (err) => {
      done();
      reject(err);
    });
    req.once('response', (res) => {
      done();
      // Errors after this point are the body reader's: keep one listener so none goes unhandled.
      req.removeAllListeners('error');
      req.on('error', () => {});
      resolve({ req, res, url });
    });
    req.end();
  });
}
