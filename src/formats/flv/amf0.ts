/**
 * AMF0 (Adobe Action Message Format 0, amf0-file-format-specification.pdf): the encoding of FLV
 * script data (onMetaData) and of RTMP commands. Decoding checks every length against the input
 * and limits nesting; values are copies, never views.
 *
 *   number 0x00 (float64) | boolean 0x01 (u8) | string 0x02 (u16 length, UTF-8)
 *   object 0x03 ({ u16 key length, key, value }... 0x00 0x00 0x09) | null 0x05 | undefined 0x06
 *   reference 0x07 (u16) | ECMA array 0x08 (u32 count hint, then as object)
 *   strict array 0x0A (u32 count, values) | date 0x0B (float64 ms, s16 zone) | long string 0x0C (u32 length)
 */
import { ParseError } from '../../core/errors.ts';

const WHAT = 'AMF0';
/** AMF0 type markers. */
export const Amf0Type = {
  NUMBER: 0x00,
  BOOLEAN: 0x01,
  STRING: 0x02,
  OBJECT: 0x03,
  NULL: 0x05,
  UNDEFINED: 0x06,
  REFERENCE: 0x07,
  ECMA_ARRAY: 0x08,
  OBJECT_END: 0x09,
  STRICT_ARRAY: 0x0a,
  DATE: 0x0b,
  LONG_STRING: 0x0c,
  UNSUPPORTED: 0x0d,
} as const;

/** A decoded AMF0 value. Objects and ECMA arrays both become plain objects. */
export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Value[] | Amf0Object;
/** An AMF0 object or ECMA array. */
export interface Amf0Object {
  [key: string]: Amf0Value;
}

const MAX_DEPTH = 16;
const U16 = 2;
const U32 = 4;
const F64 = 8;
const DATE_ZONE = 2;
const MAX_SHORT_STRING = 0xffff;

/** Decodes one value at `offset`; returns it and the offset after it. Throws `ParseError` when malformed. */
export function decodeAmf0(buf: Buffer, offset = 0, depth = 0): { value: Amf0Value; end: number } {
  if (depth > MAX_DEPTH) throw new ParseError(WHAT, `nesting deeper than ${MAX_DEPTH}`, offset);
  ParseError.need(WHAT, buf, offset, 1, 'type marker');
  const type = buf[offset];
  let o = offset + 1;
  switch (type) {
    case Amf0Type.NUMBER:
      ParseError.need(WHAT, buf, o, F64, 'number');
      return { value: buf.readDoubleBE(o), end: o + F64 };
    case Amf0Type.BOOLEAN:
      ParseError.need(WHAT, buf, o, 1, 'boolean');
      return { value: buf[o] !== 0, end: o + 1 };
    case Amf0Type.STRING:
    case Amf0Type.LONG_STRING: {
      const { value, end } = readString(buf, o, type === Amf0Type.LONG_STRING ? U32 : U16);
      return { value, end };
    }
    case Amf0Type.NULL:
      return { value: null, end: o };
    case Amf0Type.UNDEFINED:
    case Amf0Type.UNSUPPORTED:
      return { value: undefined, end: o };
    case Amf0Type.REFERENCE:
      ParseError.need(WHAT, buf, o, U16, 'reference');
      return { value: undefined, end: o + U16 }; // references are not resolved
    case Amf0Type.ECMA_ARRAY:
      ParseError.need(WHAT, buf, o, U32, 'ECMA array count');
      o += U32; // the count is only a hint; the end marker ends the array
      return readProperties(buf, o, depth);
    case Amf0Type.OBJECT:
      return readProperties(buf, o, depth);
    case Amf0Type.STRICT_ARRAY: {
      ParseError.need(WHAT, buf, o, U32, 'strict array count');
      const count = buf.readUInt32BE(o);
      o += U32;
      if (count > buf.length - o)
        throw new ParseError(WHAT, `strict array of ${count} in ${buf.length - o} bytes`, o);
      const list: Amf0Value[] = [];
      for (let i = 0; i < count; i++) {
        const item = decodeAmf0(buf, o, depth + 1);
        list.push(item.value);
        o = item.end;
      }
      return { value: list, end: o };
    }
    case Amf0Type.DATE:
      ParseError.need(WHAT, buf, o, F64 + DATE_ZONE, 'date');
      return { value: new Date(buf.readDoubleBE(o)), end: o + F64 + DATE_ZONE };
    default:
      throw new ParseError(WHAT, `unsupported type marker 0x${type.toString(16)}`, offset);
  }
}

/** Decodes values until the end of `buf`. Throws `ParseError` when one is malformed. */
export function decodeAmf0All(buf: Buffer): Amf0Value[] {
  const values: Amf0Value[] = [];
  let o = 0;
  while (o < buf.length) {
    const { value, end } = decodeAmf0(buf, o);
    values.push(value);
    o = end;
  }
  return values;
}

function readString(buf: Buffer, o: number, lengthSize: number): { value: string; end: number } {
  ParseError.need(WHAT, buf, o, lengthSize, 'string length');
  const length = lengthSize === U16 ? buf.readUInt16BE(o) : buf.readUInt32BE(o);
  o += lengthSize;
  ParseError.need(WHAT, buf, o, length, 'string');
  return { value: buf.toString('utf8', o, o + length), end: o + length };
}

/** Properties up to the object end marker (00 00 09). */
function readProperties(buf: Buffer, o: number, depth: number): { value: Amf0Object; end: number } {
  const obj: Amf0Object = Object.create(null);
  for (;;) {
    const key = readString(buf, o, U16);
    o = key.end;
    if (key.value === '') {
      ParseError.need(WHAT, buf, o, 1, 'object end marker');
      if (buf[o] === Amf0Type.OBJECT_END) return { value: obj, end: o + 1 };
    }
    const item = decodeAmf0(buf, o, depth + 1);
    obj[key.value] = item.value;
    o = item.end;
  }
}

/**
 * Encodes a value: numbers, booleans, strings (long strings over 65535 bytes), null, undefined,
 * dates, arrays (strict arrays) and plain objects (objects). `ecmaArray` writes a top-level
 * object as an ECMA array, as onMetaData is.
 */
export function encodeAmf0(value: Amf0Value, ecmaArray = false): Buffer {
  if (value === null) return Buffer.from([Amf0Type.NULL]);
  if (value === undefined) return Buffer.from([Amf0Type.UNDEFINED]);
  if (typeof value === 'number') {
    const out = Buffer.alloc(1 + F64);
    out[0] = Amf0Type.NUMBER;
    out.writeDoubleBE(value, 1);
    return out;
  }
  if (typeof value === 'boolean') return Buffer.from([Amf0Type.BOOLEAN, value ? 1 : 0]);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    const long = bytes.length > MAX_SHORT_STRING;
    const head = Buffer.alloc(1 + (long ? U32 : U16));
    head[0] = long ? Amf0Type.LONG_STRING : Amf0Type.STRING;
    if (long) head.writeUInt32BE(bytes.length, 1);
    else head.writeUInt16BE(bytes.length, 1);
    return Buffer.concat([head, bytes]);
  }
  if (value instanceof Date) {
    const out = Buffer.alloc(1 + F64 + DATE_ZONE);
    out[0] = Amf0Type.DATE;
    out.writeDoubleBE(value.getTime(), 1);
    return out;
  }
  if (Array.isArray(value)) {
    const head = Buffer.alloc(1 + U32);
    head[0] = Amf0Type.STRICT_ARRAY;
    head.writeUInt32BE(value.length, 1);
    return Buffer.concat([head, ...value.map((v) => encodeAmf0(v))]);
  }
  const entries = Object.entries(value);
  const head = ecmaArray ? Buffer.alloc(1 + U32) : Buffer.alloc(1);
  head[0] = ecmaArray ? Amf0Type.ECMA_ARRAY : Amf0Type.OBJECT;
  if (ecmaArray) head.writeUInt32BE(entries.length, 1);
  const parts: Buffer[] = [head];
  for (const [k, v] of entries) {
    const key = Buffer.from(k, 'utf8').subarray(0, MAX_SHORT_STRING);
    const len = Buffer.alloc(U16);
    len.writeUInt16BE(key.length, 0);
    parts.push(len, key, encodeAmf0(v));
  }
  parts.push(Buffer.from([0, 0, Amf0Type.OBJECT_END]));
  return Buffer.concat(parts);
}
