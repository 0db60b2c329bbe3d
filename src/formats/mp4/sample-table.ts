/**
 * Resolves a sample table `stbl` (ISO/IEC 14496-12 8.5 to 8.7) into a list of samples with file
 * offset, size, decode and presentation time and sync flag.
 *
 * Every count read from the file is checked against the bytes its table occupies before anything is
 * allocated, and the sample count is bounded by the input size, so a lying header cannot make the
 * reader allocate more than a small multiple of the input.
 */
import { ParseError } from '../../core/errors.ts';
import { type Box, findChild, need, readFullBoxHeader } from './box.ts';
import type { Mp4Sample } from './types.ts';

const U32 = 4;
const U64 = 8;
const STTS_ENTRY = 8;
const CTTS_ENTRY = 8;
const STSC_ENTRY = 12;
const STZ2_HEADER = 8;
const STZ2_FIELD_SIZES = [4, 8, 16];

/** A table's entry count, checked to fit the box: throws unless `count * entrySize` bytes follow. */
function tableCount(buf: Buffer, box: Box, at: number, entrySize: number): number {
  need(buf, box, at, U32, 'entry_count');
  const count = buf.readUInt32BE(at);
  need(buf, box, at + U32, count * entrySize, `${count} entries`);
  return count;
}

function requireBox(buf: Buffer, stbl: Box, type: string): Box {
  const box = findChild(buf, stbl, type);
  if (!box) throw new ParseError('mp4 stbl', `no ${type}`, stbl.start);
  return box;
}

/** Sample sizes from stsz or stz2 (8.7.3). */
function readSizes(buf: Buffer, stbl: Box): number[] {
  const stsz = findChild(buf, stbl, 'stsz');
  if (stsz) {
    const { body } = readFullBoxHeader(buf, stsz);
    need(buf, stsz, body, 2 * U32, 'sample_size and sample_count');
    const constant = buf.readUInt32BE(body);
    if (constant !== 0) {
      const count = buf.readUInt32BE(body + U32);
      // Each sample needs `constant` bytes of the input, which bounds the count.
      if (count * constant > buf.length) {
        throw new ParseError(
          'mp4 stsz',
          `${count} samples of ${constant} bytes exceed the ${buf.length}-byte input`,
          body,
        );
      }
      return new Array<number>(count).fill(constant);
    }
    const count = tableCount(buf, stsz, body + U32, U32);
    const sizes = new Array<number>(count);
    for (let i = 0; i < count; i++) sizes[i] = buf.readUInt32BE(body + 2 * U32 + i * U32);
    return sizes;
  }
  const stz2 = requireBox(buf, stbl, 'stz2');
  const { body } = readFullBoxHeader(buf, stz2);
  need(buf, stz2, body, STZ2_HEADER, 'field_size and sample_count');
  const fieldSize = buf[body + 3];
  if (!STZ2_FIELD_SIZES.includes(fieldSize))
    throw new ParseError('mp4 stz2', `field_size ${fieldSize}`, body);
  const count = buf.readUInt32BE(body + U32);
  const table = body + STZ2_HEADER;
  need(buf, stz2, table, Math.ceil((count * fieldSize) / 8), `${count} entries`);
  const sizes = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    if (fieldSize === 16) sizes[i] = buf.readUInt16BE(table + i * 2);
    else if (fieldSize === 8) sizes[i] = buf[table + i];
    else sizes[i] = i % 2 === 0 ? buf[table + (i >> 1)] >> 4 : buf[table + (i >> 1)] & 0x0f;
  }
  return sizes;
}

/** Chunk offsets from stco or co64 (8.7.5). */
function readChunkOffsets(buf: Buffer, stbl: Box): number[] {
  const stco = findChild(buf, stbl, 'stco');
  const box = stco ?? requireBox(buf, stbl, 'co64');
  const entry = stco ? U32 : U64;
  const { body } = readFullBoxHeader(buf, box);
  const count = tableCount(buf, box, body, entry);
  const offsets = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const at = body + U32 + i * entry;
    offsets[i] = stco ? buf.readUInt32BE(at) : Number(buf.readBigUInt64BE(at));
  }
  return offsets;
}

/** File offsets of all samples from stsc (8.7.4) and the chunk offsets. */
function resolveOffsets(buf: Buffer, stbl: Box, sizes: readonly number[]): number[] {
  const chunks = readChunkOffsets(buf, stbl);
  const stsc = requireBox(buf, stbl, 'stsc');
  const { body } = readFullBoxHeader(buf, stsc);
  const count = tableCount(buf, stsc, body, STSC_ENTRY);
  const offsets = new Array<number>(sizes.length);
  let sample = 0;
  for (let e = 0; e < count && sample < sizes.length; e++) {
    const at = body + U32 + e * STSC_ENTRY;
    const firstChunk = buf.readUInt32BE(at);
    const perChunk = buf.readUInt32BE(at + U32);
    const nextFirst = e + 1 < count ? buf.readUInt32BE(at + STSC_ENTRY) : chunks.length + 1;
    if (firstChunk < 1 || nextFirst <= firstChunk || nextFirst > chunks.length + 1) {
      throw new ParseError(
        'mp4 stsc',
        `entry ${e} covers chunks ${firstChunk}..${nextFirst - 1} of ${chunks.length}`,
        at,
      );
    }
    for (let chunk = firstChunk; chunk < nextFirst && sample < sizes.length; chunk++) {
      let offset = chunks[chunk - 1];
      for (let i = 0; i < perChunk && sample < sizes.length; i++, sample++) {
        offsets[sample] = offset;
        offset += sizes[sample];
      }
    }
  }
  if (sample < sizes.length) {
    throw new ParseError('mp4 stsc', `chunks hold ${sample} of ${sizes.length} samples`, stsc.start);
  }
  return offsets;
}

/** Per-sample decode durations from stts (8.6.1.2); extra entries past the sample count are ignored. */
function readDurations(buf: Buffer, stbl: Box, sampleCount: number): number[] {
  const stts = requireBox(buf, stbl, 'stts');
  const { body } = readFullBoxHeader(buf, stts);
  const count = tableCount(buf, stts, body, STTS_ENTRY);
  const durations = new Array<number>(sampleCount);
  let sample = 0;
  for (let e = 0; e < count && sample < sampleCount; e++) {
    const at = body + U32 + e * STTS_ENTRY;
    const n = buf.readUInt32BE(at);
    const delta = buf.readUInt32BE(at + U32);
    for (let i = 0; i < n && sample < sampleCount; i++) durations[sample++] = delta;
  }
  if (sample < sampleCount)
    throw new ParseError('mp4 stts', `covers ${sample} of ${sampleCount} samples`, stts.start);
  return durations;
}

/** Per-sample composition offsets from ctts (8.6.1.3); all 0 without ctts. */
function readCompositionOffsets(buf: Buffer, stbl: Box, sampleCount: number): number[] {
  const offsets = new Array<number>(sampleCount).fill(0);
  const ctts = findChild(buf, stbl, 'ctts');
  if (!ctts) return offsets;
  const { body } = readFullBoxHeader(buf, ctts);
  const count = tableCount(buf, ctts, body, CTTS_ENTRY);
  let sample = 0;
  for (let e = 0; e < count && sample < sampleCount; e++) {
    const at = body + U32 + e * CTTS_ENTRY;
    const n = buf.readUInt32BE(at);
    // Version 1 is signed by definition; version 0 is unsigned, but writers put negative offsets
    // there too and no real offset reaches 2^31, so both are read signed (as ffmpeg does).
    const offset = buf.readInt32BE(at + U32);
    for (let i = 0; i < n && sample < sampleCount; i++) offsets[sample++] = offset;
  }
  return offsets;
}

/** Sync flags from stss (8.6.2); every sample is a sync sample without stss. */
function readSyncFlags(buf: Buffer, stbl: Box, sampleCount: number): boolean[] {
  const stss = findChild(buf, stbl, 'stss');
  if (!stss) return new Array<boolean>(sampleCount).fill(true);
  const flags = new Array<boolean>(sampleCount).fill(false);
  const { body } = readFullBoxHeader(buf, stss);
  const count = tableCount(buf, stss, body, U32);
  for (let e = 0; e < count; e++) {
    const number = buf.readUInt32BE(body + U32 + e * U32);
    // Sample numbers are 1-based; ones past the end are ignored rather than fatal.
    if (number >= 1 && number <= sampleCount) flags[number - 1] = true;
  }
  return flags;
}

/**
 * Resolves the samples of `stbl` in decode order. Every sample must lie inside `buf`; dts starts at 0
 * and edit lists are not applied.
 */
export function readSampleTable(buf: Buffer, stbl: Box): Mp4Sample[] {
  const sizes = readSizes(buf, stbl);
  if (sizes.length > buf.length) {
    throw new ParseError('mp4 stbl', `${sizes.length} samples in a ${buf.length}-byte input`, stbl.start);
  }
  const offsets = resolveOffsets(buf, stbl, sizes);
  const durations = readDurations(buf, stbl, sizes.length);
  const ctts = readCompositionOffsets(buf, stbl, sizes.length);
  const sync = readSyncFlags(buf, stbl, sizes.length);
  const samples = new Array<Mp4Sample>(sizes.length);
  let dts = 0;
  for (let i = 0; i < sizes.length; i++) {
    if (offsets[i] + sizes[i] > buf.length) {
      throw new ParseError(
        'mp4 stbl',
        `sample ${i} (${sizes[i]} bytes) is past the ${buf.length}-byte input`,
        offsets[i],
      );
    }
    samples[i] = {
      offset: offsets[i],
      size: sizes[i],
      dts,
      pts: dts + ctts[i],
      duration: durations[i],
      keyframe: sync[i],
    };
    dts += durations[i];
  }
  return samples;
}
