/**
 * One movie fragment of a fragmented MP4 (ISO/IEC 14496-12 8.8): moof + mdat.
 *
 *   moof
 *     mfhd                sequence_number
 *     traf (per track)
 *       tfhd              track_ID, flags = default-base-is-moof
 *       tfdt (version 1)  baseMediaDecodeTime (64 bit) = dts of the first sample
 *       trun              data_offset + per sample: duration, size, flags[, composition offset]
 *   mdat                  the tracks' sample data, track after track, in the traf order
 */
import { BadRequestError } from '../../core/errors.ts';
import { BOX_HEADER_SIZE, FULL_BOX_HEADER_SIZE } from './box.ts';
import { box, fullBox, u32, u64 } from './box-writer.ts';
import type { Mp4FragmentSample, Mp4TrackFragment } from './types.ts';

/** tfhd flag: data offsets are relative to the start of the moof. */
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_SAMPLE_DURATION = 0x000100;
const TRUN_SAMPLE_SIZE = 0x000200;
const TRUN_SAMPLE_FLAGS = 0x000400;
const TRUN_SAMPLE_CTS = 0x000800;
/** trun version 1: composition offsets are signed (8.8.8.2). */
const TRUN_VERSION_SIGNED_CTS = 1;
/** tfdt version 1: 64-bit baseMediaDecodeTime. */
const TFDT_VERSION_64 = 1;
/** sample_depends_on = 2 (depends on no other sample), 8.8.3.1. */
const SAMPLE_FLAGS_SYNC = 0x02000000;
/** sample_depends_on = 1 and sample_is_non_sync_sample = 1. */
const SAMPLE_FLAGS_NON_SYNC = 0x01010000;
const U32 = 4;
const MFHD_SIZE = BOX_HEADER_SIZE + FULL_BOX_HEADER_SIZE + U32;
const TFHD_SIZE = BOX_HEADER_SIZE + FULL_BOX_HEADER_SIZE + U32;
const TFDT_SIZE = BOX_HEADER_SIZE + FULL_BOX_HEADER_SIZE + 2 * U32;
/** trun header: sample_count + data_offset. */
const TRUN_FIXED_SIZE = BOX_HEADER_SIZE + FULL_BOX_HEADER_SIZE + 2 * U32;
const MAX_U32 = 0xffffffff;
const MIN_I32 = -0x80000000;
const MAX_I32 = 0x7fffffff;

function compositionOffset(s: Mp4FragmentSample): number {
  return s.pts === undefined ? 0 : s.pts - s.dts;
}

function checkSample(id: number, i: number, s: Mp4FragmentSample): void {
  const bad = (what: string) => new BadRequestError(`mp4 fragment track ${id} sample ${i}: ${what}`);
  if (!Number.isSafeInteger(s.dts) || s.dts < 0) throw bad(`dts ${s.dts} must be a non-negative integer`);
  if (!Number.isInteger(s.duration) || s.duration < 0 || s.duration > MAX_U32)
    throw bad(`duration ${s.duration}`);
  const cto = compositionOffset(s);
  if (!Number.isInteger(cto) || cto < MIN_I32 || cto > MAX_I32)
    throw bad(`pts - dts = ${cto} is not a signed 32-bit integer`);
}

/** The size of a traf whose trun has `count` samples of `perSample` bytes each. */
function trafSize(count: number, perSample: number): number {
  return BOX_HEADER_SIZE + TFHD_SIZE + TFDT_SIZE + TRUN_FIXED_SIZE + count * perSample;
}

function traf(track: Mp4TrackFragment, dataOffset: number, withCts: boolean): Buffer {
  const { samples } = track;
  const perSample = (withCts ? 4 : 3) * U32;
  const table = Buffer.alloc(samples.length * perSample);
  samples.forEach((s, i) => {
    const at = i * perSample;
    table.writeUInt32BE(s.duration, at);
    table.writeUInt32BE(s.data.length, at + U32);
    table.writeUInt32BE(s.keyframe ? SAMPLE_FLAGS_SYNC : SAMPLE_FLAGS_NON_SYNC, at + 2 * U32);
    if (withCts) table.writeInt32BE(compositionOffset(s), at + 3 * U32);
  });
  const flags = TRUN_DATA_OFFSET | TRUN_SAMPLE_DURATION | TRUN_SAMPLE_SIZE | TRUN_SAMPLE_FLAGS;
  const header = Buffer.alloc(2 * U32);
  header.writeUInt32BE(samples.length, 0);
  header.writeInt32BE(dataOffset, U32);
  return box(
    'traf',
    fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, u32(track.id)),
    fullBox('tfdt', TFDT_VERSION_64, 0, u64(samples[0].dts)),
    withCts
      ? fullBox('trun', TRUN_VERSION_SIGNED_CTS, flags | TRUN_SAMPLE_CTS, header, table)
      : fullBox('trun', 0, flags, header, table),
  );
}

/**
 * One fragment (moof + mdat) with the samples of each track, times in the track timescales of the
 * init segment. Tracks without samples are left out. `sequence` is the mfhd sequence_number: start
 * at 1 and count up per fragment. The composition offset field (trun version 1, signed) is only
 * written for a track that has a sample with `pts !== dts`. Throws BadRequestError for invalid input.
 */
export function fragment(sequence: number, tracks: readonly Mp4TrackFragment[]): Buffer {
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > MAX_U32) {
    throw new BadRequestError(`mp4 fragment sequence ${sequence} must be a 32-bit unsigned integer`);
  }
  const present = tracks.filter((t) => t.samples.length > 0);
  const withCts = present.map((t) => {
    for (let i = 0; i < t.samples.length; i++) checkSample(t.id, i, t.samples[i]);
    return t.samples.some((s) => compositionOffset(s) !== 0);
  });
  let moofSize = BOX_HEADER_SIZE + MFHD_SIZE;
  present.forEach((t, i) => {
    moofSize += trafSize(t.samples.length, (withCts[i] ? 4 : 3) * U32);
  });
  let dataOffset = moofSize + BOX_HEADER_SIZE;
  const trafs: Buffer[] = [];
  const data: Buffer[] = [];
  present.forEach((t, i) => {
    if (dataOffset > MAX_I32)
      throw new BadRequestError(`mp4 fragment data offset ${dataOffset} exceeds 2^31-1`);
    trafs.push(traf(t, dataOffset, withCts[i]));
    for (const s of t.samples) {
      data.push(s.data);
      dataOffset += s.data.length;
    }
  });
  const moof = box('moof', fullBox('mfhd', 0, 0, u32(sequence)), ...trafs);
  const mdatSize = dataOffset - moofSize;
  if (mdatSize > MAX_U32)
    throw new BadRequestError(`mp4 fragment mdat of ${mdatSize} bytes needs a largesize`);
  // The mdat header is written by hand so the sample data is copied once, not twice.
  const mdatHeader = Buffer.concat([u32(mdatSize), Buffer.from('mdat', 'latin1')]);
  return Buffer.concat([moof, mdatHeader, ...data], dataOffset);
}
