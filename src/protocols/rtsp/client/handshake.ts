/**
 * The RTSP play handshake up to, not including, PLAY (RFC 2326 §10): OPTIONS, DESCRIBE, one SETUP
 * per usable media. Tolerates the usual camera quirks: a failing OPTIONS, no Content-Base (the
 * request URL is the base), `*`/relative/absolute controls, interleaved channels other than the ones
 * asked for, a Session header with a timeout, media without a usable codec (skipped), a media whose
 * SETUP fails while others work (skipped).
 *
 * Back channel (ONVIF Streaming 5.3): DESCRIBE asks for it with `Require: www.onvif.org/ver20/backchannel`
 * unless `#backchannel=0`. A camera that refuses (551 Option not supported, or any 4xx/5xx) is asked
 * again without on the same connection; one that hangs up on the tag rejects with
 * `BackchannelRefusedError`, and the driver reconnects without it. When the tag was accepted, every
 * later request carries it and the first `a=sendonly` audio section the gateway can produce is set
 * up after the others (a failure there only loses the back channel).
 */
import { createDepayloader } from '../../../codecs/index.ts';
import { errorMessage, MediagateError, ParseError, UnsupportedError } from '../../../core/errors.ts';
import type { Codec, Media } from '../../../core/media.ts';
import { resolveControl } from '../../../sdp/control.ts';
import { parseSdp, sdpToMedias, viewSession } from '../../../sdp/index.ts';
import type { RtspResponse } from '../message.ts';
import { parseSession, parseTransports, type TransportSpec } from '../transport.ts';
import { BACKCHANNEL_TAG, canSendBack } from './backchannel.ts';
import type { RtspClientConn } from './conn.ts';
import { RtspStatusError } from './errors.ts';
import { bindUdpPair, closeUdpPair, type UdpPair } from './udp.ts';
import type { RtspSourceOptions } from './url.ts';

/** RFC 2326 §12.37: the session timeout when the server does not give one, seconds. */
export const DEFAULT_SESSION_TIMEOUT_S = 60;

/** One media set up for play. */
export interface MediaSetup {
  /** The media with exactly one codec, `id` = its SETUP URL. */
  media: Media;
  /** TCP: the channels the server will use (its choice, not necessarily ours). */
  channels?: [rtp: number, rtcp: number];
  /** UDP: our sockets and the server's ports (`serverPorts` may be missing: then no RTCP goes out). */
  udp?: UdpPair;
  serverPorts?: [rtp: number, rtcp: number];
  /** UDP: the address packets come from (the Transport `source`, else the server's address). */
  sourceIp?: string;
}

export interface PlayPlan {
  medias: MediaSetup[];
  /** The aggregate URL for PLAY, TEARDOWN and keep-alives. */
  controlUrl: string;
  /** Session timeout in seconds (keep-alives go out every half of it). */
  sessionTimeoutS: number;
  /** OPTIONS listed GET_PARAMETER: the lighter keep-alive. */
  getParameter: boolean;
  /** Headers every later request of the session carries: the back-channel `Require` when accepted. */
  require: [string, string][];
  /** The server refused DESCRIBE with the back-channel tag (then asked again without). */
  backchannelRefused: boolean;
  /** The back channel, set up; not one of `medias` (the gateway sends on it). */
  backchannel?: MediaSetup;
}

/** The server closed the connection after a DESCRIBE with the back-channel tag: connect again without. */
export class BackchannelRefusedError extends Error {
  constructor(label: string, options?: ErrorOptions) {
    super(`${label}: the server closed the connection on DESCRIBE with Require: ${BACKCHANNEL_TAG}`, options);
    this.name = 'BackchannelRefusedError';
  }
}

/** Runs OPTIONS, DESCRIBE and SETUP on `conn`. On failure every UDP socket bound here is closed. */
export async function setUpSession(conn: RtspClientConn, opts: RtspSourceOptions): Promise<PlayPlan> {
  const label = opts.display;
  const options = await conn.request('OPTIONS', opts.url);
  const methods = options.status < 300 ? (options.headers.get('public') ?? '').toUpperCase() : '';
  const { describe, require, refused } = await describeSession(conn, opts);
  const base =
    absolute(describe.headers.get('content-base')) ??
    absolute(describe.headers.get('content-location')) ??
    opts.url;
  let sdp: ReturnType<typeof parseSdp>;
  try {
    sdp = parseSdp(describe.body);
  } catch (err) {
    throw new ParseError('RTSP DESCRIBE', `${label}: bad SDP: ${errorMessage(err)}`);
  }
  const offered = sdpToMedias(sdp, { base });
  const usable = selectMedias(offered, opts);
  if (usable.length === 0) {
    const what = sdp.medias.map((m) => `${m.kind}:${m.formats.join('/')}`).join(', ') || 'none';
    throw new UnsupportedError(
      `${label}: no playable media in the SDP (offered: ${what}${opts.media ? `; #media=${[...opts.media].join(',')}` : ''})`,
    );
  }
  const plan: PlayPlan = {
    medias: [],
    controlUrl: resolveControl(base, undefined, viewSession(sdp).control),
    sessionTimeoutS: DEFAULT_SESSION_TIMEOUT_S,
    getParameter: methods.includes('GET_PARAMETER'),
    require,
    backchannelRefused: refused,
  };
  let firstError: Error | undefined;
  try {
    for (const media of usable) {
      try {
        const setup = await setUpMedia(conn, opts, media, plan);
        plan.medias.push(setup);
      } catch (err) {
        // A camera may refuse one track (audio disabled) and serve the others.
        if (!(err instanceof RtspStatusError) || err.status === 401) throw err;
        firstError ??= err;
      }
    }
    if (plan.medias.length === 0)
      throw firstError ?? new UnsupportedError(`${label}: no media could be set up`);
    const back = require.length > 0 ? selectBackchannel(offered) : undefined;
    if (back) {
      try {
        plan.backchannel = await setUpMedia(conn, opts, back, plan);
      } catch (err) {
        // A camera may list a back channel it will not set up: play without it.
        if (!(err instanceof RtspStatusError) || err.status === 401) throw err;
      }
    }
    return plan;
  } catch (err) {
    for (const m of plan.medias) if (m.udp) closeUdpPair(m.udp);
    if (plan.backchannel?.udp) closeUdpPair(plan.backchannel.udp);
    throw err;
  }
}

/**
 * DESCRIBE, with the back-channel tag first when the options ask for it (see the file comment).
 * Resolves with the 2xx answer and the headers later requests must carry.
 */
async function describeSession(
  conn: RtspClientConn,
  opts: RtspSourceOptions,
): Promise<{ describe: RtspResponse; require: [string, string][]; refused: boolean }> {
  const accept: [string, string] = ['accept', 'application/sdp'];
  const label = opts.display;
  if (!opts.backchannel) {
    return {
      describe: ok(await conn.request('DESCRIBE', opts.url, [accept]), 'DESCRIBE', label),
      require: [],
      refused: false,
    };
  }
  const require: [string, string] = ['require', BACKCHANNEL_TAG];
  try {
    const res = await conn.request('DESCRIBE', opts.url, [accept, require]);
    if (res.status >= 200 && res.status < 300) return { describe: res, require: [require], refused: false };
  } catch (err) {
    // Authentication failures, timeouts and aborts are what they are; a hang-up is a refusal.
    if (!hungUp(conn, err)) throw err;
    throw new BackchannelRefusedError(label, { cause: err });
  }
  // 551 Option not supported (ONVIF), or a camera that answers the unknown tag with another error.
  try {
    const res = ok(await conn.request('DESCRIBE', opts.url, [accept]), 'DESCRIBE', label);
    return { describe: res, require: [], refused: true };
  } catch (err) {
    if (hungUp(conn, err)) throw new BackchannelRefusedError(label, { cause: err });
    throw err;
  }
}

/** The request failed because the server closed the connection (not a status, timeout or abort). */
function hungUp(conn: RtspClientConn, err: unknown): boolean {
  return conn.closed && !(err instanceof RtspStatusError) && !(err instanceof MediagateError);
}

/** The first `a=sendonly` (camera receives) audio section with a codec the gateway can produce. */
function selectBackchannel(offered: Media[]): Media | undefined {
  for (const media of offered) {
    if (media.kind !== 'audio' || media.direction !== 'sendonly') continue;
    const codec = media.codecs.find(canSendBack);
    if (codec) return { ...media, codecs: [codec] };
  }
  return undefined;
}

/** Applies `#media=`, drops back channels and keeps the first codec that has a depayloader. */
function selectMedias(offered: Media[], opts: RtspSourceOptions): Media[] {
  const out: Media[] = [];
  for (const media of offered) {
    if (opts.media && !opts.media.has(media.kind)) continue;
    if (media.direction === 'sendonly') continue; // ONVIF back channel: the camera receives
    const codec = media.codecs.find(hasDepayloader);
    if (codec) out.push({ ...media, direction: 'recvonly', codecs: [codec] });
  }
  return out;
}

function hasDepayloader(codec: Codec): boolean {
  try {
    createDepayloader(codec);
    return true;
  } catch {
    return false;
  }
}

async function setUpMedia(
  conn: RtspClientConn,
  opts: RtspSourceOptions,
  media: Media,
  plan: PlayPlan,
): Promise<MediaSetup> {
  const index = plan.medias.length;
  const url = media.id ?? plan.controlUrl;
  let udp: UdpPair | undefined;
  let asked: string;
  if (opts.transport === 'udp') {
    udp = await bindUdpPair(conn.localIp ?? '0.0.0.0');
    asked = `RTP/AVP;unicast;client_port=${udp.rtpPort}-${udp.rtpPort + 1}`;
  } else {
    asked = `RTP/AVP/TCP;unicast;interleaved=${index * 2}-${index * 2 + 1}`;
  }
  try {
    const res = ok(
      await conn.request('SETUP', url, [['transport', asked], ...plan.require]),
      'SETUP',
      opts.display,
    );
    const session = res.headers.get('session');
    if (session !== undefined && conn.session === undefined) {
      const parsed = parseSession(session);
      conn.session = parsed.id;
      if (parsed.timeout !== undefined && parsed.timeout > 0) plan.sessionTimeoutS = parsed.timeout;
    }
    const header = res.headers.get('transport');
    const spec: TransportSpec | undefined = header ? parseTransports(header)[0] : undefined;
    const setup: MediaSetup = { media: { ...media, id: url } };
    if (!udp) {
      if (spec && spec.protocol !== 'tcp')
        throw new UnsupportedError(
          `${opts.display}: SETUP asked for TCP and the server answered "${header}"`,
        );
      setup.channels = spec?.interleaved ?? [index * 2, index * 2 + 1];
      return setup;
    }
    if (spec?.protocol === 'tcp')
      throw new UnsupportedError(`${opts.display}: SETUP asked for UDP and the server answered "${header}"`);
    setup.udp = udp;
    if (spec?.serverPort) setup.serverPorts = spec.serverPort;
    const source = spec?.source && /^[\d.:a-fA-F]+$/.test(spec.source) ? spec.source : undefined;
    setup.sourceIp = source ?? conn.remoteIp;
    return setup;
  } catch (err) {
    if (udp) closeUdpPair(udp);
    if (err instanceof RtspStatusError && err.status === 461 && udp) {
      throw new RtspStatusError(
        opts.display,
        'SETUP',
        461,
        'the server does not support RTP over UDP (461 Unsupported Transport); use #transport=tcp',
      );
    }
    throw err;
  }
}

/** The response when it is 2xx, else RtspStatusError naming the method and status. */
export function ok(res: RtspResponse, method: string, label: string): RtspResponse {
  if (res.status >= 200 && res.status < 300) return res;
  throw RtspStatusError.of(label, method, res.status, res.reason);
}

function absolute(url: string | undefined): string | undefined {
  return url && /^rtsps?:\/\//i.test(url.trim()) ? url.trim() : undefined;
}
