/**
 * WebRtcPublisher: a browser that publishes into a stream (WHIP, or `webrtc/offer` on
 * `/api/ws?dst=`), as the stream's SourceConnection. RTP is routed to its section by SSRC (from
 * the offer's `a=ssrc`, else learned from the payload type), depacketized by an RtpTrackReceiver
 * and pushed into the stream. Browsers send keyframes only when asked, so the publisher sends a
 * PLI at start, every second until the first keyframe, whenever a viewer asks, and when no keyframe
 * came for `keyframeIntervalMs`, which keeps the stream's cached GOP short.
 */
import { randomInt } from 'node:crypto';
import { SafeEmitter } from '../../../core/emitter.ts';
import type { Media } from '../../../core/media.ts';
import type { FrameSink, SourceConnection } from '../../../core/source.ts';
import { parseRtp } from '../../../rtp/packet.ts';
import { RtpTrackReceiver } from '../../rtp/track-receiver.ts';
import { pictureLoss } from './rtcp.ts';
import type { PeerTransport, SectionPlan } from './types.ts';

export interface PublisherOptions {
  /** Ask for a keyframe when none came for this long, ms. Default 5000. */
  keyframeIntervalMs?: number;
  /** At most one PLI per this long, ms. Default 500. */
  pliMinIntervalMs?: number;
  remoteAddress?: string;
}

export interface PublisherCounters {
  packets: number;
  badPackets: number;
  unknownPackets: number;
  frames: number;
  plis: number;
}

interface Input {
  index: number;
  payloadType: number;
  video: boolean;
  receiver: RtpTrackReceiver;
  ssrc: number | undefined;
}

const CHECK_INTERVAL_MS = 1000;

export class WebRtcPublisher
  extends SafeEmitter<{ close: [error: Error | undefined] }>
  implements SourceConnection
{
  readonly medias: Media[];
  readonly remoteAddress: string | undefined;
  readonly counters: PublisherCounters = { packets: 0, badPackets: 0, unknownPackets: 0, frames: 0, plis: 0 };
  readonly #inputs: Input[] = [];
  readonly #bySsrc = new Map<number, Input>();
  readonly #opts: Required<Omit<PublisherOptions, 'remoteAddress'>>;
  readonly #ssrc = randomInt(1, 0xffffffff);
  #sink: FrameSink | undefined;
  #transport: PeerTransport | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastKeyframeAt = 0;
  #lastPliAt = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(plans: readonly SectionPlan[], opts: PublisherOptions = {}) {
    super();
    this.#opts = { keyframeIntervalMs: 5000, pliMinIntervalMs: 500, ...opts };
    this.remoteAddress = opts.remoteAddress;
    this.medias = [];
    for (const plan of plans) {
      if (plan.rejected !== undefined || !plan.section.media) continue;
      const kind = plan.section.media.kind;
      const input: Input = {
        index: this.medias.length,
        payloadType: plan.codec.payloadType ?? 0,
        video: kind === 'video',
        receiver: new RtpTrackReceiver(plan.codec, true),
        ssrc: plan.section.ssrcs[0],
      };
      this.medias.push({ kind, direction: 'recvonly', codecs: [plan.codec], id: plan.section.mid });
      this.#inputs.push(input);
      for (const ssrc of plan.section.ssrcs) this.#bySsrc.set(ssrc, input);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Where frames go: the sink `Stream.addPublisher()` returned. */
  setSink(sink: FrameSink): void {
    this.#sink = sink;
  }

  /** The transport is connected: ask for a keyframe now and keep checking. */
  start(transport: PeerTransport): void {
    if (this.#closed || this.#transport) return;
    this.#transport = transport;
    this.#pli();
    this.#timer = setInterval(() => {
      const now = performance.now();
      if (this.#lastKeyframeAt === 0 || now - this.#lastKeyframeAt >= this.#opts.keyframeIntervalMs)
        this.#pli();
    }, CHECK_INTERVAL_MS);
  }

  handleRtp(buf: Buffer): void {
    if (this.#closed) return;
    let packet: ReturnType<typeof parseRtp>;
    try {
      packet = parseRtp(buf);
    } catch {
      this.counters.badPackets++;
      return;
    }
    this.counters.packets++;
    let input = this.#bySsrc.get(packet.ssrc);
    if (!input) {
      // No a=ssrc in the offer (or a new one): learn it from the payload type.
      input = this.#inputs.find((i) => i.payloadType === packet.payloadType);
      if (!input) {
        this.counters.unknownPackets++;
        return;
      }
      input.ssrc = packet.ssrc;
      this.#bySsrc.set(packet.ssrc, input);
      if (input.video && this.#lastKeyframeAt === 0) this.#pli();
    }
    if (packet.payloadType !== input.payloadType) {
      this.counters.unknownPackets++;
      return;
    }
    for (const frame of input.receiver.push(packet)) {
      this.counters.frames++;
      if (input.video && frame.keyframe) this.#lastKeyframeAt = performance.now();
      this.#sink?.(input.index, frame);
    }
  }

  /** Sender reports and the like from the browser carry nothing the gateway needs. */
  handleRtcp(_packet: Buffer): void {}

  /** A viewer needs a keyframe: PLI, rate-limited. */
  requestKeyframe(): void {
    this.#pli();
  }

  /** Idempotent; emits `close` once. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#transport = undefined;
    this.emit('close', error);
    this.removeAllListeners();
  }

  #pli(): void {
    const transport = this.#transport;
    const now = performance.now();
    if (!transport || now - this.#lastPliAt < this.#opts.pliMinIntervalMs) return;
    let sent = false;
    for (const input of this.#inputs) {
      if (!input.video || input.ssrc === undefined) continue;
      transport.sendRtcp(pictureLoss(this.#ssrc, input.ssrc));
      sent = true;
    }
    if (sent) {
      this.#lastPliAt = now;
      this.counters.plis++;
    }
  }
}
