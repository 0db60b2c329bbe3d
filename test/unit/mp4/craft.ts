/**
 * Builds small non-fragmented MP4 files for the reader tests and the fuzz corpus: ftyp, moov with one
 * trak per track (sample tables in every variant the reader handles), then mdat.
 */
import { buildDOps, buildEsDescriptor } from '../../../src/formats/mp4/audio-config.ts';
import { buildAvcC } from '../../../src/formats/mp4/avc.ts';
import { box, fourcc, fullBox, u16, u32, u64, zeros } from '../../../src/formats/mp4/box-writer.ts';

/** The demo clip's SPS and PPS (640x360 Main 3.0). */
export const DEMO_SPS = Buffer.from('Z01AHtkAoC/5cBEAAAMAAQAAAwAyDxYuSA==', 'base64');
export const DEMO_PPS = Buffer.from('aOvCSyA=', 'base64');

export interface CraftTrack {
  id: number;
  handler: string;
  timescale: number;
  /** A complete sample entry box (see `avc1Entry()`, `opusEntry()`). */
  sampleEntry: Buffer;
  samples: Buffer[];
  /** stts deltas, one per sample. */
  durations: number[];
  /** Composition offsets per sample, written as ctts of this version. */
  ctts?: { version: 0 | 1; offsets: number[] };
  /** 1-based sync sample numbers; no stss when undefined. */
  sync?: number[];
  /** Samples per chunk (default 1); the last chunk takes what is left. */
  samplesPerChunk?: number;
  /** Chunk offsets as co64 instead of stco. */
  co64?: boolean;
  /** Sizes as stz2 with this field size instead of stsz. */
  stz2?: 4 | 8 | 16;
  /** One stsz sample_size for all samples (they must be equal). */
  constantSize?: boolean;
  /** Extra boxes to put into stbl (unknown boxes the reader must skip). */
  extraStbl?: Buffer[];
  /** Extra boxes to put into trak, e.g. an edts. */
  extraTrak?: Buffer[];
}

export interface CraftOptions {
  /** Write the mdat with a 64-bit largesize. */
  largeMdat?: boolean;
  /** Write the mdat with size 0 (to the end of the file). */
  mdatToEnd?: boolean;
  /** Extra top-level boxes between moov and mdat. */
  extraTop?: Buffer[];
}

/** A VisualSampleEntry (avc1 by default) with an avcC of the demo SPS/PPS. */
export function avc1Entry(
  width = 640,
  height = 360,
  avcC = buildAvcC([DEMO_SPS], [DEMO_PPS]),
  type = 'avc1',
): Buffer {
  return box(
    type,
    zeros(6),
    u16(1),
    zeros(16),
    u16(width, height),
    u32(0x480000, 0x480000, 0),
    u16(1),
    zeros(32),
    u16(0x18, 0xffff),
    box(type === 'avc1' ? 'avcC' : 'hvcC', avcC),
  );
}

/** An Opus AudioSampleEntry with a dOps. */
export function opusEntry(channels = 2): Buffer {
  return box(
    'Opus',
    zeros(6),
    u16(1),
    zeros(8),
    u16(channels, 16),
    zeros(4),
    u32(48000 * 65536),
    box('dOps', buildDOps(channels, 312)),
  );
}

/** An AAC mp4a AudioSampleEntry with an esds around `asc`. */
export function mp4aEntry(asc = Buffer.from('1190', 'hex'), channels = 2): Buffer {
  const esds = fullBox('esds', 0, 0, buildEsDescriptor(asc));
  return box('mp4a', zeros(6), u16(1), zeros(8), u16(channels, 16), zeros(4), u32(48000 * 65536), esds);
}

function stbl(t: CraftTrack, chunkOffsets: number[]): Buffer {
  const n = t.samples.length;
  const boxes: Buffer[] = [fullBox('stsd', 0, 0, u32(1), t.sampleEntry)];
  boxes.push(fullBox('stts', 0, 0, u32(n), ...t.durations.map((d) => u32(1, d))));
  if (t.ctts)
    boxes.push(fullBox('ctts', t.ctts.version, 0, u32(n), ...t.ctts.offsets.map((o) => i32pair(1, o))));
  if (t.sync) boxes.push(fullBox('stss', 0, 0, u32(t.sync.length, ...t.sync)));
  const perChunk = t.samplesPerChunk ?? 1;
  const lastCount = n - perChunk * (chunkOffsets.length - 1);
  const stsc = [u32(1, perChunk, 1)];
  if (lastCount !== perChunk && chunkOffsets.length > 1) stsc.push(u32(chunkOffsets.length, lastCount, 1));
  boxes.push(fullBox('stsc', 0, 0, u32(stsc.length), ...stsc));
  const sizes = t.samples.map((s) => s.length);
  if (t.stz2) boxes.push(fullBox('stz2', 0, 0, u32(t.stz2, n), packSizes(sizes, t.stz2)));
  else if (t.constantSize) boxes.push(fullBox('stsz', 0, 0, u32(sizes[0] ?? 0, n)));
  else boxes.push(fullBox('stsz', 0, 0, u32(0, n, ...sizes)));
  if (t.co64) boxes.push(fullBox('co64', 0, 0, u32(chunkOffsets.length), u64(...chunkOffsets)));
  else boxes.push(fullBox('stco', 0, 0, u32(chunkOffsets.length, ...chunkOffsets)));
  return box('stbl', ...boxes, ...(t.extraStbl ?? []));
}

function i32pair(count: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(count, 0);
  b.writeInt32BE(value, 4);
  return b;
}

function packSizes(sizes: number[], field: 4 | 8 | 16): Buffer {
  if (field === 16) return u16(...sizes);
  if (field === 8) return Buffer.from(sizes);
  const out = Buffer.alloc(Math.ceil(sizes.length / 2));
  sizes.forEach((s, i) => {
    out[i >> 1] |= i % 2 === 0 ? s << 4 : s;
  });
  return out;
}

function trak(t: CraftTrack, chunkOffsets: number[]): Buffer {
  const video = t.handler === 'vide';
  return box(
    'trak',
    fullBox(
      'tkhd',
      0,
      3,
      u32(0, 0, t.id, 0, 0),
      zeros(8),
      u16(0, 0, 0, 0),
      zeros(36),
      u32(640 * 65536, 360 * 65536),
    ),
    ...(t.extraTrak ?? []),
    box(
      'mdia',
      fullBox('mdhd', 0, 0, u32(0, 0, t.timescale, sum(t.durations)), u16(0x55c4, 0)),
      fullBox('hdlr', 0, 0, u32(0), fourcc(t.handler), zeros(12), Buffer.from('h\0')),
      box(
        'minf',
        video ? fullBox('vmhd', 0, 1, zeros(8)) : fullBox('smhd', 0, 0, zeros(4)),
        stbl(t, chunkOffsets),
      ),
    ),
  );
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The chunk start offsets (relative to the mdat payload) of a track's samples. */
function chunkStarts(t: CraftTrack, base: number): number[] {
  const perChunk = t.samplesPerChunk ?? 1;
  const offsets: number[] = [];
  let at = base;
  for (let i = 0; i < t.samples.length; i++) {
    if (i % perChunk === 0) offsets.push(at);
    at += t.samples[i].length;
  }
  return offsets;
}

/** A complete MP4: ftyp, moov, [extra], mdat holding the tracks' samples one track after the other. */
export function craftMp4(tracks: CraftTrack[], opts: CraftOptions = {}): Buffer {
  const ftyp = box('ftyp', fourcc('isom'), u32(512), fourcc('isom', 'iso2', 'avc1', 'mp41'));
  const extra = Buffer.concat(opts.extraTop ?? []);
  const mdatHeaderSize = opts.largeMdat ? 16 : 8;
  const build = (mdatPayload: number) => {
    let at = mdatPayload;
    const traks = tracks.map((t) => {
      const offsets = chunkStarts(t, at);
      at += sum(t.samples.map((s) => s.length));
      return trak(t, offsets);
    });
    return box(
      'moov',
      fullBox(
        'mvhd',
        0,
        0,
        u32(0, 0, 1000, 0, 0x10000),
        u16(0x100, 0),
        zeros(8),
        zeros(36),
        zeros(24),
        u32(tracks.length + 1),
      ),
      ...traks,
    );
  };
  // The moov size does not depend on the offset values, so a first pass finds where mdat starts.
  const moovSize = build(0).length;
  const moov = build(ftyp.length + moovSize + extra.length + mdatHeaderSize);
  const data = Buffer.concat(tracks.flatMap((t) => t.samples));
  let mdatHeader: Buffer;
  if (opts.largeMdat) mdatHeader = Buffer.concat([u32(1), fourcc('mdat'), u64(16 + data.length)]);
  else mdatHeader = Buffer.concat([u32(opts.mdatToEnd ? 0 : 8 + data.length), fourcc('mdat')]);
  return Buffer.concat([ftyp, moov, extra, mdatHeader, data]);
}

/** H.264 AVCC sample data: NAL units with `lengthSize`-byte lengths. */
export function avccSample(nals: Buffer[], lengthSize = 4): Buffer {
  return Buffer.concat(
    nals.flatMap((n) => {
      const len = Buffer.alloc(lengthSize);
      len.writeUIntBE(n.length, 0, lengthSize);
      return [len, n];
    }),
  );
}
