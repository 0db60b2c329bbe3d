/**
 * ADTS headers (ISO/IEC 14496-3 1.A.2.2): the self-describing AAC framing of `.aac` files, MPEG-TS
 * and HLS. A header carries object type (2 bits), sampling index and channels for one frame.
 *
 *   syncword (12) = 0xFFF | ID (1) | layer (2) = 0 | protection_absent (1)
 *   profile_ObjectType (2) | sampling_frequency_index (4) | private_bit (1) | channel_configuration (3)
 *   original_copy (1) | home (1) | copyright_id_bit (1) | copyright_id_start (1)
 *   aac_frame_length (13, header included) | adts_buffer_fullness (11) | number_of_raw_data_blocks_in_frame (2)
 *   [crc_check (16) if protection_absent == 0]
 */
import { BadRequestError, ParseError } from '../../core/errors.ts';
import { BitReader } from '../bit-reader.ts';
import { BitWriter } from '../bit-writer.ts';
import { AAC_SAMPLE_RATES, type AudioSpecificConfig } from './config.ts';

const WHAT = 'ADTS';
/** Header size without CRC. */
export const ADTS_HEADER_SIZE = 7;
const ADTS_CRC_SIZE = 2;
const SYNC_WORD = 0xfff;
/** ID bit: 0 = MPEG-4. */
const ID_MPEG4 = 0;
const MAX_FRAME_LENGTH = 0x1fff;
const BUFFER_FULLNESS_VBR = 0x7ff;
/** ADTS can only signal object types 1..4 (profile_ObjectType + 1). */
const MAX_ADTS_OBJECT_TYPE = 4;
const MAX_ADTS_CHANNEL_CONFIG = 7;

/** The fields of one ADTS header. */
export interface AdtsHeader {
  /** Audio object type (profile_ObjectType + 1): 2 = AAC LC. */
  objectType: number;
  samplingFrequencyIndex: number;
  sampleRate: number;
  channelConfig: number;
  /** Bytes of the whole ADTS frame, header included. */
  frameLength: number;
  /** 7, or 9 with CRC. */
  headerSize: number;
  /** number_of_raw_data_blocks_in_frame + 1. */
  rawDataBlocks: number;
}

/** Parses the ADTS header at `offset`. Throws `ParseError` on a bad sync word, layer or length. */
export function parseAdtsHeader(buf: Uint8Array, offset = 0): AdtsHeader {
  ParseError.need(WHAT, buf, offset, ADTS_HEADER_SIZE, 'header');
  const r = new BitReader(WHAT, buf.subarray(offset, offset + ADTS_HEADER_SIZE));
  if (r.u(12, 'syncword') !== SYNC_WORD) throw new ParseError(WHAT, 'no sync word', offset);
  r.skip(1, 'ID');
  if (r.u(2, 'layer') !== 0) throw new ParseError(WHAT, 'layer is not 0', offset + 1);
  const headerSize = r.flag('protection_absent') ? ADTS_HEADER_SIZE : ADTS_HEADER_SIZE + ADTS_CRC_SIZE;
  const objectType = r.u(2, 'profile_ObjectType') + 1;
  const samplingFrequencyIndex = r.u(4, 'sampling_frequency_index');
  if (samplingFrequencyIndex >= AAC_SAMPLE_RATES.length) {
    throw new ParseError(WHAT, `reserved sampling_frequency_index ${samplingFrequencyIndex}`, offset + 2);
  }
  r.skip(1, 'private_bit');
  const channelConfig = r.u(3, 'channel_configuration');
  r.skip(4, 'original_copy, home, copyright bits');
  const frameLength = r.u(13, 'aac_frame_length');
  if (frameLength < headerSize)
    throw new ParseError(WHAT, `aac_frame_length ${frameLength} < header`, offset + 3);
  r.skip(11, 'adts_buffer_fullness');
  const rawDataBlocks = r.u(2, 'number_of_raw_data_blocks_in_frame') + 1;
  return {
    objectType,
    samplingFrequencyIndex,
    sampleRate: AAC_SAMPLE_RATES[samplingFrequencyIndex],
    channelConfig,
    frameLength,
    headerSize,
    rawDataBlocks,
  };
}

/**
 * A 7-byte ADTS header (no CRC, VBR fullness, one raw data block) for a raw AAC frame of
 * `payloadLength` bytes. Throws `BadRequestError` when the config cannot be expressed in ADTS
 * (object type > 4, explicit rate, channel config > 7) or the frame exceeds 8191 bytes.
 */
export function buildAdtsHeader(
  config: Pick<AudioSpecificConfig, 'objectType' | 'sampleRate' | 'channelConfig'>,
  payloadLength: number,
): Buffer {
  const index = AAC_SAMPLE_RATES.indexOf(config.sampleRate);
  const frameLength = ADTS_HEADER_SIZE + payloadLength;
  if (config.objectType < 1 || config.objectType > MAX_ADTS_OBJECT_TYPE) {
    throw new BadRequestError(`ADTS cannot carry AAC object type ${config.objectType}`);
  }
  if (index < 0) throw new BadRequestError(`ADTS cannot carry sample rate ${config.sampleRate}`);
  if (config.channelConfig < 0 || config.channelConfig > MAX_ADTS_CHANNEL_CONFIG) {
    throw new BadRequestError(`ADTS cannot carry channel configuration ${config.channelConfig}`);
  }
  if (frameLength > MAX_FRAME_LENGTH)
    throw new BadRequestError(`ADTS frame of ${frameLength} bytes exceeds 8191`);
  return new BitWriter()
    .u(12, SYNC_WORD)
    .u(1, ID_MPEG4)
    .u(2, 0) // layer
    .u(1, 1) // protection_absent: no CRC
    .u(2, config.objectType - 1)
    .u(4, index)
    .u(1, 0) // private_bit
    .u(3, config.channelConfig)
    .u(4, 0) // original_copy, home, copyright bits
    .u(13, frameLength)
    .u(11, BUFFER_FULLNESS_VBR)
    .u(2, 0) // one raw data block
    .toBuffer();
}
