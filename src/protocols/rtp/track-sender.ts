/**
 * RtpTrackSender: the RTP form of one StreamTrack, made once for every RTP consumer (RTSP readers,
 * and WebRTC viewers before encryption). All of them share one SSRC and sequence numbering, so a
 * frame is packetized and serialized once and the same buffers go to every reader. Packets are
 * remembered per frame while the frame lives (the GOP cache holds it), so a reader that joins and
 * replays the GOP gets the very packets the others got, and the sequence numbers stay contiguous.
 */
import { randomInt } from 'node:crypto';
import { createPayloader, type Payloader } from '../../codecs/index.ts';
import type { Codec, Frame } from '../../core/media.ts';
import type { StreamTrack } from '../../core/track.ts';
import { RtpEncoder } from '../../rtp/encoder.ts';
import { ntpMsFromUnixMs } from '../../rtp/ntp.ts';
import type { SenderReport } from '../../rtp/rtcp-types.ts';

/** Dynamic payload types used when the source's codec has none (static ones for G.711). */
const DEFAULT_PAYLOAD_TYPE: Record<string, number> = { PCMU: 0, PCMA: 8 };

export function payloadTypeOf(codec: Codec, index: number): number {
  return codec.payloadType ?? DEFAULT_PAYLOAD_TYPE[codec.name] ?? 96 + index;
}

export class RtpTrackSender {
  readonly encoder: RtpEncoder;
  readonly payloadType: number;
  readonly #mtu: number | undefined;
  #payloader: Payloader;
  #codec: Codec;
  readonly #packets = new WeakMap<Frame, Buffer[]>();
  // The latest frame asked for and its packets (holds one frame past its GOP at most).
  #lastFrame: Frame | undefined;
  #lastPackets: Buffer[] | undefined;
  #lastTimestamp = 0;
  #lastWallMs = 0;

  constructor(
    readonly track: StreamTrack,
    mtu?: number,
  ) {
    this.payloadType = payloadTypeOf(track.codec, track.id);
    this.#mtu = mtu;
    this.#codec = track.codec;
    this.#payloader = createPayloader(track.codec, mtu);
    this.encoder = new RtpEncoder({
      payloadType: this.payloadType,
      ssrc: randomInt(1, 0xffffffff),
      clockRate: track.codec.clockRate,
    });
  }

  get ssrc(): number {
    return this.encoder.ssrc;
  }

  /** The serialized RTP packets of a frame; the same array for the same frame object. */
  packets(frame: Frame): Buffer[] {
    // Fan-out asks for the same frame once per reader in a row: a one-entry memo in front of the
    // WeakMap saves a hash lookup per reader and frame.
    if (frame === this.#lastFrame) return this.#lastPackets!;
    let packets = this.#packets.get(frame);
    if (packets) {
      this.#remember(frame, packets);
      return packets;
    }
    if (this.track.codec !== this.#codec) {
      // A reconnected source brought new parameters (SPS/PPS): new packetizer, same SSRC and numbering.
      this.#codec = this.track.codec;
      this.#payloader = createPayloader(this.#codec, this.#mtu);
    }
    packets = [];
    for (const out of this.#payloader.packetize(frame)) {
      packets.push(...this.encoder.encode([out.payload], out.timestamp, out.marker));
    }
    this.#packets.set(frame, packets);
    this.#remember(frame, packets);
    if (frame.pts >= this.#lastTimestamp) {
      this.#lastTimestamp = frame.pts;
      this.#lastWallMs = Date.now();
    }
    return packets;
  }

  #remember(frame: Frame, packets: Buffer[]): void {
    this.#lastFrame = frame;
    this.#lastPackets = packets;
  }

  /** The wire timestamp (mod 2^32) of a frame time, for RTP-Info. */
  wireTimestamp(time: number): number {
    return (time + this.encoder.initialTimestamp) >>> 0;
  }

  /** An RTCP sender report mapping the latest frame's time to the wall clock (RFC 3550 §6.4.1). */
  senderReport(): SenderReport {
    const elapsed = this.#lastWallMs ? Date.now() - this.#lastWallMs : 0;
    const rtpTime = this.#lastTimestamp + Math.round((elapsed / 1000) * this.encoder.clockRate);
    return this.encoder.senderReport(ntpMsFromUnixMs(Date.now()), rtpTime);
  }
}

const senders = new WeakMap<StreamTrack, Map<number, RtpTrackSender>>();

/** The shared sender of a track for a payload size limit; made on first use, freed with the track. */
export function rtpSenderFor(track: StreamTrack, mtu = 1200): RtpTrackSender {
  let byMtu = senders.get(track);
  if (!byMtu) {
    byMtu = new Map();
    senders.set(track, byMtu);
  }
  let sender = byMtu.get(mtu);
  if (!sender) {
    sender = new RtpTrackSender(track, mtu);
    byMtu.set(mtu, sender);
  }
  return sender;
}
