/**
 * A streaming FLV demuxer (Adobe FLV 10.1 Annex E): the file header and the tag framing, with the
 * tag bodies handed to an `FlvTagReader`.
 *
 *   header: Signature 'FLV' (24) | Version (8) | TypeFlagsReserved (5) | TypeFlagsAudio (1)
 *           TypeFlagsReserved (1) | TypeFlagsVideo (1) | DataOffset (32) = 9 | PreviousTagSize0 (32) = 0
 *   tag:    Reserved (2) | Filter (1) | TagType (5) | DataSize (24) | Timestamp (24)
 *           TimestampExtended (8) | StreamID (24) = 0 | Data | PreviousTagSize (32) = 11 + DataSize
 *
 * Damage is skipped, not thrown: bytes before the signature, tags with an impossible header or a
 * PreviousTagSize that does not match (unless the next tag header looks sound, as some writers get
 * the field wrong) make the demuxer search byte by byte for the next sound tag.
 */
import { FlvTagReader } from './tag-reader.ts';
import type { FlvEvent, FlvReaderOptions, FlvStats } from './types.ts';
import { TagType } from './types.ts';

const SIGNATURE = Buffer.from('FLV', 'latin1');
/** Header bytes up to and including DataOffset. */
export const FLV_HEADER_SIZE = 9;
/** Bytes of a tag header before its data. */
export const FLV_TAG_HEADER_SIZE = 11;
/** Bytes of a PreviousTagSize field. */
export const PREVIOUS_TAG_SIZE_SIZE = 4;
const FLAGS_OFFSET = 4;
const DATA_OFFSET_OFFSET = 5;
const FLAG_AUDIO = 0x04;
const FLAG_VIDEO = 0x01;
/** A DataOffset beyond this is not believed (the header is 9 bytes in every FLV version). */
const MAX_DATA_OFFSET = 1024;
const DEFAULT_MAX_TAG_SIZE = 16 << 20;
const RESERVED_MASK = 0xc0;
const FILTER = 0x20;
const TAG_TYPE_MASK = 0x1f;
const TIMESTAMP_EXTENDED_SHIFT = 2 ** 24;

/** Streaming FLV demuxer; see the file comment. Events as `TsDemuxer`'s. */
export class FlvDemuxer {
  /** The reader of tag bodies; has the onMetaData object and the video size. */
  readonly reader: FlvTagReader;
  private readonly maxTagSize: number;
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes needed before parsing can go on. */
  private need = 0;
  private inHeader = true;
  private resyncing = false;

  constructor(options: FlvReaderOptions = {}) {
    this.reader = new FlvTagReader(options);
    this.maxTagSize = options.maxTagSize ?? DEFAULT_MAX_TAG_SIZE;
  }

  /** Counters of the demuxer and its reader. */
  get stats(): FlvStats {
    return this.reader.stats;
  }

  /** Feeds bytes of the file; returns the events they complete. Never throws on bad input. */
  push(chunk: Buffer): FlvEvent[] {
    if (chunk.length === 0) return [];
    this.size += chunk.length;
    if (this.size < this.need) {
      this.parts.push(Buffer.from(chunk)); // held past this call: a copy, the caller may reuse its buffer
      return [];
    }
    this.parts.push(chunk);
    return this.run(false);
  }

  /** Ends the input: whatever is left is counted as garbage, and held tracks are opened. */
  flush(): FlvEvent[] {
    const out = this.size > 0 ? this.run(true) : [];
    this.stats.garbageBytes += this.size;
    this.parts = [];
    this.size = 0;
    out.push(...this.reader.flush());
    return out;
  }

  private run(final: boolean): FlvEvent[] {
    const buf = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
    const out: FlvEvent[] = [];
    const o = this.process(buf, final, out);
    const rest = buf.subarray(o);
    this.parts = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.size = rest.length;
    return out;
  }

  /** Handles what `buf` holds; returns the offset of the first byte not consumed. */
  private process(buf: Buffer, final: boolean, out: FlvEvent[]): number {
    let o = 0;
    this.need = 0;
    for (;;) {
      if (this.inHeader) {
        const at = buf.indexOf(SIGNATURE, o);
        if (at < 0) {
          const keep = Math.max(o, buf.length - (SIGNATURE.length - 1));
          this.stats.garbageBytes += keep - o;
          return keep;
        }
        this.stats.garbageBytes += at - o;
        o = at;
        if (buf.length - o < FLV_HEADER_SIZE) break;
        const dataOffset = buf.readUInt32BE(o + DATA_OFFSET_OFFSET);
        if (dataOffset < FLV_HEADER_SIZE || dataOffset > MAX_DATA_OFFSET) {
          this.stats.garbageBytes++;
          o++;
          continue;
        }
        if (buf.length - o < dataOffset + PREVIOUS_TAG_SIZE_SIZE) {
          this.need = dataOffset + PREVIOUS_TAG_SIZE_SIZE;
          break;
        }
        const flags = buf[o + FLAGS_OFFSET];
        this.reader.expect({ audio: (flags & FLAG_AUDIO) !== 0, video: (flags & FLAG_VIDEO) !== 0 });
        o += dataOffset + PREVIOUS_TAG_SIZE_SIZE; // PreviousTagSize0 is always 0
        this.inHeader = false;
        continue;
      }
      if (buf.length - o < FLV_TAG_HEADER_SIZE) {
        this.need = FLV_TAG_HEADER_SIZE;
        break;
      }
      if (!this.soundHeader(buf, o, this.resyncing)) {
        this.resyncing = true;
        this.stats.garbageBytes++;
        o++;
        continue;
      }
      const dataSize = buf.readUIntBE(o + 1, 3);
      const total = FLV_TAG_HEADER_SIZE + dataSize + PREVIOUS_TAG_SIZE_SIZE;
      if (buf.length - o < total) {
        this.need = total;
        break;
      }
      if (buf.readUInt32BE(o + total - PREVIOUS_TAG_SIZE_SIZE) !== FLV_TAG_HEADER_SIZE + dataSize) {
        // Believe the tag only if what follows it looks like a tag.
        const next = o + total;
        if (!this.resyncing && buf.length - next < FLV_TAG_HEADER_SIZE && !final) {
          this.need = total + FLV_TAG_HEADER_SIZE;
          break;
        }
        if (
          this.resyncing ||
          (buf.length - next >= FLV_TAG_HEADER_SIZE && !this.soundHeader(buf, next, true))
        ) {
          if (!this.resyncing) this.stats.previousTagSizeErrors++;
          this.resyncing = true;
          this.stats.garbageBytes++;
          o++;
          continue;
        }
        this.stats.previousTagSizeErrors++;
      }
      this.resyncing = false;
      this.tag(buf, o, dataSize, out);
      o += total;
    }
    return o;
  }

  /** True when the tag header at `o` is possible; `strict` also wants StreamID 0 (while resyncing). */
  private soundHeader(buf: Buffer, o: number, strict: boolean): boolean {
    const b0 = buf[o];
    const type = b0 & TAG_TYPE_MASK;
    if (b0 & RESERVED_MASK) return false;
    if (type !== TagType.AUDIO && type !== TagType.VIDEO && type !== TagType.SCRIPT) return false;
    if (buf.readUIntBE(o + 1, 3) > this.maxTagSize) return false;
    return !strict || buf.readUIntBE(o + 8, 3) === 0;
  }

  private tag(buf: Buffer, o: number, dataSize: number, out: FlvEvent[]): void {
    const b0 = buf[o];
    const timestamp = buf.readUIntBE(o + 4, 3) + buf[o + 7] * TIMESTAMP_EXTENDED_SHIFT;
    const body = buf.subarray(o + FLV_TAG_HEADER_SIZE, o + FLV_TAG_HEADER_SIZE + dataSize);
    if (b0 & FILTER) {
      this.stats.tags++;
      this.stats.invalidTags++; // encrypted
      return;
    }
    for (const e of this.reader.push(b0 & TAG_TYPE_MASK, body, timestamp)) out.push(e);
  }
}
