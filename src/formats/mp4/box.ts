/**
 * ISOBMFF box headers (ISO/IEC 14496-12 4.2). Every read is length-checked; a box never runs past
 * the box (or byte range) that contains it.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          size (32)                            |   1 = largesize follows,
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   0 = to the end of the parent
 * |                     type (four characters)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 largesize (64, only if size == 1)             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  version (8)  |                flags (24), full boxes only    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { ParseError } from '../../core/errors.ts';

const WHAT = 'mp4 box';
/** size (4) + type (4). */
export const BOX_HEADER_SIZE = 8;
/** Extra bytes of a 64-bit largesize. */
const LARGESIZE_SIZE = 8;
/** version (1) + flags (3). */
export const FULL_BOX_HEADER_SIZE = 4;
const TYPE_OFFSET = 4;
const TYPE_LENGTH = 4;
const SIZE_TO_END = 0;
const SIZE_LARGE = 1;
const FLAGS_MASK = 0xffffff;

/** A box located in a buffer; all positions are absolute byte offsets into that buffer. */
export interface Box {
  /** Four-character type, e.g. `moov`, `avc1`, `Opus` (case-sensitive). */
  type: string;
  /** Offset of the first header byte. */
  start: number;
  /** Offset of the first payload byte (after size, type and largesize). */
  payload: number;
  /** Offset one past the last byte. */
  end: number;
}

/** version and flags of a full box, and where its own fields start. */
export interface FullBoxHeader {
  version: number;
  /** 24-bit flags. */
  flags: number;
  /** Offset of the first byte after version/flags. */
  body: number;
}

/**
 * Reads the box header at `offset`. `limit` is the end of the containing box or byte range: a box
 * with size 0 extends to it, and a box that claims to run past it is a ParseError.
 */
export function readBoxHeader(buf: Buffer, offset: number, limit: number = buf.length): Box {
  ParseError.need(WHAT, buf, offset, BOX_HEADER_SIZE, 'header');
  const size32 = buf.readUInt32BE(offset);
  const type = buf.toString('latin1', offset + TYPE_OFFSET, offset + TYPE_OFFSET + TYPE_LENGTH);
  let payload = offset + BOX_HEADER_SIZE;
  let size: number;
  if (size32 === SIZE_LARGE) {
    ParseError.need(WHAT, buf, payload, LARGESIZE_SIZE, `${type} largesize`);
    const large = buf.readBigUInt64BE(payload);
    if (large > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ParseError(WHAT, `${type} largesize ${large} is not a safe integer`, offset);
    }
    size = Number(large);
    payload += LARGESIZE_SIZE;
  } else if (size32 === SIZE_TO_END) {
    size = limit - offset;
  } else {
    size = size32;
  }
  const headerSize = payload - offset;
  if (size < headerSize) {
    throw new ParseError(WHAT, `${type} size ${size} is smaller than its ${headerSize}-byte header`, offset);
  }
  if (offset + size > limit) {
    throw new ParseError(
      WHAT,
      `${type} size ${size} runs past its parent by ${offset + size - limit} bytes`,
      offset,
    );
  }
  return { type, start: offset, payload, end: offset + size };
}

/** The boxes that follow each other from `start` to `end` (a container's payload). */
export function readBoxes(buf: Buffer, start: number, end: number): Box[] {
  if (end > buf.length)
    throw new ParseError(WHAT, `range end ${end} is past the ${buf.length}-byte input`, start);
  const boxes: Box[] = [];
  let offset = start;
  while (offset < end) {
    const box = readBoxHeader(buf, offset, end);
    boxes.push(box);
    offset = box.end;
  }
  return boxes;
}

/** The child boxes of a container box. */
export function children(buf: Buffer, parent: Box): Box[] {
  return readBoxes(buf, parent.payload, parent.end);
}

/** The first child of `parent` with the given type, or undefined. */
export function findChild(buf: Buffer, parent: Box, type: string): Box | undefined {
  return children(buf, parent).find((b) => b.type === type);
}

/** Like `findChild()`, but a missing box is a ParseError naming the parent. */
export function requireChild(buf: Buffer, parent: Box, type: string): Box {
  const box = findChild(buf, parent, type);
  if (!box) throw new ParseError(WHAT, `${parent.type} has no ${type}`, parent.start);
  return box;
}

/** Follows a path of child types (`['mdia', 'minf', 'stbl']`) from `parent`; undefined if a step is missing. */
export function findPath(buf: Buffer, parent: Box, path: readonly string[]): Box | undefined {
  let box: Box | undefined = parent;
  for (const type of path) {
    if (!box) return undefined;
    box = findChild(buf, box, type);
  }
  return box;
}

/** Reads version and flags of a full box (ISO/IEC 14496-12 4.2.2). */
export function readFullBoxHeader(buf: Buffer, box: Box): FullBoxHeader {
  need(buf, box, box.payload, FULL_BOX_HEADER_SIZE, 'version/flags');
  const word = buf.readUInt32BE(box.payload);
  return { version: word >>> 24, flags: word & FLAGS_MASK, body: box.payload + FULL_BOX_HEADER_SIZE };
}

/**
 * Length check within a box: throws a ParseError unless `bytes` bytes starting at `offset` lie inside
 * `box`. Use before every field read of a box payload.
 */
export function need(buf: Buffer, box: Box, offset: number, bytes: number, field: string): void {
  if (offset < box.payload || bytes < 0 || offset + bytes > box.end || offset + bytes > buf.length) {
    const left = Math.max(0, Math.min(box.end, buf.length) - offset);
    throw new ParseError(`mp4 ${box.type}`, `${field} needs ${bytes} bytes, ${left} left`, offset);
  }
}
