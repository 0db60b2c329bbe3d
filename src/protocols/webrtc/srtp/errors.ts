/** The SRTP error class: a `ParseError`, so packet loops that drop and count parse errors catch it. */
import { ParseError } from '../../../core/errors.ts';

/** Why a packet was refused: its tag did not verify, or it was already seen or is too old. */
export type SrtpErrorReason = 'auth' | 'replay';

/** Thrown by unprotect when a packet fails authentication or replay protection. */
export class SrtpError extends ParseError {
  readonly reason: SrtpErrorReason;
  constructor(what: 'srtp' | 'srtcp', reason: SrtpErrorReason, message: string) {
    super(what, message);
    this.reason = reason;
  }
}
