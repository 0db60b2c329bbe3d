/**
 * Building ISOBMFF boxes (ISO/IEC 14496-12 4.2): a box is its 8-byte header followed by the
 * concatenated payload parts. Only 32-bit sizes are written; nothing we build comes near 4 GiB.
 */
import { BadRequestError } from '../../core/errors.ts';
import { BOX_HEADER_SIZE, FULL_BOX_HEADER_SIZE } from './box.ts';

const MAX_BOX_SIZE = 0xffffffff;
const FOURCC_LENGTH = 4;

/** A box of `type` (four characters) whose payload is `parts` in order. */
export function box(type: string, ...parts: Buffer[]): Buffer {
  if (type.length !== FOURCC_LENGTH)
    throw new BadRequestError(`mp4 box type must be 4 characters: '${type}'`);
  let size = BOX_HEADER_SIZE;
  for (const p of parts) size += p.length;
  if (size > MAX_BOX_SIZE) throw new BadRequestError(`mp4 box ${type} of ${size} bytes needs a largesize`);
  const header = Buffer.alloc(BOX_HEADER_SIZE);
  header.writeUInt32BE(size, 0);
  header.write(type, FOURCC_LENGTH, 'latin1');
  return Buffer.concat([header, ...parts], size);
}

/** A full box: version (8 bits) and flags (24 bits) in front of `parts`. */
export function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  const vf = Buffer.alloc(FULL_BOX_HEADER_SIZE);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...parts);
}

/** Big-endian unsigned 8-bit values. */
export function u8(...values: number[]): Buffer {
  return Buffer.from(values);
}

/** Big-endian unsigned 16-bit values. */
export function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  for (let i = 0; i < values.length; i++) b.writeUInt16BE(values[i], i * 2);
  return b;
}

/** Big-endian unsigned 32-bit values. */
export function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeUInt32BE(values[i], i * 4);
  return b;
}

/** Big-endian unsigned 64-bit values (safe integers). */
export function u64(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) b.writeBigUInt64BE(BigInt(values[i]), i * 8);
  return b;
}

/** `n` zero bytes (reserved fields). */
export function zeros(n: number): Buffer {
  return Buffer.alloc(n);
}

/** Four-character codes back to back (ftyp brands, handler types). */
export function fourcc(...codes: string[]): Buffer {
  return Buffer.from(codes.join(''), 'latin1');
}
