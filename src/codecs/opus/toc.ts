/**
 * The Opus TOC byte and packet duration (RFC 6716 3.1, 3.2.5), for timestamps of Opus frames.
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   | config  |s| c |   config: mode, bandwidth and frame size; s: stereo; c: frame count code
 *   +-+-+-+-+-+-+-+-+
 *   Code 3 adds a frame count byte:  |v|p|     M     |  (M frames, 1..48)
 */
import { ParseError } from '../../core/errors.ts';

const WHAT = 'Opus TOC';
const CONFIG_SHIFT = 3;
const STEREO_BIT = 0x04;
const CODE_MASK = 0x03;
const FRAME_COUNT_MASK = 0x3f;
const CODE_ARBITRARY = 3;
/** Configs 0..11 are SILK, 12..15 hybrid, 16..31 CELT (RFC 6716 Table 2). */
const FIRST_HYBRID_CONFIG = 12;
const FIRST_CELT_CONFIG = 16;
/** Frame sizes in 48 kHz samples: SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20 ms. */
const SILK_FRAME_SIZES = [480, 960, 1920, 2880];
const HYBRID_FRAME_SIZES = [480, 960];
const CELT_FRAME_SIZES = [120, 240, 480, 960];
/** A packet holds at most 120 ms (RFC 6716 3.2.5). */
const MAX_PACKET_SAMPLES = 5760;
/** Opus timestamps always count at 48 kHz (RFC 7587 4.1). */
export const OPUS_CLOCK_RATE = 48000;

/** A decoded TOC byte. */
export interface OpusToc {
  /** 0..31 (RFC 6716 Table 2). */
  config: number;
  mode: 'silk' | 'hybrid' | 'celt';
  stereo: boolean;
  /** Frame count code 0..3. */
  code: number;
  /** Duration of each frame in 48 kHz samples (120 = 2.5 ms ... 2880 = 60 ms). */
  frameSize: number;
}

/** Decodes a TOC byte. */
export function parseOpusToc(toc: number): OpusToc {
  const config = (toc & 0xff) >> CONFIG_SHIFT;
  let mode: OpusToc['mode'];
  let frameSize: number;
  if (config < FIRST_HYBRID_CONFIG) {
    mode = 'silk';
    frameSize = SILK_FRAME_SIZES[config % SILK_FRAME_SIZES.length];
  } else if (config < FIRST_CELT_CONFIG) {
    mode = 'hybrid';
    frameSize = HYBRID_FRAME_SIZES[config % HYBRID_FRAME_SIZES.length];
  } else {
    mode = 'celt';
    frameSize = CELT_FRAME_SIZES[config % CELT_FRAME_SIZES.length];
  }
  return { config, mode, stereo: (toc & STEREO_BIT) !== 0, code: toc & CODE_MASK, frameSize };
}

/**
 * Number of frames in an Opus packet (1, 2, or M for code 3). Throws `ParseError` on an empty
 * packet, a code 3 packet without its count byte, or M = 0.
 */
export function opusFrameCount(packet: Uint8Array): number {
  ParseError.need(WHAT, packet, 0, 1, 'TOC byte');
  const code = packet[0] & CODE_MASK;
  if (code === 0) return 1;
  if (code !== CODE_ARBITRARY) return 2;
  ParseError.need(WHAT, packet, 1, 1, 'frame count byte');
  const m = packet[1] & FRAME_COUNT_MASK;
  if (m === 0) throw new ParseError(WHAT, 'frame count 0', 1);
  return m;
}

/**
 * Duration of an Opus packet in 48 kHz samples (the RTP timestamp increment). Throws
 * `ParseError` when the packet is malformed or longer than 120 ms.
 */
export function opusPacketDuration(packet: Uint8Array): number {
  const samples = opusFrameCount(packet) * parseOpusToc(packet[0]).frameSize;
  if (samples > MAX_PACKET_SAMPLES) throw new ParseError(WHAT, `packet of ${samples} samples exceeds 120 ms`);
  return samples;
}
