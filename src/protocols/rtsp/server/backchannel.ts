/**
 * A back channel for the RTSP server's own readers, as ONVIF cameras offer one: a reader whose URL
 * has `?backchannel=1`, or whose DESCRIBE carries `Require: www.onvif.org/ver20/backchannel` (an
 * ONVIF client, another gateway), gets one more media in the DESCRIBE answer, an audio section marked
 * `a=sendonly` (RTSP convention: the client sends), in the stream's back-channel codec when the
 * engine handles it, else PCMA/8000. RTP the client sends on it after SETUP (interleaved or UDP) is
 * depacketized and goes into the stream's back channel through a `Talk` (first talker wins).
 */
import { canDecode, ENGINE_CODECS } from '../../../audio/engine/codecs.ts';
import type { Codec, Media } from '../../../core/media.ts';
import type { Stream } from '../../../core/stream.ts';
import { parseRtp } from '../../../rtp/packet.ts';
import { acquireTalk, type Talk } from '../../backchannel/talk.ts';
import { RtpTrackReceiver } from '../../rtp/track-receiver.ts';
import { BACKCHANNEL_TAG } from '../client/backchannel.ts';
import { trackControl } from './sdp.ts';

/** RFC 3551 static payload types of the codecs offered without a camera to copy. */
const STATIC_PT: Record<string, number> = { PCMU: 0, PCMA: 8 };
const DEFAULT_CODEC: Codec = { name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8 };
const DYNAMIC_PT = 96;

/** True for `?backchannel=1` (or `true`) in a request's query, or the ONVIF tag in its Require header. */
export function wantsBackchannel(query: string, require?: string): boolean {
  if (require?.toLowerCase().includes(BACKCHANNEL_TAG)) return true;
  const value = new URLSearchParams(query).get('backchannel');
  return value === '1' || value === 'true';
}

/** The codec a reader's back channel is offered in (see the file comment). */
export function backchannelCodec(stream: Stream | undefined): Codec {
  const codec = stream?.backchannel()?.codec;
  if (!codec || !ENGINE_CODECS.has(codec.name) || !canDecode(codec)) return DEFAULT_CODEC;
  return {
    name: codec.name,
    clockRate: codec.clockRate,
    channels: codec.channels ?? 1,
    payloadType:
      codec.clockRate === 8000 && STATIC_PT[codec.name] !== undefined ? STATIC_PT[codec.name] : DYNAMIC_PT,
  };
}

/** The back channel's section of the DESCRIBE answer: media `index`, after the stream's tracks. */
export function backchannelMedia(codec: Codec, index: number): Media {
  // `recvonly` = the gateway receives: mediasToSdp writes `a=sendonly`, as the camera convention wants.
  return { kind: 'audio', direction: 'recvonly', codecs: [codec], id: trackControl(index) };
}

/** Counters of one reader's back channel. */
export interface ServerBackchannelCounters {
  packets: number;
  frames: number;
  /** Packets that did not parse or had another payload type. */
  bad: number;
  /** Frames dropped because someone else holds the stream's back channel. */
  busy: number;
}

/** What one reader session sends on its back channel, into the stream's. */
export class ServerBackchannel {
  readonly counters: ServerBackchannelCounters = { packets: 0, frames: 0, bad: 0, busy: 0 };
  readonly #receiver: RtpTrackReceiver;
  #talk: Talk | undefined;
  #closed = false;

  /**
   * @param udp true when the RTP comes over UDP (reordered by the receiver)
   * @param owner who is talking, for the API (`rtsp 127.0.0.1`)
   */
  constructor(
    private readonly stream: Stream,
    readonly codec: Codec,
    udp: boolean,
    private readonly owner: string,
  ) {
    this.#receiver = new RtpTrackReceiver(codec, udp);
  }

  /** One RTP packet from the client. Never throws. */
  onRtp(data: Buffer): void {
    if (this.#closed) return;
    let packet: ReturnType<typeof parseRtp>;
    try {
      packet = parseRtp(data);
    } catch {
      this.counters.bad++;
      return;
    }
    if (packet.payloadType !== this.codec.payloadType) {
      this.counters.bad++;
      return;
    }
    this.counters.packets++;
    for (const frame of this.#receiver.push(packet)) {
      this.counters.frames++;
      // Taken at the first frame, and again after whoever held it let go.
      if (!this.#talk || this.#talk.closed) this.#talk = acquireTalk(this.stream, this.owner);
      if (!this.#talk) this.counters.busy++;
      else this.#talk.write(frame, this.codec);
    }
  }

  /** Idempotent: lets go of the stream's back channel. */
  close(): void {
    this.#closed = true;
    this.#talk?.close();
    this.#talk = undefined;
  }
}
