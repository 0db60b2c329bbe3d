/**
 * The few error classes of mediagate. Each has a stable `code` the API maps to an HTTP status and
 * a message that names the ids and sizes involved.
 */

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_STATE'
  | 'UNSUPPORTED'
  | 'PARSE'
  | 'TIMEOUT'
  | 'UNAVAILABLE';

export class MediagateError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A caller sent something malformed or not allowed (HTTP 400). */
export class BadRequestError extends MediagateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BAD_REQUEST', message, options);
  }
}

/** The named object does not exist (HTTP 404). */
export class NotFoundError extends MediagateError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** The object exists already (HTTP 409). */
export class ConflictError extends MediagateError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** The object is closed or not in a state that allows the call. */
export class InvalidStateError extends MediagateError {
  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** A codec, scheme or feature this build cannot handle; negotiation failures name both sides. */
export class UnsupportedError extends MediagateError {
  constructor(message: string) {
    super('UNSUPPORTED', message);
  }
}

/** A limit is reached (sessions, connections): try again later (HTTP 503). */
export class UnavailableError extends MediagateError {
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

/** An operation that did not finish in time. */
export class TimeoutError extends MediagateError {
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}

/**
 * The only error a parser may throw. `offset` is where in the input it gave up; `need`/`have` are
 * the sizes involved when the input was too short.
 */
export class ParseError extends MediagateError {
  readonly what: string;
  readonly offset: number;
  constructor(what: string, message: string, offset = 0) {
    super('PARSE', `${what}: ${message}${offset ? ` at offset ${offset}` : ''}`);
    this.what = what;
    this.offset = offset;
  }

  /** Throws unless `have - offset >= need`; the standard length check before a read. */
  static need(what: string, buf: Uint8Array, offset: number, need: number, field = 'data'): void {
    if (offset < 0 || need < 0 || offset + need > buf.length) {
      throw new ParseError(
        what,
        `${field} needs ${need} bytes, ${Math.max(0, buf.length - offset)} left`,
        offset,
      );
    }
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
