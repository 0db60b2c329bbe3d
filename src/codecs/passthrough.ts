/**
 * Depayloading for audio formats that put exactly one frame in each packet (Opus, G.711, L16):
 * the payload is the frame and the RTP timestamp its pts. Every frame is a keyframe.
 */
import { ParseError } from '../core/errors.ts';
import { DepayloaderBase } from './rtp-base.ts';
import type { RtpInput } from './rtp-types.ts';

/** A depayloader whose every packet payload is one frame (a view of the packet). */
export class FramePerPacketDepayloader extends DepayloaderBase {
  private readonly validate: ((payload: Buffer) => void) | undefined;

  /**
   * @param validate throws `ParseError` for a payload that is not a valid frame; such packets (and
   * empty ones) are dropped and counted in `invalid`.
   */
  constructor(validate?: (payload: Buffer) => void) {
    super();
    this.validate = validate;
  }

  /** Nothing to drop: no frame spans packets. */
  reset(): void {}

  protected receive(pkt: RtpInput): void {
    if (pkt.payload.length === 0) {
      this.invalid++;
      return;
    }
    try {
      this.validate?.(pkt.payload);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.invalid++;
      return;
    }
    this.emit({ pts: pkt.timestamp, dts: pkt.timestamp, keyframe: true, data: pkt.payload });
  }
}
