/**
 * RFC 7587 Opus RTP payload: one Opus packet per RTP packet, unchanged, with a 48 kHz timestamp
 * (4.1, 4.2). Opus packets cannot be fragmented, so a packet larger than the MTU is sent whole.
 */
import type { Frame } from '../../core/media.ts';
import { FramePerPacketDepayloader } from '../passthrough.ts';
import { PayloaderBase } from '../rtp-base.ts';
import { DEFAULT_MTU, type RtpOutput } from '../rtp-types.ts';
import { opusPacketDuration } from './toc.ts';

/** Opus depayloader: drops (and counts in `invalid`) empty packets and packets with a malformed TOC. */
export class OpusDepayloader extends FramePerPacketDepayloader {
  constructor() {
    super((payload) => {
      opusPacketDuration(payload);
    });
  }
}

/** Opus payloader: the frame as it is, marker set. */
export class OpusPayloader extends PayloaderBase {
  /** @param mtu payload size limit in bytes (informational: Opus packets are never split). */
  constructor(mtu = DEFAULT_MTU) {
    super(mtu, 1);
  }

  packetize(frame: Frame): RtpOutput[] {
    return [{ payload: frame.data, timestamp: frame.pts, marker: true }];
  }
}
