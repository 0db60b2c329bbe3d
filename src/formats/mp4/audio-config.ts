/**
 * Audio decoder configuration in MP4: the MPEG-4 `esds` ES_Descriptor around the AAC
 * AudioSpecificConfig (ISO/IEC 14496-1 7.2.6, ISO/IEC 14496-14 5.6, ISO/IEC 14496-3 1.6.2.1) and
 * the Opus `dOps` box (Encapsulation of Opus in ISO Base Media File Format, 4.3.2).
 */
import { BadRequestError, ParseError } from '../../core/errors.ts';
import { u8, u16, u32 } from './box-writer.ts';

const ESDS_WHAT = 'mp4 esds';
const TAG_ES = 0x03;
const TAG_DECODER_CONFIG = 0x04;
const TAG_DECODER_SPECIFIC = 0x05;
const TAG_SL_CONFIG = 0x06;
/** A descriptor size is 1 to 4 bytes of 7 bits each; the high bit says another byte follows. */
const SIZE_MAX_BYTES = 4;
const SIZE_MORE = 0x80;
const SIZE_BITS = 0x7f;
const ES_FLAG_DEPENDS_ON = 0x80;
const ES_FLAG_URL = 0x40;
const ES_FLAG_OCR = 0x20;
/** objectTypeIndication(8) streamType/upStream(8) bufferSizeDB(24) maxBitrate(32) avgBitrate(32). */
const DECODER_CONFIG_FIXED_SIZE = 13;
/** objectTypeIndication 0x40: Audio ISO/IEC 14496-3 (AAC). */
export const OBJECT_TYPE_AAC = 0x40;
/** streamType 5 (AudioStream) << 2 | reserved 1. */
const STREAM_TYPE_AUDIO = 0x15;
/** SLConfigDescriptor predefined = 2 (reserved for MP4 files). */
const SL_PREDEFINED_MP4 = 2;

const ASC_WHAT = 'aac AudioSpecificConfig';
const AOT_ESCAPE = 31;
const AOT_ESCAPE_BASE = 32;
const FREQ_INDEX_EXPLICIT = 0x0f;
/** ISO/IEC 14496-3 Table 1.18, samplingFrequencyIndex to Hz. */
const SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];
/** channelConfiguration to channel count (Table 1.19); 0 means "in the program config element". */
const CHANNELS_BY_CONFIG = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 0, 8, 0];

const DOPS_WHAT = 'mp4 dOps';
/** Version(8) OutputChannelCount(8) PreSkip(16) InputSampleRate(32) OutputGain(16) ChannelMappingFamily(8). */
const DOPS_SIZE = 11;
const DOPS_CHANNELS = 1;
const DOPS_PRE_SKIP = 2;
const DOPS_INPUT_RATE = 4;
const DOPS_FAMILY = 10;
const OPUS_RATE = 48000;
const OPUS_MAX_FAMILY0_CHANNELS = 2;

/** The AAC parameters that matter for timing and SDP. */
export interface AacConfig {
  /** audioObjectType, e.g. 2 = AAC LC. */
  objectType: number;
  /** Core sampling frequency in Hz. */
  sampleRate: number;
  /** Channel count; 0 when given by a program config element. */
  channels: number;
}

/** A parsed dOps. */
export interface OpusConfig {
  channels: number;
  /** Samples at 48 kHz to drop from the decoder output at the start. */
  preSkip: number;
  /** Sample rate of the original input in Hz (informational). */
  inputSampleRate: number;
  mappingFamily: number;
}

/** Reads a descriptor tag and size at `offset`; returns [tag, payload start, payload end]. */
function readDescriptor(buf: Buffer, offset: number, end: number): [number, number, number] {
  ParseError.need(ESDS_WHAT, buf, offset, 1, 'descriptor tag');
  const tag = buf[offset++];
  let size = 0;
  for (let i = 0; ; i++) {
    if (i === SIZE_MAX_BYTES) throw new ParseError(ESDS_WHAT, 'descriptor size longer than 4 bytes', offset);
    ParseError.need(ESDS_WHAT, buf, offset, 1, 'descriptor size');
    const b = buf[offset++];
    size = size * 128 + (b & SIZE_BITS);
    if (!(b & SIZE_MORE)) break;
  }
  if (offset + size > end)
    throw new ParseError(ESDS_WHAT, `descriptor 0x${tag.toString(16)} runs past its parent`, offset);
  return [tag, offset, offset + size];
}

/** Finds the first descriptor with `tag` among those from `offset` to `end`. */
function findDescriptor(buf: Buffer, offset: number, end: number, tag: number): [number, number] | undefined {
  while (offset < end) {
    const [t, start, stop] = readDescriptor(buf, offset, end);
    if (t === tag) return [start, stop];
    offset = stop;
  }
  return undefined;
}

/**
 * Parses the ES_Descriptor that follows the esds version/flags; returns the objectTypeIndication and
 * the DecoderSpecificInfo bytes (the AudioSpecificConfig for AAC), a view into `buf`.
 */
export function parseEsds(buf: Buffer): { objectType: number; decoderSpecificInfo: Buffer } {
  const es = findDescriptor(buf, 0, buf.length, TAG_ES);
  if (!es) throw new ParseError(ESDS_WHAT, 'no ES_Descriptor', 0);
  let [offset] = es;
  const esEnd = es[1];
  ParseError.need(ESDS_WHAT, buf, offset, 3, 'ES_ID and flags');
  const flags = buf[offset + 2];
  offset += 3;
  if (flags & ES_FLAG_DEPENDS_ON) offset += 2;
  if (flags & ES_FLAG_URL) {
    ParseError.need(ESDS_WHAT, buf, offset, 1, 'URL length');
    offset += 1 + buf[offset];
  }
  if (flags & ES_FLAG_OCR) offset += 2;
  if (offset > esEnd) throw new ParseError(ESDS_WHAT, 'ES_Descriptor optional fields run past it', offset);
  const dc = findDescriptor(buf, offset, esEnd, TAG_DECODER_CONFIG);
  if (!dc) throw new ParseError(ESDS_WHAT, 'no DecoderConfigDescriptor', offset);
  ParseError.need(ESDS_WHAT, buf, dc[0], DECODER_CONFIG_FIXED_SIZE, 'DecoderConfigDescriptor');
  if (dc[0] + DECODER_CONFIG_FIXED_SIZE > dc[1])
    throw new ParseError(ESDS_WHAT, 'DecoderConfigDescriptor too short', dc[0]);
  const dsi = findDescriptor(buf, dc[0] + DECODER_CONFIG_FIXED_SIZE, dc[1], TAG_DECODER_SPECIFIC);
  return {
    objectType: buf[dc[0]],
    decoderSpecificInfo: dsi ? buf.subarray(dsi[0], dsi[1]) : Buffer.alloc(0),
  };
}

function descriptor(tag: number, ...parts: Buffer[]): Buffer {
  const payload = Buffer.concat(parts);
  const sizeBytes: number[] = [];
  let n = payload.length;
  do {
    sizeBytes.unshift(n & SIZE_BITS);
    n = Math.floor(n / 128);
  } while (n > 0);
  for (let i = 0; i < sizeBytes.length - 1; i++) sizeBytes[i] |= SIZE_MORE;
  return Buffer.concat([u8(tag, ...sizeBytes), payload]);
}

/** The ES_Descriptor for an AAC track (the esds payload after version/flags); bitrates written as 0 (unknown). */
export function buildEsDescriptor(audioSpecificConfig: Buffer): Buffer {
  const decoderConfig = descriptor(
    TAG_DECODER_CONFIG,
    u8(OBJECT_TYPE_AAC, STREAM_TYPE_AUDIO, 0, 0, 0),
    u32(0, 0),
    descriptor(TAG_DECODER_SPECIFIC, audioSpecificConfig),
  );
  return descriptor(TAG_ES, u16(0), u8(0), decoderConfig, descriptor(TAG_SL_CONFIG, u8(SL_PREDEFINED_MP4)));
}

/** Parses the start of an AudioSpecificConfig: object type, sampling frequency and channels. */
export function parseAudioSpecificConfig(asc: Buffer): AacConfig {
  let bit = 0;
  const read = (n: number): number => {
    if (bit + n > asc.length * 8)
      throw new ParseError(ASC_WHAT, `needs ${Math.ceil((bit + n) / 8)} bytes, has ${asc.length}`, 0);
    let v = 0;
    for (let i = 0; i < n; i++, bit++) v = v * 2 + ((asc[bit >> 3] >> (7 - (bit & 7))) & 1);
    return v;
  };
  let objectType = read(5);
  if (objectType === AOT_ESCAPE) objectType = AOT_ESCAPE_BASE + read(6);
  const index = read(4);
  const sampleRate = index === FREQ_INDEX_EXPLICIT ? read(24) : SAMPLE_RATES[index];
  if (!sampleRate) throw new ParseError(ASC_WHAT, `sampling frequency index ${index} is reserved`, 0);
  return { objectType, sampleRate, channels: CHANNELS_BY_CONFIG[read(4)] };
}

/** Parses an OpusSpecificBox payload (the body of `dOps`). */
export function parseDOps(buf: Buffer): OpusConfig {
  ParseError.need(DOPS_WHAT, buf, 0, DOPS_SIZE, 'payload');
  if (buf[0] !== 0) throw new ParseError(DOPS_WHAT, `version ${buf[0]} is not 0`, 0);
  return {
    channels: buf[DOPS_CHANNELS],
    preSkip: buf.readUInt16BE(DOPS_PRE_SKIP),
    inputSampleRate: buf.readUInt32BE(DOPS_INPUT_RATE),
    mappingFamily: buf[DOPS_FAMILY],
  };
}

/**
 * An OpusSpecificBox payload for mono or stereo (channel mapping family 0), output gain 0.
 * `preSkip` is in 48 kHz samples (default 0: RTP sources do not carry it).
 */
export function buildDOps(channels: number, preSkip = 0): Buffer {
  if (!Number.isInteger(channels) || channels < 1 || channels > OPUS_MAX_FAMILY0_CHANNELS) {
    throw new BadRequestError(`dOps can only be built for 1 or 2 channels, not ${channels}; pass dOps`);
  }
  return Buffer.concat([u8(0, channels), u16(preSkip), u32(OPUS_RATE), u16(0), u8(0)]);
}
