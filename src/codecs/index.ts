/**
 * The codec layer: pure parsers, builders and RTP (de)packetizers per codec, and the factories the
 * RTP layer uses to get a depayloader or payloader for a negotiated codec.
 */
import { UnsupportedError } from '../core/errors.ts';
import { type Codec, codecToString } from '../core/media.ts';
import { AacDepayloader } from './aac/depayloader.ts';
import { AacPayloader } from './aac/payloader.ts';
import { PcmDepayloader, PcmPayloader } from './g711/rtp.ts';
import { H264Depayloader } from './h264/depayloader.ts';
import { H264Payloader } from './h264/payloader.ts';
import { H265Depayloader } from './h265/depayloader.ts';
import { H265Payloader } from './h265/payloader.ts';
import { OpusDepayloader, OpusPayloader } from './opus/rtp.ts';
import { DEFAULT_MTU, type Depayloader, type Payloader } from './rtp-types.ts';

export * as aac from './aac/index.ts';
export * as g711 from './g711/index.ts';
export * as h264 from './h264/index.ts';
export * as h265 from './h265/index.ts';
export * as opus from './opus/index.ts';
export { depayloadAll, MAX_QUEUED_FRAMES } from './rtp-base.ts';
export { DEFAULT_MTU, type Depayloader, type Payloader, type RtpInput, type RtpOutput } from './rtp-types.ts';

/**
 * A depayloader for `codec` (H264, H265, AAC as RFC 3640 mpeg4-generic, OPUS, PCMA, PCMU, L16).
 * Throws `UnsupportedError` for other codecs and for unsupported variants (H.265 with DONL, RFC
 * 3640 with CTS/DTS fields).
 */
export function createDepayloader(codec: Codec): Depayloader {
  switch (codec.name) {
    case 'H264':
      return new H264Depayloader(codec);
    case 'H265':
      return new H265Depayloader(codec);
    case 'AAC':
      return new AacDepayloader(codec);
    case 'OPUS':
      return new OpusDepayloader();
    case 'PCMA':
    case 'PCMU':
    case 'L16':
      return new PcmDepayloader();
    default:
      throw new UnsupportedError(`no RTP depayloader for ${codecToString(codec)}`);
  }
}

/**
 * A payloader for `codec` with a payload size limit of `mtu` bytes (default `DEFAULT_MTU`).
 * Throws `UnsupportedError` for codecs without one.
 */
export function createPayloader(codec: Codec, mtu = DEFAULT_MTU): Payloader {
  switch (codec.name) {
    case 'H264':
      return new H264Payloader(codec, { mtu });
    case 'H265':
      return new H265Payloader(codec, { mtu });
    case 'AAC':
      return new AacPayloader(codec, mtu);
    case 'OPUS':
      return new OpusPayloader(mtu);
    case 'PCMA':
    case 'PCMU':
    case 'L16':
      return new PcmPayloader(codec, mtu);
    default:
      throw new UnsupportedError(`no RTP payloader for ${codecToString(codec)}`);
  }
}
