/**
 * Splits an Opus packet into its frames (RFC 6716 3.2) and rebuilds single-frame (code 0)
 * packets from them. The decoder uses it for packets longer than 60 ms: the libopus build of
 * `opusscript` corrupts its heap when one call decodes more than 60 ms (found by fuzzing: after
 * some hundred random 120 ms packets the WebAssembly module traps), so such packets are decoded
 * one frame at a time, which gives the same samples.
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   | config  |s| c |   c = 0: one frame; 1: two equal frames; 2: two frames, the first one's
 *   +-+-+-+-+-+-+-+-+   length coded in 1-2 bytes; 3: a frame count byte |v|p|  M  | follows,
 *                        then padding lengths (p), then M-1 frame lengths (v = VBR), frames,
 *                        padding.
 */
import { ParseError } from '../core/errors.ts';

const WHAT = 'Opus packet';
const CODE_MASK = 0x03;
const CODE_ONE = 0;
const CODE_TWO_EQUAL = 1;
const CODE_TWO = 2;
const VBR_BIT = 0x80;
const PADDING_BIT = 0x40;
const COUNT_MASK = 0x3f;
/** A length byte below 252 is the length; 252..255 add 4 × the next byte (RFC 6716 3.2.1). */
const TWO_BYTE_LENGTH = 252;
/** A padding length byte of 255 means 254 bytes and another length byte follows (3.2.5). */
const PADDING_CONTINUES = 255;
/** R2: no frame is longer than 1275 bytes. */
const MAX_FRAME_BYTES = 1275;

/** Reads a frame length at `offset`; returns [length, bytes used]. */
function frameLength(packet: Uint8Array, offset: number, end: number): [number, number] {
  if (offset >= end) throw new ParseError(WHAT, 'frame length missing', offset);
  const first = packet[offset];
  if (first < TWO_BYTE_LENGTH) return [first, 1];
  if (offset + 1 >= end) throw new ParseError(WHAT, 'second frame length byte missing', offset);
  return [first + 4 * packet[offset + 1], 2];
}

function checkFrame(size: number, offset: number): void {
  if (size > MAX_FRAME_BYTES)
    throw new ParseError(WHAT, `frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`, offset);
}

/**
 * The frames of a packet, as views (`subarray`) into it, in order. Throws `ParseError` when the
 * packet breaks RFC 6716 3.4 (requirements R1-R7). Does not check the total duration.
 */
export function splitOpusFrames(packet: Uint8Array): Uint8Array[] {
  ParseError.need(WHAT, packet, 0, 1, 'TOC byte');
  const code = packet[0] & CODE_MASK;
  const n = packet.length;
  if (code === CODE_ONE) {
    checkFrame(n - 1, 1);
    return [packet.subarray(1)];
  }
  if (code === CODE_TWO_EQUAL) {
    if ((n - 1) % 2 !== 0) throw new ParseError(WHAT, `code 1 payload of ${n - 1} bytes is odd`, 1);
    const size = (n - 1) / 2;
    checkFrame(size, 1);
    return [packet.subarray(1, 1 + size), packet.subarray(1 + size)];
  }
  if (code === CODE_TWO) {
    const [size, used] = frameLength(packet, 1, n);
    const start = 1 + used;
    if (start + size > n) throw new ParseError(WHAT, `first frame of ${size} bytes exceeds the packet`, 1);
    checkFrame(size, 1);
    checkFrame(n - start - size, start + size);
    return [packet.subarray(start, start + size), packet.subarray(start + size)];
  }
  return splitCode3(packet);
}

function splitCode3(packet: Uint8Array): Uint8Array[] {
  ParseError.need(WHAT, packet, 1, 1, 'frame count byte');
  const header = packet[1];
  const count = header & COUNT_MASK;
  if (count === 0) throw new ParseError(WHAT, 'frame count 0', 1);
  let offset = 2;
  let end = packet.length;
  if (header & PADDING_BIT) {
    let padding = 0;
    for (;;) {
      if (offset >= end) throw new ParseError(WHAT, 'padding length missing', offset);
      const byte = packet[offset++];
      padding += byte === PADDING_CONTINUES ? PADDING_CONTINUES - 1 : byte;
      if (byte !== PADDING_CONTINUES) break;
    }
    end -= padding;
    if (end < offset) throw new ParseError(WHAT, `padding of ${padding} bytes exceeds the packet`, offset);
  }
  const sizes: number[] = [];
  if (header & VBR_BIT) {
    for (let i = 0; i < count - 1; i++) {
      const [size, used] = frameLength(packet, offset, end);
      offset += used;
      sizes.push(size);
    }
    const known = sizes.reduce((a, b) => a + b, 0);
    if (offset + known > end)
      throw new ParseError(WHAT, `frames of ${known} bytes exceed the packet`, offset);
    sizes.push(end - offset - known);
  } else {
    const total = end - offset;
    if (total % count !== 0)
      throw new ParseError(WHAT, `${total} bytes do not split into ${count} equal frames`, offset);
    for (let i = 0; i < count; i++) sizes.push(total / count);
  }
  const frames: Uint8Array[] = [];
  for (const size of sizes) {
    checkFrame(size, offset);
    frames.push(packet.subarray(offset, offset + size));
    offset += size;
  }
  return frames;
}

/** A code 0 packet holding one frame, with the TOC's config and stereo bit of `toc`. */
export function singleFramePacket(toc: number, frame: Uint8Array): Buffer {
  const packet = Buffer.allocUnsafe(1 + frame.length);
  packet[0] = (toc & ~CODE_MASK) | CODE_ONE;
  packet.set(frame, 1);
  return packet;
}
