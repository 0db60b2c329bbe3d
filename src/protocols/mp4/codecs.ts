/**
 * Codecs of the MP4 outputs (MSE, HLS, MP4 download): which mediagate codecs fMP4 can carry, the
 * requests a browser's codec list (`avc1.640029,hvc1.1.6.L153.B0,mp4a.40.2,opus`) stands for, and
 * the RFC 6381 codec string and decoder configuration of a track. Pure.
 */
import { aacCodecString, aacConfigFromHex, parseAudioSpecificConfig } from '../../codecs/aac/index.ts';
import { h264CodecString, parseH264Sps } from '../../codecs/h264/index.ts';
import { h265CodecStringFromSps, parseH265Sps } from '../../codecs/h265/index.ts';
import type { MediaRequest } from '../../core/consumer.ts';
import { errorMessage, ParseError, UnsupportedError } from '../../core/errors.ts';
import type { Codec, CodecName } from '../../core/media.ts';
import { buildAvcC, buildHvcC } from '../../formats/mp4/index.ts';
import type { Mp4TrackInfo } from '../../formats/mp4/types.ts';

/** Video codecs the muxer carries, in the order a consumer prefers them. */
export const MP4_VIDEO: readonly Codec[] = [
  { name: 'H264', clockRate: 90000 },
  { name: 'H265', clockRate: 90000 },
];

/** Audio codecs the muxer carries (clock rate 0: any rate). */
export const MP4_AUDIO: readonly Codec[] = [
  { name: 'AAC', clockRate: 0 },
  { name: 'OPUS', clockRate: 48000 },
];

/** RFC 6381 prefixes of a browser's codec list and the codec each stands for. */
const PREFIXES: readonly [string, CodecName][] = [
  ['avc1', 'H264'],
  ['avc3', 'H264'],
  ['hvc1', 'H265'],
  ['hev1', 'H265'],
  ['mp4a.40', 'AAC'],
  ['opus', 'OPUS'],
];

/** Longest codec list a client may send, in characters. */
const MAX_CODEC_LIST = 2048;

/**
 * The requests for a client's comma-separated list of the codecs it can decode (what go2rtc's
 * player sends in its `mse` message). Unknown entries (`flac`, `vp09...`) are ignored. Without a
 * list (undefined or empty) everything MP4 carries is requested. A kind the client cannot decode
 * is not requested at all.
 */
export function requestsForCodecList(list: unknown): MediaRequest[] {
  if (list === undefined || list === null || list === '') {
    return [
      { kind: 'video', codecs: [...MP4_VIDEO] },
      { kind: 'audio', codecs: [...MP4_AUDIO] },
    ];
  }
  if (typeof list !== 'string' || list.length > MAX_CODEC_LIST) {
    throw new UnsupportedError(`codec list must be a string of at most ${MAX_CODEC_LIST} characters`);
  }
  const names: CodecName[] = [];
  for (const entry of list.split(',')) {
    const token = entry.trim().toLowerCase();
    const hit = PREFIXES.find(([prefix]) => token === prefix || token.startsWith(`${prefix}.`));
    if (hit && !names.includes(hit[1])) names.push(hit[1]);
  }
  const pick = (all: readonly Codec[]) =>
    names.flatMap((n) => all.filter((c) => c.name === n)).map((c) => ({ ...c }));
  const out: MediaRequest[] = [];
  const video = pick(MP4_VIDEO);
  const audio = pick(MP4_AUDIO);
  if (video.length > 0) out.push({ kind: 'video', codecs: video });
  if (audio.length > 0) out.push({ kind: 'audio', codecs: audio });
  if (out.length === 0) {
    throw new UnsupportedError(
      `codecs not matched: the client supports none of H264, H265, AAC, OPUS (it sent "${list.slice(0, 120)}")`,
    );
  }
  return out;
}

/** Parameter sets of a video track (NAL units with header, no start code or length). */
export interface VideoParams {
  vps?: Buffer;
  sps?: Buffer;
  pps?: Buffer;
}

/** A track ready for the muxer: its init-segment description and RFC 6381 codec string. */
export interface TrackConfig {
  info: Mp4TrackInfo;
  /** `avc1.4d401e`, `hvc1.1.6.L93.B0`, `mp4a.40.2`, `opus`. */
  codecString: string;
  /** Identifies the configuration: equal keys give byte-identical init segments. */
  key: string;
}

/**
 * The configuration of a video track from its parameter sets, or undefined while one is missing
 * (H.264 needs SPS and PPS, H.265 VPS, SPS and PPS). Width and height come from the SPS. Throws
 * UnsupportedError when the parameter sets are malformed.
 */
export function videoConfig(id: number, codec: Codec, p: VideoParams): TrackConfig | undefined {
  try {
    if (codec.name === 'H264') {
      if (!p.sps || !p.pps) return undefined;
      const sps = parseH264Sps(p.sps);
      const avcC = buildAvcC([p.sps], [p.pps]);
      const info = { id, codec, timescale: codec.clockRate, width: sps.width, height: sps.height, avcC };
      return { info, codecString: h264CodecString(p.sps), key: `${id}:avcC:${avcC.toString('base64')}` };
    }
    if (codec.name === 'H265') {
      if (!p.vps || !p.sps || !p.pps) return undefined;
      const sps = parseH265Sps(p.sps);
      const hvcC = buildHvcC([p.vps], [p.sps], [p.pps]);
      const info = { id, codec, timescale: codec.clockRate, width: sps.width, height: sps.height, hvcC };
      return {
        info,
        codecString: h265CodecStringFromSps(p.sps),
        key: `${id}:hvcC:${hvcC.toString('base64')}`,
      };
    }
  } catch (err) {
    throw new UnsupportedError(`${codec.name} track ${id}: bad parameter sets (${errorMessage(err)})`);
  }
  throw new UnsupportedError(`codec ${codec.name} cannot be carried in MP4`);
}

/**
 * The configuration of an audio track (AAC from fmtp `config`, Opus from its channel count).
 * Throws UnsupportedError for AAC without a valid `config` and for codecs MP4 cannot carry here.
 */
export function audioConfig(id: number, codec: Codec): TrackConfig {
  if (codec.name === 'OPUS') {
    const channels = codec.channels ?? 2;
    const info = { id, codec: { ...codec, channels }, timescale: 48000 };
    return { info, codecString: 'opus', key: `${id}:opus:${channels}` };
  }
  if (codec.name === 'AAC') {
    const hex = codec.fmtp?.['config'];
    if (!hex) throw new UnsupportedError(`AAC track ${id}: no AudioSpecificConfig (fmtp config)`);
    try {
      const asc = aacConfigFromHex(hex);
      const parsed = parseAudioSpecificConfig(asc);
      const info = { id, codec, timescale: codec.clockRate, audioSpecificConfig: asc };
      return { info, codecString: aacCodecString(parsed), key: `${id}:aac:${hex}:${codec.channels ?? 0}` };
    } catch (err) {
      if (err instanceof ParseError)
        throw new UnsupportedError(`AAC track ${id}: bad config "${hex}" (${err.message})`);
      throw err;
    }
  }
  throw new UnsupportedError(`codec ${codec.name} cannot be carried in MP4`);
}

/** `video/mp4; codecs="avc1.4d401e,opus"`; `audio/mp4` when there is no video. */
export function mimeType(configs: readonly TrackConfig[], hasVideo: boolean): string {
  return `${hasVideo ? 'video' : 'audio'}/mp4; codecs="${configs.map((c) => c.codecString).join(',')}"`;
}
