/**
 * MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1), the AAC decoder configuration carried in
 * SDP (`config=1190`), in MP4 `esds` and in FLV; plus the RFC 6381 codec string (`mp4a.40.2`).
 *
 *   audioObjectType (5) [if 31: 32 + audioObjectTypeExt (6)]
 *   samplingFrequencyIndex (4) [if 15: samplingFrequency (24)]
 *   channelConfiguration (4)
 *   [if object type 5 or 29 (SBR, PS): extensionSamplingFrequencyIndex (4) [(24)], audioObjectType (5 [+6])]
 *   GASpecificConfig: frameLengthFlag (1) | dependsOnCoreCoder (1) [...] | extensionFlag (1) ...
 */
import { BadRequestError, ParseError } from '../../core/errors.ts';
import { BitReader } from '../bit-reader.ts';
import { BitWriter } from '../bit-writer.ts';

const WHAT = 'AudioSpecificConfig';
/** Sampling frequencies by samplingFrequencyIndex 0..12 (Table 1.18), in Hz. */
export const AAC_SAMPLE_RATES: readonly number[] = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];
/** samplingFrequencyIndex that announces an explicit 24-bit rate. */
export const EXPLICIT_FREQUENCY_INDEX = 15;
const OBJECT_TYPE_ESCAPE = 31;
const OBJECT_TYPE_ESCAPE_BASE = 32;
const MAX_OBJECT_TYPE = OBJECT_TYPE_ESCAPE_BASE + 63;
/** Object types that announce SBR (HE-AAC) and PS (HE-AAC v2) explicitly (1.6.5.2). */
const OBJECT_TYPE_SBR = 5;
const OBJECT_TYPE_PS = 29;
/** Object types whose config starts with GASpecificConfig (and so with frameLengthFlag). */
const GA_OBJECT_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);
const OBJECT_TYPE_ER_AAC_LD = 23;
const OBJECT_TYPE_ER_BSAC = 22;
/** Output samples per frame, by frameLengthFlag. */
const FRAME_LENGTH = 1024;
const FRAME_LENGTH_SHORT = 960;
const LD_FRAME_LENGTH = 512;
const LD_FRAME_LENGTH_SHORT = 480;
/** Channel count by channelConfiguration (Table 1.19 and ISO/IEC 23001-8); 0 = in the PCE. */
const CHANNELS: Readonly<Record<number, number>> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  6: 6,
  7: 8,
  11: 7,
  12: 8,
  13: 24,
  14: 8,
};

/** A parsed AudioSpecificConfig. */
export interface AudioSpecificConfig {
  /** Audio object type: 2 = AAC LC, 5 = SBR, 29 = PS; with explicit SBR/PS, the core type. */
  objectType: number;
  /** Core sampling rate in Hz. */
  sampleRate: number;
  /** channelConfiguration (0 = defined by a program config element). */
  channelConfig: number;
  /** Channel count, when `channelConfig` defines it. */
  channels?: number;
  /** Samples per frame of the core codec: 1024 or 960 (512 or 480 for AAC-LD). */
  frameLength: number;
  /** Output rate with SBR in Hz, when the config signals SBR explicitly. */
  extensionSampleRate?: number;
  /** True when the config signals parametric stereo (object type 29). */
  ps?: boolean;
}

function readObjectType(r: BitReader): number {
  const t = r.u(5, 'audioObjectType');
  return t === OBJECT_TYPE_ESCAPE ? OBJECT_TYPE_ESCAPE_BASE + r.u(6, 'audioObjectTypeExt') : t;
}

function readSampleRate(r: BitReader, field: string): number {
  const index = r.u(4, field);
  if (index === EXPLICIT_FREQUENCY_INDEX) {
    const rate = r.u(24, 'samplingFrequency');
    if (rate === 0) throw new ParseError(WHAT, 'explicit sampling frequency 0');
    return rate;
  }
  if (index >= AAC_SAMPLE_RATES.length) throw new ParseError(WHAT, `reserved ${field} ${index}`);
  return AAC_SAMPLE_RATES[index];
}

/** Parses an AudioSpecificConfig. Throws `ParseError` when it is truncated or uses reserved values. */
export function parseAudioSpecificConfig(buf: Uint8Array): AudioSpecificConfig {
  const r = new BitReader(WHAT, buf);
  let objectType = readObjectType(r);
  if (objectType === 0) throw new ParseError(WHAT, 'audioObjectType 0 (null object)');
  const sampleRate = readSampleRate(r, 'samplingFrequencyIndex');
  const channelConfig = r.u(4, 'channelConfiguration');
  const config: AudioSpecificConfig = { objectType, sampleRate, channelConfig, frameLength: FRAME_LENGTH };
  if (CHANNELS[channelConfig] !== undefined) config.channels = CHANNELS[channelConfig];
  if (objectType === OBJECT_TYPE_SBR || objectType === OBJECT_TYPE_PS) {
    if (objectType === OBJECT_TYPE_PS) config.ps = true;
    config.extensionSampleRate = readSampleRate(r, 'extensionSamplingFrequencyIndex');
    objectType = readObjectType(r);
    config.objectType = objectType;
    if (objectType === OBJECT_TYPE_ER_BSAC) r.skip(4, 'extensionChannelConfiguration');
  }
  if (GA_OBJECT_TYPES.has(objectType)) {
    const short = r.flag('frameLengthFlag');
    if (objectType === OBJECT_TYPE_ER_AAC_LD)
      config.frameLength = short ? LD_FRAME_LENGTH_SHORT : LD_FRAME_LENGTH;
    else config.frameLength = short ? FRAME_LENGTH_SHORT : FRAME_LENGTH;
  }
  return config;
}

/** What `buildAudioSpecificConfig` needs. */
export interface AudioSpecificConfigInit {
  /** 1..95; 2 = AAC LC. */
  objectType: number;
  /** Hz; rates outside `AAC_SAMPLE_RATES` are written explicitly (24 bits). */
  sampleRate: number;
  /** channelConfiguration 0..15. */
  channelConfig: number;
  /** 1024 (default) or 960; 512 or 480 for AAC-LD. */
  frameLength?: number;
}

/**
 * Builds an AudioSpecificConfig with a GASpecificConfig (frameLengthFlag, dependsOnCoreCoder 0,
 * extensionFlag 0) for GA object types. Throws `BadRequestError` for values out of range.
 */
export function buildAudioSpecificConfig(init: AudioSpecificConfigInit): Buffer {
  const { objectType, sampleRate, channelConfig } = init;
  if (!Number.isInteger(objectType) || objectType < 1 || objectType > MAX_OBJECT_TYPE) {
    throw new BadRequestError(`AAC object type ${objectType} out of range 1..${MAX_OBJECT_TYPE}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate >= 2 ** 24) {
    throw new BadRequestError(`AAC sample rate ${sampleRate} out of range`);
  }
  if (!Number.isInteger(channelConfig) || channelConfig < 0 || channelConfig > 15) {
    throw new BadRequestError(`AAC channel configuration ${channelConfig} out of range 0..15`);
  }
  const w = new BitWriter();
  if (objectType >= OBJECT_TYPE_ESCAPE) w.u(5, OBJECT_TYPE_ESCAPE).u(6, objectType - OBJECT_TYPE_ESCAPE_BASE);
  else w.u(5, objectType);
  const index = AAC_SAMPLE_RATES.indexOf(sampleRate);
  if (index >= 0) w.u(4, index);
  else w.u(4, EXPLICIT_FREQUENCY_INDEX).u(24, sampleRate);
  w.u(4, channelConfig);
  if (GA_OBJECT_TYPES.has(objectType)) {
    const frameLength =
      init.frameLength ?? (objectType === OBJECT_TYPE_ER_AAC_LD ? LD_FRAME_LENGTH : FRAME_LENGTH);
    w.u(1, frameLength === FRAME_LENGTH_SHORT || frameLength === LD_FRAME_LENGTH_SHORT ? 1 : 0);
    w.u(2, 0); // dependsOnCoreCoder, extensionFlag
  }
  return w.toBuffer();
}

/** RFC 6381 codec string (`mp4a.40.2`): object type indication 0x40 (MPEG-4 Audio) and the object type. */
export function aacCodecString(config: Pick<AudioSpecificConfig, 'objectType'>): string {
  return `mp4a.40.${config.objectType}`;
}
