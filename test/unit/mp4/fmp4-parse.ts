/**
 * A test-only reader of the moof boxes that `fragment()` writes, so the tests can check every field
 * and that each trun data_offset really points at the sample bytes.
 */
import assert from 'node:assert/strict';
import { children, findChild, readBoxes, readFullBoxHeader } from '../../../src/formats/mp4/box.ts';

export interface ParsedSample {
  duration: number;
  size: number;
  flags: number;
  cto: number;
  data: Buffer;
}

export interface ParsedTraf {
  id: number;
  tfhdFlags: number;
  tfdtVersion: number;
  baseDts: number;
  trunVersion: number;
  trunFlags: number;
  samples: ParsedSample[];
}

/** Reads moof + mdat as written by `fragment()` (default-base-is-moof, all per-sample fields). */
export function parseFragment(buf: Buffer): { sequence: number; trafs: ParsedTraf[]; mdatSize: number } {
  const top = readBoxes(buf, 0, buf.length);
  assert.deepEqual(
    top.map((b) => b.type),
    ['moof', 'mdat'],
  );
  const [moof, mdat] = top;
  const mfhd = findChild(buf, moof, 'mfhd')!;
  const sequence = buf.readUInt32BE(readFullBoxHeader(buf, mfhd).body);
  const trafs: ParsedTraf[] = [];
  for (const traf of children(buf, moof).filter((b) => b.type === 'traf')) {
    const tfhd = readFullBoxHeader(buf, findChild(buf, traf, 'tfhd')!);
    const tfdt = readFullBoxHeader(buf, findChild(buf, traf, 'tfdt')!);
    const trun = readFullBoxHeader(buf, findChild(buf, traf, 'trun')!);
    const count = buf.readUInt32BE(trun.body);
    let dataAt = moof.start + buf.readInt32BE(trun.body + 4);
    const withCts = (trun.flags & 0x800) !== 0;
    const samples: ParsedSample[] = [];
    for (let i = 0; i < count; i++) {
      const at = trun.body + 8 + i * (withCts ? 16 : 12);
      const size = buf.readUInt32BE(at + 4);
      assert.ok(dataAt >= mdat.payload && dataAt + size <= mdat.end, 'sample data inside mdat');
      samples.push({
        duration: buf.readUInt32BE(at),
        size,
        flags: buf.readUInt32BE(at + 8),
        cto: withCts ? buf.readInt32BE(at + 12) : 0,
        data: buf.subarray(dataAt, dataAt + size),
      });
      dataAt += size;
    }
    trafs.push({
      id: buf.readUInt32BE(tfhd.body),
      tfhdFlags: tfhd.flags,
      tfdtVersion: tfdt.version,
      baseDts: tfdt.version === 1 ? Number(buf.readBigUInt64BE(tfdt.body)) : buf.readUInt32BE(tfdt.body),
      trunVersion: trun.version,
      trunFlags: trun.flags,
      samples,
    });
  }
  return { sequence, trafs, mdatSize: mdat.end - mdat.start };
}
