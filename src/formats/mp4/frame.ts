/**
 * From MP4 samples to mediagate Frames: timestamps rescaled from the track timescale to the codec
 * clock rate, and H.264 / H.265 NAL lengths normalized to 4 bytes (ISO/IEC 14496-15 5.3.3 allows
 * 1, 2 or 4).
 */
import { ParseError } from '../../core/errors.ts';
import type { Frame } from '../../core/media.ts';
import type { Mp4Sample, Mp4Track } from './types.ts';

const AVCC_LENGTH_SIZE = 4;
const WHAT = 'mp4 sample';

/**
 * `value` (in units of 1/`from` s) in units of 1/`to` s, rounded to the nearest integer. Exact for
 * any safe integer input: the whole seconds are scaled separately so no product exceeds 2^53.
 */
export function rescaleTime(value: number, from: number, to: number): number {
  if (from === to) return value;
  const sign = value < 0 ? -1 : 1;
  const abs = Math.abs(value);
  const seconds = Math.floor(abs / from);
  const rest = abs - seconds * from;
  return sign * (seconds * to + Math.round((rest * to) / from));
}

/**
 * Rewrites NAL units with `lengthSize`-byte lengths (1 or 2) to 4-byte lengths into a new buffer.
 * Throws a ParseError when a length runs past the sample.
 */
export function toLengthSize4(data: Buffer, lengthSize: number): Buffer {
  let total = 0;
  let offset = 0;
  while (offset < data.length) {
    ParseError.need(WHAT, data, offset, lengthSize, 'NAL length');
    const len = data.readUIntBE(offset, lengthSize);
    offset += lengthSize;
    ParseError.need(WHAT, data, offset, len, 'NAL unit');
    offset += len;
    total += AVCC_LENGTH_SIZE + len;
  }
  const out = Buffer.alloc(total);
  let at = 0;
  for (offset = 0; offset < data.length; ) {
    const len = data.readUIntBE(offset, lengthSize);
    offset += lengthSize;
    out.writeUInt32BE(len, at);
    data.copy(out, at + AVCC_LENGTH_SIZE, offset, offset + len);
    at += AVCC_LENGTH_SIZE + len;
    offset += len;
  }
  return out;
}

/**
 * The Frame of one sample of `track`, read from `file` (the buffer given to `readMp4()`).
 *
 * `data` is a view (subarray) that aliases `file`, except for H.264 / H.265 files with 1- or 2-byte
 * NAL lengths, which are copied into 4-byte-length AVCC. pts/dts are in the codec clock rate
 * (90000 for video, 48000 for Opus, the sample rate for AAC). Audio frames are always keyframes.
 */
export function sampleFrame(file: Buffer, track: Mp4Track, sample: Mp4Sample): Frame {
  ParseError.need(WHAT, file, sample.offset, sample.size, `track ${track.id} sample`);
  let data = file.subarray(sample.offset, sample.offset + sample.size);
  if (track.nalLengthSize !== undefined && track.nalLengthSize !== AVCC_LENGTH_SIZE) {
    data = toLengthSize4(data, track.nalLengthSize);
  }
  const clock = track.codec.clockRate;
  return {
    pts: rescaleTime(sample.pts, track.timescale, clock),
    dts: rescaleTime(sample.dts, track.timescale, clock),
    keyframe: track.kind === 'audio' || sample.keyframe,
    data,
  };
}

/** The Frames of all samples of `track` in decode order (see `sampleFrame()`). */
export function* trackFrames(file: Buffer, track: Mp4Track): Generator<Frame> {
  for (const sample of track.samples) yield sampleFrame(file, track, sample);
}
