/**
 * Reading a response body: its first bytes until the content is recognized, and a whole small
 * body (a snapshot) with a size limit and a no-data timeout. Both keep the bytes they read.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { BadRequestError, TimeoutError, UnsupportedError } from '../../../core/errors.ts';
import { type Detection, detectContent, MAX_DETECT_BYTES, multipartBoundary } from './detect.ts';
import type { HttpSourceOptions } from './url.ts';

/** Largest snapshot accepted, bytes. */
export const MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024;

/**
 * Reads until the content is recognized (the Content-Type decides at once when it is specific).
 * Resolves with the kind and the bytes read; the response is left paused. Rejects with
 * UnsupportedError for content mediagate cannot read.
 */
export function detectBody(
  res: IncomingMessage,
  opts: HttpSourceOptions,
): Promise<{ detection: Detection; head: Buffer[] }> {
  const contentType = res.headers['content-type'];
  if (opts.format) {
    const boundary = contentType ? multipartBoundary(contentType) : undefined;
    return Promise.resolve({ detection: { kind: opts.format, boundary }, head: [] });
  }
  const first = detectContent(contentType, Buffer.alloc(0), false);
  if (first && first !== 'more') return Promise.resolve({ detection: first, head: [] });
  return new Promise((resolve, reject) => {
    const head: Buffer[] = [];
    let size = 0;
    const finish = (ended: boolean) => {
      const d = detectContent(contentType, Buffer.concat(head, size), ended);
      if (d === 'more' && !ended && size < MAX_DETECT_BYTES) return;
      cleanup();
      res.pause();
      if (d && d !== 'more') resolve({ detection: d, head });
      else {
        reject(
          new UnsupportedError(
            `${opts.display}: unrecognized content (Content-Type ${contentType ?? 'none'}); ` +
              'expected FLV, MPEG-TS, MJPEG, JPEG, H.264, H.265 or ADTS',
          ),
        );
      }
    };
    const onData = (chunk: Buffer) => {
      head.push(chunk);
      size += chunk.length;
      finish(false);
    };
    const onEnd = () => finish(true);
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => onError(new Error(`${opts.display}: connection closed`));
    const cleanup = () => {
      res.off('data', onData);
      res.off('end', onEnd);
      res.off('error', onError);
      res.off('close', onClose);
    };
    res.on('data', onData);
    res.once('end', onEnd);
    res.once('error', onError);
    res.once('close', onClose);
  });
}

/** Reads the rest of a body (after `head`) up to `MAX_SNAPSHOT_BYTES`, with the no-data timeout. */
export function readWholeBody(
  req: ClientRequest,
  res: IncomingMessage,
  head: Buffer[],
  opts: HttpSourceOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts = [...head];
    let size = parts.reduce((n, p) => n + p.length, 0);
    req.setTimeout(opts.noDataTimeoutMs, () =>
      req.destroy(new TimeoutError(`${opts.display}: no data for ${opts.noDataTimeoutMs / 1000} s`)),
    );
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_SNAPSHOT_BYTES) {
        req.destroy();
        reject(new BadRequestError(`${opts.display}: picture over ${MAX_SNAPSHOT_BYTES} bytes`));
        return;
      }
      parts.push(chunk);
    });
    res.once('end', () => {
      req.setTimeout(0);
      resolve(Buffer.concat(parts, size));
    });
    res.once('error', reject);
    // After 'end' this changes nothing: a settled promise stays settled.
    res.once('close', () => reject(new Error(`${opts.display}: connection closed before the picture ended`)));
    res.resume();
  });
}
