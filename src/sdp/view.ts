/**
 * Typed views over a parsed description: what the RTSP and WebRTC code reads, without each of them
 * re-parsing attribute strings. Views are computed on demand and do not alias the description.
 */
import {
  getAttribute,
  getAttributes,
  getDirection,
  parseCandidate,
  parseExtmap,
  parseFingerprint,
  parseFmtp,
  parseGroup,
  parsePayloadType,
  parseRtcpFb,
  parseRtpmap,
  parseSetup,
  parseSsrc,
  parseSsrcGroup,
} from './attributes.ts';
import type {
  MediaView,
  SdpAttribute,
  SdpFingerprint,
  SdpMediaDescription,
  SdpRtpmap,
  SessionDescription,
  SessionView,
} from './types.ts';

/** Session-level facts: groups (BUNDLE), ICE-lite, control, direction, ICE and DTLS parameters. */
export function viewSession(sdp: SessionDescription): SessionView {
  const a = sdp.attributes;
  const groups = defined(getAttributes(a, 'group').map(parseGroup));
  const view: SessionView = {
    groups,
    bundle: groups.find((g) => g.semantics.toUpperCase() === 'BUNDLE')?.mids ?? [],
    iceLite: getAttribute(a, 'ice-lite') !== undefined,
    iceOptions: iceOptions(a),
    fingerprints: fingerprints(a),
  };
  assign(view, 'control', getAttribute(a, 'control'));
  assign(view, 'direction', getDirection(a));
  assign(view, 'iceUfrag', getAttribute(a, 'ice-ufrag'));
  assign(view, 'icePwd', getAttribute(a, 'ice-pwd'));
  assign(view, 'setup', parseOptional(getAttribute(a, 'setup'), parseSetup));
  return view;
}

/**
 * One media section, with session-level ICE credentials, fingerprints, setup and direction as
 * fall-backs. Pass `session` (from `viewSession`) to avoid recomputing it for each section.
 */
export function viewMedia(media: SdpMediaDescription, session?: SessionView): MediaView {
  const a = media.attributes;
  const rtpmaps = new Map<number, SdpRtpmap>();
  for (const v of getAttributes(a, 'rtpmap')) {
    const map = parseRtpmap(v);
    if (map && !rtpmaps.has(map.payloadType)) rtpmaps.set(map.payloadType, map);
  }
  const fmtps = new Map<number, Record<string, string>>();
  for (const v of getAttributes(a, 'fmtp')) {
    const f = parseFmtp(v);
    if (f) fmtps.set(f.payloadType, { ...fmtps.get(f.payloadType), ...f.params });
  }
  const fps = fingerprints(a);
  const view: MediaView = {
    kind: media.kind,
    port: media.port,
    protocol: media.protocol,
    formats: [...media.formats],
    payloadTypes: defined(media.formats.map(parsePayloadType)),
    rtpmaps,
    fmtps,
    fingerprints: fps.length > 0 ? fps : (session?.fingerprints ?? []),
    candidates: defined(getAttributes(a, 'candidate').map(parseCandidate)),
    endOfCandidates: getAttribute(a, 'end-of-candidates') !== undefined,
    rtcpMux: getAttribute(a, 'rtcp-mux') !== undefined,
    rtcpRsize: getAttribute(a, 'rtcp-rsize') !== undefined,
    rtcpFb: defined(getAttributes(a, 'rtcp-fb').map(parseRtcpFb)),
    extmaps: defined(getAttributes(a, 'extmap').map(parseExtmap)),
    ssrcs: defined(getAttributes(a, 'ssrc').map(parseSsrc)),
    ssrcGroups: defined(getAttributes(a, 'ssrc-group').map(parseSsrcGroup)),
  };
  assign(view, 'control', getAttribute(a, 'control'));
  assign(view, 'mid', getAttribute(a, 'mid'));
  assign(view, 'direction', getDirection(a) ?? session?.direction);
  assign(view, 'iceUfrag', getAttribute(a, 'ice-ufrag') ?? session?.iceUfrag);
  assign(view, 'icePwd', getAttribute(a, 'ice-pwd') ?? session?.icePwd);
  assign(view, 'setup', parseOptional(getAttribute(a, 'setup'), parseSetup) ?? session?.setup);
  assign(view, 'msid', getAttribute(a, 'msid'));
  return view;
}

/** Views of every media section, in order. */
export function viewMedias(sdp: SessionDescription): MediaView[] {
  const session = viewSession(sdp);
  return sdp.medias.map((m) => viewMedia(m, session));
}

function fingerprints(attrs: readonly SdpAttribute[]): SdpFingerprint[] {
  return defined(getAttributes(attrs, 'fingerprint').map(parseFingerprint));
}

function iceOptions(attrs: readonly SdpAttribute[]): string[] {
  return getAttributes(attrs, 'ice-options').flatMap((v) => v.split(/\s+/).filter((o) => o !== ''));
}

function parseOptional<T>(value: string | undefined, parse: (v: string) => T | undefined): T | undefined {
  return value === undefined ? undefined : parse(value);
}

function defined<T>(values: (T | undefined)[]): T[] {
  return values.filter((v): v is T => v !== undefined);
}

/** Sets an optional field only when there is a value, so views compare equal with `deepEqual`. */
function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}
