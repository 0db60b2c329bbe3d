/**
 * Errors of the RTSP client that the engine's classes do not cover: an answer with a failure
 * status. Messages name the source (secrets masked), the method and the status.
 */

/** A server answered a request with a status other than 2xx. */
export class RtspStatusError extends Error {
  /** The RTSP status code (401 for "authentication failed"). */
  readonly status: number;
  readonly method: string;

  constructor(label: string, method: string, status: number, detail: string) {
    super(`${label}: ${detail}`);
    this.name = 'RtspStatusError';
    this.status = status;
    this.method = method;
  }

  /** `rtsp://cam/x: DESCRIBE failed with 404 Not Found`. */
  static of(label: string, method: string, status: number, reason: string): RtspStatusError {
    return new RtspStatusError(label, method, status, `${method} failed with ${status} ${reason}`.trim());
  }
}
