/**
 * RTSP authentication (RFC 2617 as used by RTSP, RFC 7826 §19): Basic and Digest with MD5, for the
 * client (answering a camera's challenge) and the server (checking readers and publishers).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Challenge {
  scheme: 'basic' | 'digest';
  realm: string;
  nonce?: string;
  opaque?: string;
  qop?: string;
  algorithm?: string;
}

/** Parses `WWW-Authenticate` values; a camera may offer several (joined by the decoder with ", "). */
export function parseChallenges(value: string): Challenge[] {
  const out: Challenge[] = [];
  const re = /(Basic|Digest)\s+((?:[a-zA-Z-]+=(?:"[^"]*"|[^,\s]*)\s*,?\s*)*)/gi;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const params = parseParams(m[2]);
    out.push({
      scheme: m[1].toLowerCase() as Challenge['scheme'],
      realm: params.realm ?? '',
      nonce: params.nonce,
      opaque: params.opaque,
      qop: params.qop,
      algorithm: params.algorithm,
    });
  }
  return out;
}

/** The `key=value` / `key="value"` pairs of a challenge or a Digest `Authorization`, keys lower case. */
export function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  const re = /([a-zA-Z-]+)=(?:"([^"]*)"|([^,\s]*))/g;
  for (let m = re.exec(text); m; m = re.exec(text)) params[m[1].toLowerCase()] = m[2] ?? m[3] ?? '';
  return params;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** The Authorization header answering `challenge` (Digest preferred by the caller). */
export function authorize(
  challenge: Challenge,
  user: string,
  pass: string,
  method: string,
  uri: string,
  nc = 1,
): string {
  if (challenge.scheme === 'basic') return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const ha1 = md5(`${user}:${challenge.realm}:${pass}`);
  const ha2 = md5(`${method}:${uri}`);
  const nonce = challenge.nonce ?? '';
  const parts = [`username="${user}"`, `realm="${challenge.realm}"`, `nonce="${nonce}"`, `uri="${uri}"`];
  let response: string;
  if (challenge.qop?.split(',').some((q) => q.trim() === 'auth')) {
    const cnonce = randomBytes(8).toString('hex');
    const ncHex = nc.toString(16).padStart(8, '0');
    response = md5(`${ha1}:${nonce}:${ncHex}:${cnonce}:auth:${ha2}`);
    parts.push('qop=auth', `nc=${ncHex}`, `cnonce="${cnonce}"`);
  } else {
    response = md5(`${ha1}:${nonce}:${ha2}`);
  }
  parts.push(`response="${response}"`);
  if (challenge.opaque !== undefined) parts.push(`opaque="${challenge.opaque}"`);
  if (challenge.algorithm) parts.push(`algorithm=${challenge.algorithm}`);
  return `Digest ${parts.join(', ')}`;
}

/** Server side: issues challenges and checks Authorization headers against one user. */
export class RtspAuthenticator {
  readonly #nonce = randomBytes(16).toString('hex');

  constructor(
    readonly user: string,
    private readonly pass: string,
    readonly realm = 'mediagate',
  ) {}

  /** The `WWW-Authenticate` values for a 401: Digest first, then Basic. */
  challenges(nonce = this.#nonce): string[] {
    return [`Digest realm="${this.realm}", nonce="${nonce}"`, `Basic realm="${this.realm}"`];
  }

  /** True when `header` carries valid credentials for `method` on any URI of ours. */
  check(header: string | undefined, method: string, nonce = this.#nonce): boolean {
    if (!header || header.length > 4096) return false;
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const rest = header.slice(space + 1);
    if (scheme === 'basic') {
      const expected = Buffer.from(`${this.user}:${this.pass}`);
      return safeEqual(Buffer.from(rest.trim(), 'base64'), expected);
    }
    if (scheme !== 'digest') return false;
    const p = parseParams(rest);
    if (p.username !== this.user || p.nonce !== nonce || p.uri === undefined || !p.response) return false;
    const ha1 = md5(`${this.user}:${this.realm}:${this.pass}`);
    const ha2 = md5(`${method}:${p.uri}`);
    const expected =
      p.qop === 'auth'
        ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`)
        : md5(`${ha1}:${p.nonce}:${ha2}`);
    return safeEqual(Buffer.from(p.response), Buffer.from(expected));
  }
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
