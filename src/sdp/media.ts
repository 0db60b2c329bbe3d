/**
 * Conversions between SDP and the engine's `Media`/`Codec` model.
 *
 * Direction conventions differ by protocol, so the caller says which one applies:
 * - RTSP (`perspective: 'client'`, the default): ONVIF and the cameras that follow it (Hikvision,
 *   Dahua, Amcrest) write the attribute from the client's side: `a=recvonly` on the tracks the
 *   camera sends, `a=sendonly` on the audio back channel. The value is taken as the gateway's
 *   direction as-is; a missing attribute means the camera sends (`recvonly`).
 * - WebRTC (`perspective: 'peer'`, RFC 3264): the attribute is the author's side, so it is mirrored
 *   (`a=recvonly` in a browser offer = the gateway sends), and a missing attribute is `sendrecv`.
 */
import { BadRequestError } from '../core/errors.ts';
import type { Codec, CodecName, Direction, Media, MediaKind } from '../core/media.ts';
import { formatFmtpParams, formatRtpmap, getAttribute } from './attributes.ts';
import { resolveControl } from './control.ts';
import { parseSdp } from './parse.ts';
import { serializeSdp } from './serialize.ts';
import type { SdpDirection, SdpMediaDescription, SdpRtpmap, SessionDescription } from './types.ts';
import { viewMedia, viewSession } from './view.ts';

/** RFC 3551 §6 static payload types the engine has codecs for; used when `a=rtpmap` is missing. */
const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, Omit<SdpRtpmap, 'payloadType'>> = new Map([
  [0, { encoding: 'PCMU', clockRate: 8000, channels: 1 }],
  [8, { encoding: 'PCMA', clockRate: 8000, channels: 1 }],
  [10, { encoding: 'L16', clockRate: 44100, channels: 2 }],
  [11, { encoding: 'L16', clockRate: 44100, channels: 1 }],
  [26, { encoding: 'JPEG', clockRate: 90000 }],
]);

/** Wire encoding names (upper case) -> engine codec names. */
const ENCODINGS: ReadonlyMap<string, CodecName> = new Map([
  ['H264', 'H264'],
  ['H265', 'H265'],
  ['HEVC', 'H265'],
  ['MPEG4-GENERIC', 'AAC'],
  ['OPUS', 'OPUS'],
  ['PCMA', 'PCMA'],
  ['PCMU', 'PCMU'],
  ['L16', 'L16'],
  ['JPEG', 'JPEG'],
]);

const FIRST_DYNAMIC_PT = 96;
const LAST_DYNAMIC_PT = 127;
const OPUS_RTPMAP_CHANNELS = 2; // RFC 7587 §7: always `opus/48000/2`

export interface SdpToMediasOptions {
  /** Whose side the direction attributes describe; see the file comment. Default `client`. */
  perspective?: 'client' | 'peer';
  /** When set, `Media.id` is the control URL resolved against this base (RTSP Content-Base). */
  base?: string;
}

/**
 * The video and audio sections of a description as `Media`, in order. Skipped: other kinds
 * (`application`, ONVIF metadata), `inactive` sections, sections rejected with port 0 in the `peer`
 * perspective (port 0 is normal in RTSP), codecs the engine does not know (VP8, rtx, red,
 * telephone-event, ...) and sections left without codecs. `Media.id` is the control or else the mid.
 */
export function sdpToMedias(
  input: SessionDescription | string | Uint8Array,
  options: SdpToMediasOptions = {},
): Media[] {
  const sdp = typeof input === 'string' || input instanceof Uint8Array ? parseSdp(input) : input;
  const perspective = options.perspective ?? 'client';
  const session = viewSession(sdp);
  const medias: Media[] = [];
  for (const md of sdp.medias) {
    const kind = md.kind.toLowerCase();
    if (kind !== 'video' && kind !== 'audio') continue;
    if (perspective === 'peer' && md.port === 0 && getAttribute(md.attributes, 'bundle-only') === undefined)
      continue;
    const view = viewMedia(md, session);
    const direction = toDirection(view.direction, perspective);
    if (!direction) continue;
    const codecs = codecsOf(view.payloadTypes, view.rtpmaps, view.fmtps, kind);
    if (codecs.length === 0) continue;
    const media: Media = { kind, direction, codecs };
    const id =
      options.base !== undefined ? resolveControl(options.base, view.control, session.control) : view.control;
    if (id !== undefined) media.id = id;
    else if (view.mid !== undefined) media.id = view.mid;
    medias.push(media);
  }
  return medias;
}

function toDirection(dir: SdpDirection | undefined, perspective: 'client' | 'peer'): Direction | undefined {
  if (dir === 'inactive') return undefined;
  if (perspective === 'client') return dir ?? 'recvonly';
  if (dir === 'sendonly') return 'recvonly';
  if (dir === 'recvonly') return 'sendonly';
  return 'sendrecv';
}

function codecsOf(
  payloadTypes: number[],
  rtpmaps: Map<number, SdpRtpmap>,
  fmtps: Map<number, Record<string, string>>,
  kind: MediaKind,
): Codec[] {
  const codecs: Codec[] = [];
  for (const pt of payloadTypes) {
    const map = rtpmaps.get(pt) ?? STATIC_PAYLOAD_TYPES.get(pt);
    const name = map && ENCODINGS.get(map.encoding);
    if (!map || !name) continue;
    const codec: Codec = { name, clockRate: map.clockRate, payloadType: pt };
    if (kind === 'audio') codec.channels = map.channels ?? 1;
    const fmtp = fmtps.get(pt);
    if (fmtp && Object.keys(fmtp).length > 0) codec.fmtp = { ...fmtp };
    codecs.push(codec);
  }
  return codecs;
}

export interface MediasToSdpOptions {
  /** The `o=` address (the gateway's). Default `0.0.0.0`. */
  address?: string;
  /** `s=`. Default `mediagate`. */
  sessionName?: string;
  /** `o=` session id (decimal text). Default `0`. */
  sessionId?: string;
}

/**
 * The body of an RTSP DESCRIBE answer for `medias` as seen from the gateway. Each section gets
 * `a=control:<Media.id>` (default `trackID=<index>`), an `a=rtpmap` and an `a=fmtp` per codec.
 * Payload types: `Codec.payloadType`, else the static one (PCMU, PCMA, JPEG), else 96 and up.
 * Throws `BadRequestError` when a section has more codecs than free dynamic payload types.
 * Direction uses the RTSP convention (client's side): sections the gateway sends carry no
 * attribute, a back channel the gateway receives carries `a=sendonly`.
 */
export function mediasToSdp(medias: readonly Media[], options: MediasToSdpOptions = {}): string {
  const address = options.address ?? '0.0.0.0';
  const addrType = address.includes(':') ? 'IP6' : 'IP4';
  const sdp: SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      sessionId: options.sessionId ?? '0',
      sessionVersion: '0',
      netType: 'IN',
      addrType,
      address,
    },
    sessionName: options.sessionName ?? 'mediagate',
    emails: [],
    phones: [],
    connection: { netType: 'IN', addrType: 'IP4', address: '0.0.0.0' },
    bandwidths: [],
    timings: [{ start: '0', stop: '0', repeats: [] }],
    attributes: [],
    medias: medias.map(mediaToSection),
  };
  return serializeSdp(sdp);
}

function mediaToSection(media: Media, index: number): SdpMediaDescription {
  const md: SdpMediaDescription = {
    kind: media.kind,
    port: 0,
    protocol: 'RTP/AVP',
    formats: [],
    connections: [],
    bandwidths: [],
    attributes: [{ key: 'control', value: media.id ?? `trackID=${index}` }],
  };
  if (media.direction === 'recvonly') md.attributes.push({ key: 'sendonly' });
  else if (media.direction === 'sendrecv') md.attributes.push({ key: 'sendrecv' });
  const used = new Set(media.codecs.map((c) => c.payloadType).filter((pt) => pt !== undefined));
  let next = FIRST_DYNAMIC_PT;
  for (const codec of media.codecs) {
    let pt = codec.payloadType ?? staticPayloadType(codec);
    if (pt === undefined) {
      while (used.has(next)) next++;
      if (next > LAST_DYNAMIC_PT)
        throw new BadRequestError(`sdp: no free dynamic payload type for ${codec.name} in ${media.kind}`);
      pt = next;
      used.add(pt);
    }
    md.formats.push(String(pt));
    md.attributes.push({ key: 'rtpmap', value: rtpmapOf(codec, pt) });
    if (codec.fmtp && Object.keys(codec.fmtp).length > 0) {
      md.attributes.push({ key: 'fmtp', value: `${pt} ${formatFmtpParams(codec.fmtp)}` });
    }
  }
  return md;
}

function staticPayloadType(codec: Codec): number | undefined {
  const channels = codec.channels ?? 1;
  for (const [pt, map] of STATIC_PAYLOAD_TYPES) {
    if (ENCODINGS.get(map.encoding) === codec.name && map.clockRate === codec.clockRate) {
      if ((map.channels ?? 1) === channels || codec.name === 'JPEG') return pt;
    }
  }
  return undefined;
}

function rtpmapOf(codec: Codec, pt: number): string {
  switch (codec.name) {
    case 'AAC':
      return formatRtpmap(pt, 'MPEG4-GENERIC', codec.clockRate, codec.channels ?? 1);
    case 'OPUS':
      return formatRtpmap(pt, 'opus', codec.clockRate, OPUS_RTPMAP_CHANNELS);
    default: {
      const channels = codec.channels !== undefined && codec.channels > 1 ? codec.channels : undefined;
      return formatRtpmap(pt, codec.name, codec.clockRate, channels);
    }
  }
}
