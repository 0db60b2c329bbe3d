/**
 * The RTSP status for an error thrown by a request handler: the client's fault is a 4xx and goes to
 * the debug log, an unavailable source a 503, and only a bug of ours a 500 at error level.
 */
import { errorMessage, MediagateError } from '../../../core/errors.ts';
import type { Logger } from '../../../log/logger.ts';
import type { RtspRequest } from '../message.ts';
import { type Reply, RtspStatusError } from './context.ts';

export function statusOf(err: unknown): number {
  if (err instanceof RtspStatusError) return err.status;
  if (!(err instanceof MediagateError)) return 500;
  switch (err.code) {
    case 'BAD_REQUEST':
    case 'PARSE':
      return 400;
    case 'NOT_FOUND':
      return 404;
    case 'UNSUPPORTED':
      // Nothing to offer (a publisher's stream while nobody publishes) is "not found", as in
      // MediaMTX; a source that cannot connect is ours (503); a codec mismatch the client's (415).
      if (/codecs not matched: none =>/.test(err.message)) return 404;
      return /no source available/.test(err.message) ? 503 : 415;
    default:
      return 503;
  }
}

export function dispatchError(err: unknown, req: RtspRequest, log: Logger): Reply {
  const status = statusOf(err);
  const fields = { method: req.method, uri: req.uri, status, reason: errorMessage(err) };
  if (status >= 500 && !(err instanceof MediagateError)) log.error({ ...fields, err }, 'RTSP request failed');
  else log.debug(fields, 'RTSP request refused');
  return { status };
}
