/**
 * RFC 3640 `mpeg4-generic` AAC depayloader (modes AAC-hbr and AAC-lbr): one or more access units per
 * packet (3.2.1, 3.3.6), or one access unit fragmented over several packets (3.2.3).
 *
 *   +---------+-----------+-----------+---------------+
 *   | RTP     | AU Header | Auxiliary | Access Unit   |
 *   | Header  | Section   | Section   | Data Section  |
 *   +---------+-----------+-----------+---------------+
 *   AU Header Section:
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- .. -+-+-+-+-+-+-+-+-+-+
 *   |AU-headers-length (16, in bits)|AU-header|AU-header|..|padding|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- .. -+-+-+-+-+-+-+-+-+-+
 *   AU-header (hbr): AU-size (13) | AU-Index (3), or AU-Index-delta (3) after the first
 *
 * A fragment carries one AU header whose size is that of the whole AU; fragmentation is detected
 * from the size exceeding the data, so it works whether the sender sets the marker on every
 * fragment or only the last. AU indexes are not used (no interleaving): AUs are emitted in
 * packet order, AU i at `timestamp + i * frame duration`. Malformed packets are dropped and
 * counted in `invalid`; a partly received fragmented AU is dropped and counted in `dropped`.
 */
import { ParseError } from '../../core/errors.ts';
import type { Codec } from '../../core/media.ts';
import { BitReader } from '../bit-reader.ts';
import { DepayloaderBase } from '../rtp-base.ts';
import type { RtpInput } from '../rtp-types.ts';
import { parseAudioSpecificConfig } from './config.ts';
import { type AuHeaderLayout, aacConfigFromHex, auHeaderLayout } from './fmtp.ts';

const WHAT = 'RFC 3640';
const HEADERS_LENGTH_SIZE = 2;
const BITS_PER_BYTE = 8;
const SEQUENCE_MODULO = 0x10000;
const DEFAULT_FRAME_LENGTH = 1024;

interface PartialAu {
  size: number;
  timestamp: number;
  parts: Buffer[];
  received: number;
}

/** RFC 3640 AAC depayloader: emits each access unit as a frame; see the file comment. */
export class AacDepayloader extends DepayloaderBase {
  /** Duration of one AU in clock units (frame length scaled from the sample rate to the clock rate). */
  readonly frameDuration: number;
  private readonly layout: AuHeaderLayout;
  private partial: PartialAu | undefined;
  private lastSeq: number | undefined;
  /** Timestamp of a fragmented AU dropped by `reset()`: its remaining fragments are skipped. */
  private discardTs: number | undefined;

  /**
   * @param codec AAC codec; its fmtp gives the AU-header layout and `config`.
   * Throws `UnsupportedError` for AU-header fields other than size and index.
   */
  constructor(codec: Codec) {
    super();
    this.layout = auHeaderLayout(codec.fmtp);
    let frameLength = DEFAULT_FRAME_LENGTH;
    let sampleRate = codec.clockRate;
    try {
      if (codec.fmtp?.config) {
        const asc = parseAudioSpecificConfig(aacConfigFromHex(codec.fmtp.config));
        frameLength = asc.frameLength;
        sampleRate = asc.sampleRate;
      }
    } catch (err) {
      if (!(err instanceof ParseError)) throw err; // assume 1024 samples at the clock rate
    }
    this.frameDuration = Math.round((frameLength * codec.clockRate) / sampleRate);
  }

  reset(): void {
    if (this.partial) {
      this.dropped++;
      this.discardTs = this.partial.timestamp;
    }
    this.partial = undefined;
    this.lastSeq = undefined;
  }

  protected receive(pkt: RtpInput): void {
    if (this.lastSeq !== undefined) {
      const delta = (pkt.sequenceNumber - this.lastSeq + SEQUENCE_MODULO) % SEQUENCE_MODULO;
      if (delta === 0) return; // duplicate
      if (delta !== 1) this.reset();
    }
    this.lastSeq = pkt.sequenceNumber;
    if (this.discardTs !== undefined && pkt.timestamp !== this.discardTs) this.discardTs = undefined;
    try {
      this.depacketize(pkt);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.invalid++;
      if (this.partial) {
        this.partial = undefined;
        this.dropped++;
      }
    }
  }

  private readSizes(payload: Buffer): { sizes: number[]; dataOffset: number } {
    ParseError.need(WHAT, payload, 0, HEADERS_LENGTH_SIZE, 'AU-headers-length');
    const bits = payload.readUInt16BE(0);
    const bytes = Math.ceil(bits / BITS_PER_BYTE);
    ParseError.need(WHAT, payload, HEADERS_LENGTH_SIZE, bytes, 'AU headers');
    const { sizeLength, indexLength, indexDeltaLength } = this.layout;
    const first = sizeLength + indexLength;
    const next = sizeLength + indexDeltaLength;
    if (bits < first || (bits - first) % next !== 0) {
      throw new ParseError(WHAT, `AU-headers-length ${bits} is not ${first} + n * ${next} bits`);
    }
    const r = new BitReader(WHAT, payload.subarray(HEADERS_LENGTH_SIZE, HEADERS_LENGTH_SIZE + bytes));
    const sizes: number[] = [];
    for (let i = 0; r.bitOffset < bits; i++) {
      sizes.push(r.u(sizeLength, 'AU-size'));
      r.skip(i === 0 ? indexLength : indexDeltaLength, 'AU-Index');
    }
    return { sizes, dataOffset: HEADERS_LENGTH_SIZE + bytes };
  }

  private depacketize(pkt: RtpInput): void {
    const { sizes, dataOffset } = this.readSizes(pkt.payload);
    const data = pkt.payload.subarray(dataOffset);
    if (sizes.length === 1 && sizes[0] > data.length) {
      this.fragment(sizes[0], data, pkt.timestamp);
      return;
    }
    if (this.partial) {
      // A complete AU arrived while a fragmented one was unfinished: its rest is lost.
      this.partial = undefined;
      this.dropped++;
    }
    let o = 0;
    for (const size of sizes) {
      if (size === 0) throw new ParseError(WHAT, 'AU-size 0', dataOffset + o);
      ParseError.need(WHAT, data, o, size, 'access unit');
      o += size;
    }
    o = 0;
    sizes.forEach((size, i) => {
      const pts = pkt.timestamp + i * this.frameDuration;
      this.emit({ pts, dts: pts, keyframe: true, data: data.subarray(o, o + size) });
      o += size;
    });
  }

  private fragment(size: number, data: Buffer, timestamp: number): void {
    if (timestamp === this.discardTs) return; // the rest of an AU that lost a fragment
    let p = this.partial;
    if (p && (p.size !== size || p.timestamp !== timestamp)) {
      this.partial = undefined; // a new AU started before the previous one was complete
      this.dropped++;
      p = undefined;
    }
    if (!p) {
      p = { size, timestamp, parts: [], received: 0 };
      this.partial = p;
    }
    if (data.length === 0) throw new ParseError(WHAT, 'empty AU fragment');
    p.parts.push(data);
    p.received += data.length;
    if (p.received > size)
      throw new ParseError(WHAT, `AU fragments of ${p.received} bytes exceed AU-size ${size}`);
    if (p.received === size) {
      this.partial = undefined;
      this.emit({ pts: timestamp, dts: timestamp, keyframe: true, data: Buffer.concat(p.parts) });
    }
  }
}
