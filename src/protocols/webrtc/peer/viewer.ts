/**
 * WebRtcViewer: the Consumer of one browser that plays a stream. Each track's frames are
 * packetized once by the track's shared RtpTrackSender; the viewer only stamps the payload type its
 * browser chose on a copy of each packet and hands it to the transport (which encrypts into a new
 * buffer). It answers NACKs from the shared packet history, turns PLI/FIR into a (rate-limited)
 * keyframe request to the source and sends a sender report per track every few seconds.
 *
 * Two-way audio: when the stream has a back channel and the browser offers a microphone, its
 * audio section is answered `sendrecv` (see plan.ts) and the browser's RTP is depacketized and
 * written into the stream's back channel through a `Talk`, taken at the first frame: the first
 * viewer whose microphone reaches the gateway talks, the others are dropped until it leaves.
 */
import { Consumer, type MediaRequest } from '../../../core/consumer.ts';
import { errorMessage } from '../../../core/errors.ts';
import type { Frame } from '../../../core/media.ts';
import type { Stream } from '../../../core/stream.ts';
import type { StreamTrack } from '../../../core/track.ts';
import { parseRtp, RTP_HEADER_SIZE } from '../../../rtp/packet.ts';
import { acquireTalk, canTalk, type Talk } from '../../backchannel/talk.ts';
import { RtpTrackReceiver } from '../../rtp/track-receiver.ts';
import { type RtpTrackSender, rtpSenderFor } from '../../rtp/track-sender.ts';
import { historyFor, type RtpHistory } from './history.ts';
import type { ParsedOffer } from './offer.ts';
import { planViewer, type TalkBinding, viewerRequests } from './plan.ts';
import { readFeedback, viewerSenderReport } from './rtcp.ts';
import type { PeerTransport, SectionPlan } from './types.ts';

/** Payload size limit of the packets sent to browsers (leaves room for SRTP and TURN headers). */
export const WEBRTC_MTU = 1200;
/** A track forwards at most one keyframe request per this long, whatever the number of viewers. */
export const KEYFRAME_REQUEST_INTERVAL_MS = 1000;
const PAYLOAD_TYPE_MASK = 0x7f;
const MARKER_BIT = 0x80;

export interface ViewerOptions {
  /** RTCP CNAME of this session's streams. */
  cname: string;
  /** How often sender reports go out, ms. Default 2000. */
  senderReportIntervalMs?: number;
}

export interface ViewerCounters {
  nacks: number;
  retransmitted: number;
  keyframeRequests: number;
  badRtcp: number;
  /** Microphone frames received (two-way audio). */
  talkFrames: number;
  /** Microphone frames dropped: another producer holds the stream's back channel. */
  talkBusy: number;
  /** RTP from the browser that did not parse or belongs to no microphone section. */
  badRtp: number;
}

/** The browser's microphone: where its RTP goes. */
interface Microphone {
  stream: Stream;
  binding: TalkBinding;
  receiver: RtpTrackReceiver;
  talk: Talk | undefined;
}

interface Output {
  sender: RtpTrackSender;
  /** Video only: browsers do not NACK audio. */
  history: RtpHistory | undefined;
  payloadType: number;
  packets: number;
  octets: number;
}

const lastKeyframeRequest = new WeakMap<StreamTrack, number>();

function requestKeyframe(track: StreamTrack): boolean {
  const now = performance.now();
  const last = lastKeyframeRequest.get(track);
  if (last !== undefined && now - last < KEYFRAME_REQUEST_INTERVAL_MS) return false;
  lastKeyframeRequest.set(track, now);
  track.requestKeyframe();
  return true;
}

export class WebRtcViewer extends Consumer {
  readonly type = 'webrtc';
  readonly rtcCounters: ViewerCounters = {
    nacks: 0,
    retransmitted: 0,
    keyframeRequests: 0,
    badRtcp: 0,
    talkFrames: 0,
    talkBusy: 0,
    badRtp: 0,
  };
  readonly #offer: ParsedOffer;
  readonly #requests: MediaRequest[];
  readonly #opts: Required<ViewerOptions>;
  readonly #outputs = new Map<StreamTrack, Output>();
  readonly #bySsrc = new Map<number, { track: StreamTrack; output: Output }>();
  #transport: PeerTransport | undefined;
  #timer: NodeJS.Timeout | undefined;
  #mic: Microphone | undefined;

  /** Throws `BadRequestError` when no section of the offer can carry a codec the gateway sends. */
  constructor(offer: ParsedOffer, opts: ViewerOptions) {
    super();
    this.#offer = offer;
    this.#requests = viewerRequests(offer);
    this.#opts = { senderReportIntervalMs: 2000, ...opts };
  }

  requests(): MediaRequest[] {
    return this.#requests;
  }

  /**
   * After the stream attached its tracks: assigns them to the offer's sections and returns the
   * plan of the answer. `streamId` becomes the `a=msid` stream id. With `stream` and a back
   * channel on it, a microphone the browser offers is taken (two-way audio).
   */
  bind(streamId: string, stream?: Stream): SectionPlan[] {
    const { plans, bindings, talk } = planViewer(
      this.#offer,
      this.tracks,
      (t) => rtpSenderFor(t, WEBRTC_MTU).ssrc,
      streamId,
      stream !== undefined && canTalk(stream),
    );
    if (talk && stream) {
      this.#mic = {
        stream,
        binding: talk,
        receiver: new RtpTrackReceiver(talk.codec, true),
        talk: undefined,
      };
    }
    for (const b of bindings) {
      const sender = rtpSenderFor(b.track, WEBRTC_MTU);
      const output: Output = {
        sender,
        history: b.track.kind === 'video' ? historyFor(sender) : undefined,
        payloadType: b.payloadType,
        packets: 0,
        octets: 0,
      };
      this.#outputs.set(b.track, output);
      this.#bySsrc.set(sender.ssrc, { track: b.track, output });
    }
    return plans;
  }

  /** The transport is connected: media starts, with each video track's cached GOP first. */
  start(transport: PeerTransport): void {
    if (this.closed || this.#transport) return;
    this.#transport = transport;
    this.play();
    this.#sendReports();
    this.#timer = setInterval(() => this.#sendReports(), this.#opts.senderReportIntervalMs);
  }

  /** RTP from the browser: its microphone, when a section took one; anything else is counted. */
  handleRtp(buf: Buffer): void {
    const mic = this.#mic;
    if (this.closed || !mic) return;
    let packet: ReturnType<typeof parseRtp>;
    try {
      packet = parseRtp(buf);
    } catch {
      this.rtcCounters.badRtp++;
      return;
    }
    if (packet.payloadType !== mic.binding.codec.payloadType) {
      this.rtcCounters.badRtp++;
      return;
    }
    for (const frame of mic.receiver.push(packet)) {
      this.rtcCounters.talkFrames++;
      if (!mic.talk || mic.talk.closed) mic.talk = acquireTalk(mic.stream, this.#owner());
      if (mic.talk) mic.talk.write(frame, mic.binding.codec);
      else this.rtcCounters.talkBusy++;
    }
  }

  /** True while this viewer's microphone holds the stream's back channel. */
  get talking(): boolean {
    return this.#mic?.talk !== undefined && !this.#mic.talk.closed;
  }

  #owner(): string {
    return `webrtc ${this.remoteAddress ?? ''} (consumer ${this.id})`.replace('  ', ' ');
  }

  /** NACK -> retransmit from the history; PLI/FIR -> keyframe request; the rest is ignored. */
  handleRtcp(packet: Buffer): void {
    if (this.closed) return;
    let feedback: ReturnType<typeof readFeedback>;
    try {
      feedback = readFeedback(packet);
    } catch {
      this.rtcCounters.badRtcp++;
      return;
    }
    for (const fb of feedback) {
      const target = this.#bySsrc.get(fb.mediaSsrc);
      if (!target) continue;
      if (fb.type === 'keyframe') {
        if (requestKeyframe(target.track)) this.rtcCounters.keyframeRequests++;
        continue;
      }
      this.rtcCounters.nacks++;
      const history = target.output.history;
      if (!history) continue;
      for (const seq of fb.sequences) {
        const p = history.get(seq);
        if (!p) continue;
        this.#send(target.output, p);
        this.rtcCounters.retransmitted++;
      }
    }
  }

  protected writeFrame(track: StreamTrack, frame: Frame): void {
    const output = this.#outputs.get(track);
    if (!output || !this.#transport) return;
    const packets = output.sender.packets(frame);
    output.history?.store(packets);
    for (let i = 0; i < packets.length; i++) this.#send(output, packets[i]);
  }

  protected override backlogBytes(): number {
    return this.#transport?.backlogBytes() ?? 0;
  }

  protected onClose(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#transport = undefined;
    this.#mic?.talk?.close();
    this.#mic = undefined;
  }

  #send(output: Output, packet: Buffer): void {
    let p = packet;
    if ((packet[1] & PAYLOAD_TYPE_MASK) !== output.payloadType) {
      // The buffer is shared by every viewer: the browser's payload type goes on a copy.
      p = Buffer.from(packet);
      p[1] = (p[1] & MARKER_BIT) | output.payloadType;
    }
    this.#transport?.sendRtp(p);
    output.packets++;
    output.octets += packet.length - RTP_HEADER_SIZE;
  }

  #sendReports(): void {
    const transport = this.#transport;
    if (!transport) return;
    for (const output of this.#outputs.values()) {
      if (output.packets === 0) continue;
      try {
        transport.sendRtcp(
          viewerSenderReport(output.sender, output.packets, output.octets, this.#opts.cname),
        );
      } catch (err) {
        this.close(new Error(`sender report: ${errorMessage(err)}`));
        return;
      }
    }
  }
}
