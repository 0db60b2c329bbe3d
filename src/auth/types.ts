/**
 * Public types of access control: who a request acts for (Principal), what a route needs
 * (Requirement) and the reasons a request is refused (counted in /metrics).
 */

/** `"*"` or a set of stream names. */
export type StreamSet = '*' | ReadonlySet<string>;

/** Who a request acts for, once its credentials are checked. */
export interface Principal {
  /** The user name; for a token, the user it was issued to. */
  user: string;
  role: 'admin' | 'viewer';
  /** Streams it may watch. */
  read: StreamSet;
  /** Streams it may publish to. */
  publish: StreamSet;
  /** How it proved who it is. */
  via: 'basic' | 'digest' | 'token' | 'localhost';
}

/** What a route asks of a request. */
export type Requirement =
  /** Anyone: the UI's files (so that the login page loads), CORS preflights. */
  | { kind: 'public' }
  /** Anyone holding the URL: it names an unguessable session (HLS, WHEP) created by an authorized request. */
  | { kind: 'session' }
  /** Any authenticated principal; the handler may narrow what it shows. */
  | { kind: 'user' }
  | { kind: 'admin' }
  /** Viewing every stream in `read` and publishing to every stream in `publish`. */
  | { kind: 'streams'; read: string[]; publish: string[] };

/** Why a request was refused; the label of `mediagate_auth_failures_total`. */
export type FailureReason =
  /** No credentials (answered with a challenge). */
  | 'missing'
  /** Wrong user or password, or a forged or malformed token. */
  | 'invalid'
  /** A token past its expiry. */
  | 'expired'
  /** Valid credentials without the permission asked for. */
  | 'forbidden'
  /** Refused unchecked: too many failures from that address. */
  | 'throttled';

/** The realm of Basic and Digest challenges; RTSP Digest HA1 values are computed with it. */
export const REALM = 'mediagate';

/** True when `set` contains `name`. */
export function hasStream(set: StreamSet, name: string): boolean {
  return set === '*' || set.has(name);
}
