/**
 * RFC 3640 `mpeg4-generic` AAC payloader: one access unit per packet with one AU header (3.2.1),
 * fragmented over several packets when it exceeds the MTU (3.2.3), each fragment repeating the
 * header with the size of the whole AU. The marker is on every packet that ends an AU.
 * Diagram in `depayloader.ts`.
 */
import { BadRequestError } from '../../core/errors.ts';
import type { Codec, Frame } from '../../core/media.ts';
import { BitWriter } from '../bit-writer.ts';
import { PayloaderBase } from '../rtp-base.ts';
import { DEFAULT_MTU, type RtpOutput } from '../rtp-types.ts';
import { type AuHeaderLayout, auHeaderLayout } from './fmtp.ts';

const HEADERS_LENGTH_SIZE = 2;
const BITS_PER_BYTE = 8;

/** RFC 3640 AAC payloader: one AU per packet, fragmented above the MTU. */
export class AacPayloader extends PayloaderBase {
  private readonly layout: AuHeaderLayout;
  private readonly headerBytes: number;

  /**
   * @param codec AAC codec; its fmtp gives the AU-header layout (default AAC-hbr).
   * @param mtu payload size limit in bytes, default `DEFAULT_MTU`.
   */
  constructor(codec?: Codec, mtu = DEFAULT_MTU) {
    const layout = auHeaderLayout(codec?.fmtp);
    const headerBytes =
      HEADERS_LENGTH_SIZE + Math.ceil((layout.sizeLength + layout.indexLength) / BITS_PER_BYTE);
    super(mtu, headerBytes + 1);
    this.layout = layout;
    this.headerBytes = headerBytes;
  }

  /** Throws `BadRequestError` when the AU is empty or too large for the AU-size field. */
  packetize(frame: Frame): RtpOutput[] {
    const au = frame.data;
    const { sizeLength, indexLength } = this.layout;
    if (au.length === 0 || au.length >= 2 ** sizeLength) {
      throw new BadRequestError(
        `AAC access unit of ${au.length} bytes does not fit a ${sizeLength}-bit AU-size`,
      );
    }
    const header = new BitWriter()
      .u(16, sizeLength + indexLength)
      .u(sizeLength, au.length)
      .u(indexLength, 0)
      .toBuffer();
    const max = this.mtu - this.headerBytes;
    const out: RtpOutput[] = [];
    for (let o = 0; o < au.length; o += max) {
      const chunk = au.subarray(o, Math.min(o + max, au.length));
      out.push({
        payload: Buffer.concat([header, chunk]),
        timestamp: frame.pts,
        marker: o + max >= au.length,
      });
    }
    return out;
  }
}
