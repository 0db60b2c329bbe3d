/**
 * The sample description box `stsd` (ISO/IEC 14496-12 8.5.2) of a track: its first sample entry
 * becomes a Codec plus the raw decoder configuration record.
 */
import { ParseError } from '../../core/errors.ts';
import type { Codec } from '../../core/media.ts';
import { parseAudioSpecificConfig, parseDOps, parseEsds } from './audio-config.ts';
import { h264Fmtp, h265Fmtp, parseAvcC, parseHvcC, withLengthSize4 } from './avc.ts';
import { type Box, findChild, need, readBoxes, readBoxHeader, readFullBoxHeader } from './box.ts';

/**
 * VisualSampleEntry fields (ISO/IEC 14496-12 12.1.3) from the SampleEntry header (reserved(48)
 * data_reference_index(16)) up to and including pre_defined = -1; child boxes follow.
 */
const VISUAL_ENTRY_SIZE = 78;
const VISUAL_WIDTH = 24;
const VISUAL_HEIGHT = 26;
/** AudioSampleEntry fields (12.2.3): version(16) ... channelcount(16) samplesize(16) ... samplerate(32). */
const AUDIO_ENTRY_SIZE = 28;
const AUDIO_VERSION = 8;
const AUDIO_CHANNELS = 16;
const AUDIO_SAMPLE_RATE = 24;
/** Extra fields of QuickTime sound sample description versions 1 and 2 (QTFF "Sound Sample Descriptions"). */
const QT_AUDIO_EXTRA = [0, 16, 36];
const VIDEO_CLOCK_RATE = 90000;
const OPUS_CLOCK_RATE = 48000;
const ESDS_MPEG4_AAC = 0x40;
const ESDS_MPEG2_AAC = [0x66, 0x67, 0x68];
const FIXED_16_16 = 16;
/** RFC 3640 3.3.6 AAC-hbr parameters, the ones every RTSP server sends. */
const AAC_HBR_FMTP = {
  streamtype: '5',
  'profile-level-id': '1',
  mode: 'AAC-hbr',
  sizelength: '13',
  indexlength: '3',
  indexdeltalength: '3',
};

/** What a supported sample entry says about its track. */
export interface SampleEntryInfo {
  codec: Codec;
  width?: number;
  height?: number;
  /** avcC rewritten to 4-byte NAL lengths. */
  avcC?: Buffer;
  /** hvcC rewritten to 4-byte NAL lengths. */
  hvcC?: Buffer;
  audioSpecificConfig?: Buffer;
  dOps?: Buffer;
  /** NAL length size of the samples in the file. */
  nalLengthSize?: number;
}

/**
 * Reads the first sample entry of `stsd`. Returns its four-character format and, when the codec is
 * supported (avc1/avc3, hvc1/hev1, mp4a with AAC, Opus), what it describes.
 */
export function readSampleEntry(
  buf: Buffer,
  stsd: Box,
  mdhdTimescale: number,
): { format: string; info?: SampleEntryInfo } {
  const { body } = readFullBoxHeader(buf, stsd);
  need(buf, stsd, body, 4, 'entry_count');
  if (buf.readUInt32BE(body) === 0) throw new ParseError('mp4 stsd', 'no sample entries', stsd.start);
  const entry = readBoxHeader(buf, body + 4, stsd.end);
  switch (entry.type) {
    case 'avc1':
    case 'avc3':
    case 'hvc1':
    case 'hev1':
      return { format: entry.type, info: readVisualEntry(buf, entry) };
    case 'mp4a':
      return { format: entry.type, info: readMp4aEntry(buf, entry, mdhdTimescale) };
    case 'Opus':
      return { format: entry.type, info: readOpusEntry(buf, entry) };
    default:
      return { format: entry.type };
  }
}

function readVisualEntry(buf: Buffer, entry: Box): SampleEntryInfo {
  need(buf, entry, entry.payload, VISUAL_ENTRY_SIZE, 'VisualSampleEntry');
  const width = buf.readUInt16BE(entry.payload + VISUAL_WIDTH);
  const height = buf.readUInt16BE(entry.payload + VISUAL_HEIGHT);
  const boxes = readBoxes(buf, entry.payload + VISUAL_ENTRY_SIZE, entry.end);
  const isAvc = entry.type === 'avc1' || entry.type === 'avc3';
  const configBox = boxes.find((b) => b.type === (isAvc ? 'avcC' : 'hvcC'));
  if (!configBox) throw new ParseError(`mp4 ${entry.type}`, `no ${isAvc ? 'avcC' : 'hvcC'}`, entry.start);
  const record = buf.subarray(configBox.payload, configBox.end);
  if (isAvc) {
    const config = parseAvcC(record);
    return {
      codec: { name: 'H264', clockRate: VIDEO_CLOCK_RATE, fmtp: h264Fmtp(config) },
      width,
      height,
      avcC: withLengthSize4(record, 'avcC'),
      nalLengthSize: config.nalLengthSize,
    };
  }
  const config = parseHvcC(record);
  return {
    codec: { name: 'H265', clockRate: VIDEO_CLOCK_RATE, fmtp: h265Fmtp(config) },
    width,
    height,
    hvcC: withLengthSize4(record, 'hvcC'),
    nalLengthSize: config.nalLengthSize,
  };
}

/** The children of an AudioSampleEntry and its channelcount / samplerate fields. */
function readAudioEntry(buf: Buffer, entry: Box): { boxes: Box[]; channels: number; sampleRate: number } {
  need(buf, entry, entry.payload, AUDIO_ENTRY_SIZE, 'AudioSampleEntry');
  const version = buf.readUInt16BE(entry.payload + AUDIO_VERSION);
  const extra = QT_AUDIO_EXTRA[version] ?? 0;
  need(buf, entry, entry.payload, AUDIO_ENTRY_SIZE + extra, `QuickTime v${version} sound description`);
  return {
    boxes: readBoxes(buf, entry.payload + AUDIO_ENTRY_SIZE + extra, entry.end),
    channels: buf.readUInt16BE(entry.payload + AUDIO_CHANNELS),
    sampleRate: buf.readUInt32BE(entry.payload + AUDIO_SAMPLE_RATE) >>> FIXED_16_16,
  };
}

/** An mp4a entry; undefined when its esds is not AAC (MP3, for example). */
function readMp4aEntry(buf: Buffer, entry: Box, mdhdTimescale: number): SampleEntryInfo | undefined {
  const audio = readAudioEntry(buf, entry);
  let esds = audio.boxes.find((b) => b.type === 'esds');
  // QuickTime puts esds inside a `wave` box.
  const wave = audio.boxes.find((b) => b.type === 'wave');
  if (!esds && wave) esds = findChild(buf, wave, 'esds');
  if (!esds) throw new ParseError('mp4 mp4a', 'no esds', entry.start);
  const { body } = readFullBoxHeader(buf, esds);
  const { objectType, decoderSpecificInfo: asc } = parseEsds(buf.subarray(body, esds.end));
  if (objectType !== ESDS_MPEG4_AAC && !ESDS_MPEG2_AAC.includes(objectType)) return undefined;
  const parsed = asc.length > 0 ? parseAudioSpecificConfig(asc) : undefined;
  const clockRate = parsed?.sampleRate || audio.sampleRate || mdhdTimescale;
  const channels = parsed?.channels || audio.channels;
  const fmtp: Record<string, string> = { ...AAC_HBR_FMTP };
  if (asc.length > 0) fmtp['config'] = asc.toString('hex');
  return { codec: { name: 'AAC', clockRate, channels, fmtp }, audioSpecificConfig: Buffer.from(asc) };
}

function readOpusEntry(buf: Buffer, entry: Box): SampleEntryInfo {
  const audio = readAudioEntry(buf, entry);
  const dOps = audio.boxes.find((b) => b.type === 'dOps');
  if (!dOps) throw new ParseError('mp4 Opus', 'no dOps', entry.start);
  const record = buf.subarray(dOps.payload, dOps.end);
  const config = parseDOps(record);
  return {
    codec: { name: 'OPUS', clockRate: OPUS_CLOCK_RATE, channels: config.channels || audio.channels },
    dOps: Buffer.from(record),
  };
}
