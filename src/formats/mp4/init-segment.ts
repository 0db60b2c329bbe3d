/**
 * The initialization segment of a fragmented MP4 (ISO/IEC 14496-12 8.8, as used by MSE and HLS
 * fMP4): ftyp + moov with empty sample tables and an mvex that announces the fragments.
 */
import { BadRequestError, ParseError, UnsupportedError } from '../../core/errors.ts';
import { isVideo } from '../../core/media.ts';
import { buildDOps, buildEsDescriptor, parseAudioSpecificConfig, parseDOps } from './audio-config.ts';
import { avcCFromFmtp, hvcCFromFmtp, parseAvcC, parseHvcC } from './avc.ts';
import { box, fourcc, fullBox, u16, u32, zeros } from './box-writer.ts';
import type { Mp4TrackInfo } from './types.ts';

/** ftyp as ffmpeg writes it for fragmented output: iso5/iso6 cover tfdt and signed trun offsets. */
const MAJOR_BRAND = 'iso5';
const MINOR_VERSION = 512;
const COMPATIBLE_BRANDS = ['iso5', 'iso6', 'mp41'];
/** mvhd timescale in units per second; durations are 0, so it only has to be valid. */
const MOVIE_TIMESCALE = 1000;
const FIXED_1_0 = 0x00010000;
const FIXED_8_8_1_0 = 0x0100;
/** Unity transformation matrix (8.2.2.3). */
const MATRIX = u32(FIXED_1_0, 0, 0, 0, FIXED_1_0, 0, 0, 0, 0x40000000);
/** tkhd flags: track_enabled | track_in_movie. */
const TKHD_FLAGS = 0x000003;
/** mdhd language 'und', packed as three 5-bit letters. */
const LANGUAGE_UND = 0x55c4;
/** dref `url ` flag: the media data is in this file. */
const URL_SELF_CONTAINED = 0x000001;
/** vmhd flags must be 1 (8.4.5.2). */
const VMHD_FLAGS = 0x000001;
const DATA_REFERENCE_INDEX = 1;
/** 72 dpi as 16.16 fixed point. */
const RESOLUTION_72_DPI = 0x00480000;
const COMPRESSOR_NAME_SIZE = 32;
const DEPTH_COLOUR = 0x0018;
const PRE_DEFINED_MINUS_1 = 0xffff;
const AUDIO_SAMPLE_SIZE = 16;
const MAX_16_16_RATE = 0xffff;
const OPUS_RATE = 48000;
const DOPS_CHANNELS = 1;
const DEFAULT_CHANNELS = 2;
const MAX_U32 = 0xffffffff;

/** The 8-byte SampleEntry header: reserved(48) data_reference_index(16). */
function sampleEntryHeader(): Buffer {
  return Buffer.concat([zeros(6), u16(DATA_REFERENCE_INDEX)]);
}

function visualSampleEntry(type: string, track: Mp4TrackInfo, config: Buffer): Buffer {
  return box(
    type,
    sampleEntryHeader(),
    zeros(16), // pre_defined, reserved, pre_defined[3]
    u16(track.width ?? 0, track.height ?? 0),
    u32(RESOLUTION_72_DPI, RESOLUTION_72_DPI, 0),
    u16(1), // frame_count
    zeros(COMPRESSOR_NAME_SIZE),
    u16(DEPTH_COLOUR, PRE_DEFINED_MINUS_1),
    config,
  );
}

function audioSampleEntry(type: string, channels: number, rate: number, config: Buffer): Buffer {
  // samplerate is 16.16 fixed point; rates above 65535 Hz do not fit and are written as 0.
  const fixedRate = rate > MAX_16_16_RATE ? 0 : rate * FIXED_1_0;
  return box(
    type,
    sampleEntryHeader(),
    zeros(8), // reserved (QuickTime version, revision, vendor)
    u16(channels, AUDIO_SAMPLE_SIZE),
    zeros(4), // pre_defined, reserved
    u32(fixedRate),
    config,
  );
}

/** Runs a record parser; a malformed record given by the caller is a BadRequestError, not a ParseError. */
function checkRecord<T>(track: Mp4TrackInfo, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ParseError)
      throw new BadRequestError(`mp4 track ${track.id}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The sample entry (avc1/avc3, hvc1/hev1, mp4a, Opus) with its decoder configuration box. */
function sampleEntry(track: Mp4TrackInfo): Buffer {
  const { codec } = track;
  switch (codec.name) {
    case 'H264': {
      const avcC = track.avcC ?? avcCFromFmtp(codec.fmtp);
      // Without parameter sets in the record they travel in-band, which avc3 announces.
      const type = checkRecord(track, () => parseAvcC(avcC)).sps.length > 0 ? 'avc1' : 'avc3';
      return visualSampleEntry(type, track, box('avcC', avcC));
    }
    case 'H265': {
      const hvcC = track.hvcC ?? hvcCFromFmtp(codec.fmtp);
      const type = checkRecord(track, () => parseHvcC(hvcC)).sps.length > 0 ? 'hvc1' : 'hev1';
      return visualSampleEntry(type, track, box('hvcC', hvcC));
    }
    case 'AAC': {
      const asc = track.audioSpecificConfig ?? Buffer.from(codec.fmtp?.['config'] ?? '', 'hex');
      if (asc.length === 0) {
        throw new BadRequestError(`mp4 track ${track.id}: AAC needs an AudioSpecificConfig`);
      }
      const config = checkRecord(track, () => parseAudioSpecificConfig(asc));
      const channels = codec.channels ?? (config.channels || DEFAULT_CHANNELS);
      const esds = fullBox('esds', 0, 0, buildEsDescriptor(asc));
      return audioSampleEntry('mp4a', channels, codec.clockRate, esds);
    }
    case 'OPUS': {
      const dOps = track.dOps ?? buildDOps(codec.channels ?? DEFAULT_CHANNELS);
      checkRecord(track, () => parseDOps(dOps));
      return audioSampleEntry('Opus', dOps[DOPS_CHANNELS] ?? DEFAULT_CHANNELS, OPUS_RATE, box('dOps', dOps));
    }
    default:
      throw new UnsupportedError(`mp4 track ${track.id}: codec ${codec.name} is not supported in MP4`);
  }
}

function trak(track: Mp4TrackInfo): Buffer {
  const video = isVideo(track.codec);
  const tkhd = fullBox(
    'tkhd',
    0,
    TKHD_FLAGS,
    u32(0, 0, track.id, 0, 0), // creation, modification, track_ID, reserved, duration
    zeros(8), // reserved
    u16(0, 0, video ? 0 : FIXED_8_8_1_0, 0), // layer, alternate_group, volume, reserved
    MATRIX,
    u32((track.width ?? 0) * FIXED_1_0, (track.height ?? 0) * FIXED_1_0),
  );
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, track.timescale, 0), u16(LANGUAGE_UND, 0));
  const hdlr = fullBox(
    'hdlr',
    0,
    0,
    u32(0),
    fourcc(video ? 'vide' : 'soun'),
    zeros(12),
    Buffer.from(video ? 'VideoHandler\0' : 'SoundHandler\0', 'latin1'),
  );
  const mediaHeader = video ? fullBox('vmhd', 0, VMHD_FLAGS, zeros(8)) : fullBox('smhd', 0, 0, zeros(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, URL_SELF_CONTAINED)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), sampleEntry(track)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', mediaHeader, dinf, stbl)));
}

function checkTrack(track: Mp4TrackInfo, ids: Set<number>): void {
  const bad = (what: string) => new BadRequestError(`mp4 track ${track.id}: ${what}`);
  if (!Number.isInteger(track.id) || track.id < 1 || track.id > MAX_U32) throw bad('id must be 1 to 2^32-1');
  if (ids.has(track.id)) throw bad('duplicate id');
  if (!Number.isInteger(track.timescale) || track.timescale < 1 || track.timescale > MAX_U32) {
    throw bad(`timescale ${track.timescale} must be a positive 32-bit integer`);
  }
  for (const [name, v] of [
    ['width', track.width],
    ['height', track.height],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > MAX_16_16_RATE)) throw bad(`${name} ${v}`);
  }
  ids.add(track.id);
}

/**
 * The initialization segment (ftyp + moov) for `tracks`, in the given order. Decoder configuration
 * comes from the raw records or `codec.fmtp` (see Mp4TrackInfo); an avcC / hvcC without SPS gives an
 * avc3 / hev1 entry (parameter sets in-band). Throws BadRequestError for an invalid track description
 * or a malformed record, and UnsupportedError for a codec MP4 cannot carry here (only H.264,
 * H.265, AAC and Opus are supported).
 */
export function initSegment(tracks: readonly Mp4TrackInfo[]): Buffer {
  if (tracks.length === 0) throw new BadRequestError('mp4 init segment needs at least one track');
  const ids = new Set<number>();
  for (const t of tracks) checkTrack(t, ids);
  const nextTrackId = Math.max(...ids) + 1;
  const ftyp = box('ftyp', fourcc(MAJOR_BRAND), u32(MINOR_VERSION), fourcc(...COMPATIBLE_BRANDS));
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    u32(0, 0, MOVIE_TIMESCALE, 0), // creation, modification, timescale, duration
    u32(FIXED_1_0), // rate 1.0
    u16(FIXED_8_8_1_0, 0), // volume 1.0, reserved
    zeros(8), // reserved
    MATRIX,
    zeros(24), // pre_defined
    u32(nextTrackId > MAX_U32 ? 0 : nextTrackId),
  );
  const trex = tracks.map((t) => fullBox('trex', 0, 0, u32(t.id, 1, 0, 0, 0)));
  const moov = box('moov', mvhd, ...tracks.map(trak), box('mvex', ...trex));
  return Buffer.concat([ftyp, moov]);
}
