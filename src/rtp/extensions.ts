/**
 * RTP header extension elements (RFC 8285): the one-byte form (profile 0xBEDE, §4.2) and the
 * two-byte form (profile 0x100X, §4.3) carried inside the block of RFC 3550 §5.3.1.
 */
import { BadRequestError, ParseError } from '../core/errors.ts';
import { align4, ensureRoom } from './bytes.ts';
import type { RtpExtensionBlock } from './packet.ts';

/** "Defined by profile" value of a one-byte extension block. */
export const ONE_BYTE_PROFILE = 0xbede;
/** "Defined by profile" value of a two-byte block; the low 4 bits ("appbits") are application data. */
export const TWO_BYTE_PROFILE = 0x1000;

const WHAT = 'RTP header extension';
const TWO_BYTE_PROFILE_MASK = 0xfff0;
const PADDING_ID = 0;
/** RFC 8285 §4.2: ID 15 ends the processing of a one-byte block. */
const ONE_BYTE_STOP_ID = 15;
const ONE_BYTE_MAX_ID = 14;
const ONE_BYTE_MAX_LENGTH = 16;
const TWO_BYTE_MAX_ID = 255;
const TWO_BYTE_MAX_LENGTH = 255;

/** One extension element: its local ID (from SDP `a=extmap`) and its data. */
export interface RtpExtensionElement {
  id: number;
  /** From `readExtensions()` a view (subarray) aliasing the packet. */
  data: Buffer;
}

/** Which RFC 8285 form a block uses. */
export type RtpExtensionForm = 'one-byte' | 'two-byte';

/* RFC 8285 §4.2 one-byte elements (L = length - 1), then §4.3 two-byte elements:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       0xBE    |    0xDE       |           length=3            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  ID   | L=0   |     data      |  ID   |  L=1  |   data...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       0x10    |    0x0X       |           length=3            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      ID       |     L=0       |     ID        |     L=1       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       data    |    0 (pad)    |       0 (pad) |    0 (pad)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A zero byte where an ID is expected is padding (ID 0) in both forms.
 */

/** The form of `ext`, or undefined when its profile is neither RFC 8285 form. */
export function extensionFormOf(ext: RtpExtensionBlock): RtpExtensionForm | undefined {
  if (ext.profile === ONE_BYTE_PROFILE) return 'one-byte';
  if ((ext.profile & TWO_BYTE_PROFILE_MASK) === TWO_BYTE_PROFILE) return 'two-byte';
  return undefined;
}

/**
 * Walks the elements of `ext`: with `out` collects all of them, otherwise returns the data of the
 * first element with `wantId`. Throws `ParseError` when an element runs past the block.
 */
function walk(ext: RtpExtensionBlock, wantId: number, out?: RtpExtensionElement[]): Buffer | undefined {
  const form = extensionFormOf(ext);
  if (!form) return undefined;
  const data = ext.data;
  let i = 0;
  while (i < data.length) {
    let id: number;
    let length: number;
    if (form === 'one-byte') {
      id = data[i] >> 4;
      if (id === PADDING_ID) {
        i++;
        continue;
      }
      if (id === ONE_BYTE_STOP_ID) break;
      length = (data[i] & 0x0f) + 1;
      i++;
    } else {
      id = data[i];
      if (id === PADDING_ID) {
        i++;
        continue;
      }
      ParseError.need(WHAT, data, i + 1, 1, `length of element ${id}`);
      length = data[i + 1];
      i += 2;
    }
    ParseError.need(WHAT, data, i, length, `element ${id}`);
    const value = data.subarray(i, i + length);
    i += length;
    if (out) out.push({ id, data: value });
    else if (id === wantId) return value;
  }
  return undefined;
}

/**
 * The RFC 8285 elements of `ext` in wire order, padding skipped; data are views into the block.
 * Returns [] for a block that is neither form. Throws `ParseError` when an element runs past the
 * end of the block.
 */
export function readExtensions(ext: RtpExtensionBlock): RtpExtensionElement[] {
  const out: RtpExtensionElement[] = [];
  walk(ext, -1, out);
  return out;
}

/**
 * The data of the first element with local ID `id` (a view), or undefined; no allocation besides
 * the view. Throws `ParseError` like `readExtensions()` for a malformed element before the match.
 */
export function findExtension(ext: RtpExtensionBlock, id: number): Buffer | undefined {
  return walk(ext, id);
}

/** The one-byte form when every element fits it (ID 1-14, 1-16 bytes), else the two-byte form. */
export function chooseExtensionForm(elements: readonly RtpExtensionElement[]): RtpExtensionForm {
  for (const e of elements) {
    if (e.id < 1 || e.id > ONE_BYTE_MAX_ID || e.data.length < 1 || e.data.length > ONE_BYTE_MAX_LENGTH) {
      return 'two-byte';
    }
  }
  return 'one-byte';
}

function check(elements: readonly RtpExtensionElement[], form: RtpExtensionForm): void {
  const oneByte = form === 'one-byte';
  const maxId = oneByte ? ONE_BYTE_MAX_ID : TWO_BYTE_MAX_ID;
  const minLength = oneByte ? 1 : 0;
  const maxLength = oneByte ? ONE_BYTE_MAX_LENGTH : TWO_BYTE_MAX_LENGTH;
  for (const e of elements) {
    if (!Number.isInteger(e.id) || e.id < 1 || e.id > maxId) {
      throw new BadRequestError(`${WHAT}: ID ${e.id} not allowed in the ${form} form (1-${maxId})`);
    }
    if (e.data.length < minLength || e.data.length > maxLength) {
      throw new BadRequestError(
        `${WHAT}: element ${e.id} has ${e.data.length} bytes, the ${form} form allows ${minLength}-${maxLength}`,
      );
    }
  }
}

/** Size in bytes of the block data for `elements` in `form`, padded to a multiple of 4. */
export function extensionsSize(elements: readonly RtpExtensionElement[], form: RtpExtensionForm): number {
  const perElement = form === 'one-byte' ? 1 : 2;
  let n = 0;
  for (const e of elements) n += perElement + e.data.length;
  return align4(n);
}

/**
 * Writes the block data (elements and zero padding, without the 4-byte block header) at `offset`
 * and returns the bytes written. Throws `BadRequestError` for an ID or length the form cannot carry
 * or a buffer that is too small.
 */
export function writeExtensions(
  elements: readonly RtpExtensionElement[],
  form: RtpExtensionForm,
  buf: Buffer,
  offset: number,
): number {
  check(elements, form);
  const size = extensionsSize(elements, form);
  ensureRoom(WHAT, buf, offset, size);
  const end = offset + size;
  for (const e of elements) {
    if (form === 'one-byte') {
      buf[offset++] = (e.id << 4) | (e.data.length - 1);
    } else {
      buf[offset++] = e.id;
      buf[offset++] = e.data.length;
    }
    offset += e.data.copy(buf, offset);
  }
  buf.fill(PADDING_ID, offset, end);
  return size;
}

/**
 * Builds a new extension block for `elements`, in `form` or else the smallest form that fits
 * (`chooseExtensionForm()`). The result goes into `RtpPacket.extension`.
 */
export function serializeExtensions(
  elements: readonly RtpExtensionElement[],
  form: RtpExtensionForm = chooseExtensionForm(elements),
): RtpExtensionBlock {
  const data = Buffer.allocUnsafe(extensionsSize(elements, form));
  writeExtensions(elements, form, data, 0);
  return { profile: form === 'one-byte' ? ONE_BYTE_PROFILE : TWO_BYTE_PROFILE, data };
}
