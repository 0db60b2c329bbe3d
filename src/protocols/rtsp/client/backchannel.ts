/**
 * The ONVIF audio back channel of an RTSP source (ONVIF Streaming Specification 5.3): the client
 * asks for it with a `Require` feature tag on DESCRIBE (and its later requests), the camera adds
 * an `a=sendonly` audio section to its SDP, the client SETUPs it like the other media and then
 * sends RTP on it: interleaved on the RTSP connection (its RTP channel) or to the camera's UDP
 * port. Frames are packetized once with the codec's payloader and one RTP encoder (one SSRC and
 * sequence for the life of the connection).
 */
import { randomInt } from 'node:crypto';
import { canDecode, ENGINE_CODECS } from '../../../audio/engine/codecs.ts';
import { createPayloader, type Payloader } from '../../../codecs/index.ts';
import type { Codec, Frame } from '../../../core/media.ts';
import type { Backchannel } from '../../../core/source.ts';
import { RtpEncoder } from '../../../rtp/encoder.ts';

/** The feature tag of the back channel (ONVIF Streaming Specification 5.3.1). */
export const BACKCHANNEL_TAG = 'www.onvif.org/ver20/backchannel';
/** Interleaved back-channel audio waiting in the socket beyond this is dropped, bytes (about 30 s of G.711). */
export const MAX_BACKCHANNEL_BACKLOG_BYTES = 256 * 1024;
/** Dynamic payload type used when the camera's SDP gives none (it always does). */
const FALLBACK_PAYLOAD_TYPE = 96;

/** True for a back-channel codec the gateway can produce: G.711, L16 or Opus. */
export function canSendBack(codec: Codec): boolean {
  return ENGINE_CODECS.has(codec.name) && canDecode(codec);
}

/** Counters of a back channel. */
export interface BackchannelCounters {
  frames: number;
  packets: number;
  /** Packets dropped: connection gone or socket backlog over the limit. */
  dropped: number;
  /** Frames the payloader refused (not whole samples). */
  errors: number;
}

export class RtspBackchannel implements Backchannel {
  readonly counters: BackchannelCounters = { frames: 0, packets: 0, dropped: 0, errors: 0 };
  readonly #payloader: Payloader;
  readonly #encoder: RtpEncoder;

  /**
   * @param codec the codec of the camera's `a=sendonly` section, with its payload type
   * @param write sends one RTP packet; false when it was dropped
   */
  constructor(
    readonly codec: Codec,
    private readonly write: (packet: Buffer) => boolean,
  ) {
    this.#payloader = createPayloader(codec);
    this.#encoder = new RtpEncoder({
      payloadType: codec.payloadType ?? FALLBACK_PAYLOAD_TYPE,
      ssrc: randomInt(1, 0xffffffff),
      clockRate: codec.clockRate,
    });
  }

  get ssrc(): number {
    return this.#encoder.ssrc;
  }

  send(frame: Frame): void {
    this.counters.frames++;
    let outputs: ReturnType<Payloader['packetize']>;
    try {
      outputs = this.#payloader.packetize(frame);
    } catch {
      this.counters.errors++;
      return;
    }
    for (const out of outputs) {
      for (const packet of this.#encoder.encode([out.payload], out.timestamp, out.marker)) {
        if (this.write(packet)) this.counters.packets++;
        else this.counters.dropped++;
      }
    }
  }
}
