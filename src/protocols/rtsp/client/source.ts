/**
 * RtspSource: one playing RTSP session as the engine's SourceConnection. It owns the control
 * connection, the UDP sockets, the RTP receivers and three timers (housekeeping, keep-alive, the
 * first flush). RTP over TCP arrives as interleaved frames (RTCP on the odd channel, or detected by
 * its packet type on the even one), over UDP on the sockets of each media, from the server only.
 *
 * Frames completed before the engine has taken the connection (the PLAY answer and the first
 * packets often share a TCP segment) are held and handed over on the next turn of the event loop,
 * so no frame reaches the runner before it has set up its tracks.
 *
 * With an ONVIF back channel set up (see handshake.ts), `backchannel` sends audio to the camera
 * on that media's interleaved RTP channel or UDP port (backchannel.ts).
 */
import { randomBytes } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { SafeEmitter } from '../../../core/emitter.ts';
import { errorMessage, TimeoutError } from '../../../core/errors.ts';
import type { Frame, Media } from '../../../core/media.ts';
import type { FrameSink, SourceConnection } from '../../../core/source.ts';
import {
  isRtcp,
  parseRtcpCompound,
  parseRtp,
  type RtcpPacket,
  SdesItemType,
  serializeRtcpCompound,
} from '../../../rtp/index.ts';
import { RtpTrackReceiver } from '../../rtp/track-receiver.ts';
import { MAX_BACKCHANNEL_BACKLOG_BYTES, RtspBackchannel } from './backchannel.ts';
import type { RtspClientConn } from './conn.ts';
import { RtspStatusError } from './errors.ts';
import { type MediaSetup, ok, type PlayPlan } from './handshake.ts';
import { ReceptionStats } from './stats.ts';
import { closeUdpPair } from './udp.ts';
import type { RtspSourceOptions } from './url.ts';

/** Receiver reports go out this often, ms (RFC 3550 §6.2 suggests 5 s as the minimum interval). */
export const RECEIVER_REPORT_INTERVAL_MS = 5000;
/** Keep-alives never go out more often than this, ms, whatever the session timeout says. */
const MIN_KEEP_ALIVE_MS = 500;
/** Frames held before the engine takes the connection; more are dropped. */
const MAX_HELD_FRAMES = 1024;

interface Track {
  index: number;
  setup: MediaSetup;
  receiver: RtpTrackReceiver;
  stats: ReceptionStats;
  payloadType: number | undefined;
  /** A packet with the announced payload type arrived: others are dropped from now on. */
  matched: boolean;
}

/** What the source saw besides frames, for diagnostics. */
export interface RtspSourceCounters {
  rtpPackets: number;
  rtcpPackets: number;
  /** RTP or RTCP packets that did not parse, dropped. */
  badPackets: number;
  /** Packets on unknown channels, from other addresses or with another payload type, dropped. */
  strayPackets: number;
  keepAlives: number;
  receiverReports: number;
}

export class RtspSource
  extends SafeEmitter<{ close: [error: Error | undefined] }>
  implements SourceConnection
{
  readonly medias: Media[];
  /** The camera's audio back channel, when one was set up. */
  readonly backchannel: RtspBackchannel | undefined;
  readonly counters: RtspSourceCounters = {
    rtpPackets: 0,
    rtcpPackets: 0,
    badPackets: 0,
    strayPackets: 0,
    keepAlives: 0,
    receiverReports: 0,
  };

  readonly #conn: RtspClientConn;
  readonly #opts: RtspSourceOptions;
  readonly #plan: PlayPlan;
  readonly #sink: FrameSink;
  readonly #tracks: Track[];
  readonly #channels = new Map<number, { track: Track | undefined; rtcp: boolean }>();
  readonly #ssrc = randomBytes(4).readUInt32BE(0);
  readonly #cname = `mediagate-${randomBytes(4).toString('hex')}`;
  #getParameter: boolean;
  #closed = false;
  #live = false;
  #held: [number, Frame][] = [];
  #flush: NodeJS.Immediate | undefined;
  #tick: NodeJS.Timeout | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #keepAliveBusy = false;
  #lastDataMs = performance.now();
  #lastReportMs = performance.now();

  constructor(conn: RtspClientConn, opts: RtspSourceOptions, plan: PlayPlan, sink: FrameSink) {
    super();
    this.#conn = conn;
    this.#opts = opts;
    this.#plan = plan;
    this.#sink = sink;
    this.#getParameter = plan.getParameter;
    this.medias = plan.medias.map((m) => m.media);
    const udp = opts.transport === 'udp';
    this.#tracks = plan.medias.map((setup, index) => {
      const codec = setup.media.codecs[0];
      return {
        index,
        setup,
        receiver: new RtpTrackReceiver(codec, udp),
        stats: new ReceptionStats(codec.clockRate),
        payloadType: codec.payloadType,
        matched: false,
      };
    });
    for (const track of this.#tracks) {
      const { channels, udp: pair } = track.setup;
      if (channels) {
        this.#channels.set(channels[0], { track, rtcp: false });
        this.#channels.set(channels[1], { track, rtcp: true });
      }
      if (pair) {
        pair.rtp.on('message', (msg, rinfo) => this.#onDatagram(track, false, msg, rinfo));
        pair.rtcp.on('message', (msg, rinfo) => this.#onDatagram(track, true, msg, rinfo));
      }
    }
    const back = plan.backchannel;
    this.backchannel = back && new RtspBackchannel(back.media.codecs[0], (p) => this.#sendBack(back, p));
    // RTCP the camera may send about the back channel: nothing to do with it, and not stray.
    if (back?.channels)
      for (const ch of back.channels) this.#channels.set(ch, { track: undefined, rtcp: true });
    conn.on('frame', (channel, data) => this.#guard(() => this.#onFrame(channel, data)));
    conn.on('close', (err) => this.#close(err));
  }

  get remoteAddress(): string {
    return this.#conn.remoteAddress;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends PLAY and starts the timers. Rejects if the server refuses or the connection closes. */
  async play(): Promise<void> {
    const res = await this.#conn.request('PLAY', this.#plan.controlUrl, [
      ['range', 'npt=0.000-'],
      ...this.#plan.require,
    ]);
    ok(res, 'PLAY', this.#opts.display);
    if (this.#closed) throw new Error(`${this.#opts.display}: closed during PLAY`);
    this.#lastDataMs = performance.now();
    this.#lastReportMs = this.#lastDataMs;
    this.#tick = setInterval(
      () => this.#guard(() => this.#housekeeping()),
      Math.min(1000, this.#opts.noDataTimeoutMs / 4),
    );
    const keepAliveMs = Math.max(MIN_KEEP_ALIVE_MS, (this.#plan.sessionTimeoutS * 1000) / 2);
    this.#keepAlive = setInterval(() => this.#sendKeepAlive(), keepAliveMs);
  }

  /** Called once the engine owns the connection: held frames go out on the next turn, then live. */
  start(): void {
    if (this.#closed || this.#live || this.#flush) return;
    this.#flush = setImmediate(() => {
      this.#flush = undefined;
      this.#live = true;
      const held = this.#held;
      this.#held = [];
      for (const [index, frame] of held) {
        if (this.#closed) return;
        this.#sink(index, frame);
      }
    });
  }

  /** RTCP PLI (RFC 4585 §6.3.1) to every video sender seen so far. */
  requestKeyframe(): void {
    if (this.#closed) return;
    for (const track of this.#tracks) {
      const mediaSsrc = track.stats.ssrc;
      if (track.setup.media.kind !== 'video' || mediaSsrc === undefined) continue;
      this.#guard(() =>
        this.#sendRtcp(track, [
          { type: 'rr', ssrc: this.#ssrc, reports: [] },
          this.#sdes(),
          { type: 'pli', senderSsrc: this.#ssrc, mediaSsrc },
        ]),
      );
    }
  }

  /** Idempotent: TEARDOWN (best effort), sockets and timers freed, `close` emitted once. */
  close(): void {
    this.#close(undefined);
  }

  #close(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#tick);
    clearInterval(this.#keepAlive);
    if (this.#flush) clearImmediate(this.#flush);
    this.#tick = this.#keepAlive = this.#flush = undefined;
    this.#held = [];
    for (const track of this.#tracks) if (track.setup.udp) closeUdpPair(track.setup.udp);
    if (this.#plan.backchannel?.udp) closeUdpPair(this.#plan.backchannel.udp);
    this.#conn.close(error, this.#plan.controlUrl);
    this.emit('close', error);
    this.removeAllListeners();
  }

  /** Event handlers never throw: an unexpected exception closes the connection with it. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#close(err instanceof Error ? err : new Error(errorMessage(err)));
    }
  }

  #onFrame(channel: number, data: Buffer): void {
    let route = this.#channels.get(channel);
    // Servers that send RTCP on the odd channel next to an RTP channel they never announced for it.
    if (!route && channel % 2 === 1) {
      const rtp = this.#channels.get(channel - 1);
      if (rtp && !rtp.rtcp) route = { track: rtp.track, rtcp: true };
    }
    if (!route) {
      this.counters.strayPackets++;
      return;
    }
    if (!route.track) return; // about the back channel
    if (route.rtcp || isRtcp(data)) this.#onRtcp(route.track, data);
    else this.#onRtp(route.track, data);
  }

  /** One RTP packet of the back channel to the camera; false when dropped. */
  #sendBack(setup: MediaSetup, packet: Buffer): boolean {
    if (this.#closed) return false;
    if (setup.channels) {
      if (this.#conn.backlogBytes > MAX_BACKCHANNEL_BACKLOG_BYTES) return false;
      this.#conn.sendFrame(setup.channels[0], packet);
      return true;
    }
    const ip = this.#conn.remoteIp;
    if (!setup.udp || !setup.serverPorts || !ip) return false;
    setup.udp.rtp.send(packet, setup.serverPorts[0], ip);
    return true;
  }

  #onDatagram(track: Track, rtcp: boolean, msg: Buffer, rinfo: RemoteInfo): void {
    this.#guard(() => {
      const from = rinfo.address;
      if (from !== track.setup.sourceIp && from !== this.#conn.remoteIp) {
        this.counters.strayPackets++;
        return;
      }
      if (rtcp || isRtcp(msg)) this.#onRtcp(track, msg);
      else this.#onRtp(track, msg);
    });
  }

  #onRtp(track: Track, data: Buffer): void {
    const now = performance.now();
    this.#lastDataMs = now;
    let packet: ReturnType<typeof parseRtp>;
    try {
      packet = parseRtp(data);
    } catch {
      this.counters.badPackets++;
      return;
    }
    // Some cameras announce one payload type and send another: lock on only once it was seen.
    if (packet.payloadType === track.payloadType) track.matched = true;
    else if (track.matched) {
      this.counters.strayPackets++;
      return;
    }
    this.counters.rtpPackets++;
    track.stats.onRtp(packet, now);
    for (const frame of track.receiver.push(packet)) {
      if (this.#closed) return;
      this.#deliver(track.index, frame);
    }
  }

  #deliver(index: number, frame: Frame): void {
    if (this.#live) this.#sink(index, frame);
    else if (this.#held.length < MAX_HELD_FRAMES) this.#held.push([index, frame]);
  }

  #onRtcp(track: Track, data: Buffer): void {
    this.counters.rtcpPackets++;
    let packets: RtcpPacket[];
    try {
      packets = parseRtcpCompound(data);
    } catch {
      this.counters.badPackets++;
      return;
    }
    const now = performance.now();
    for (const p of packets) if (p.type === 'sr') track.stats.onSenderReport(p, now);
  }

  #housekeeping(): void {
    const now = performance.now();
    if (now - this.#lastDataMs > this.#opts.noDataTimeoutMs) {
      const hint =
        this.#opts.transport === 'udp' ? ' over UDP (blocked by a firewall? try #transport=tcp)' : '';
      this.#close(
        new TimeoutError(
          `${this.#opts.display}: no RTP data for ${this.#opts.noDataTimeoutMs / 1000} s${hint}`,
        ),
      );
      return;
    }
    if (now - this.#lastReportMs >= RECEIVER_REPORT_INTERVAL_MS) {
      this.#lastReportMs = now;
      for (const track of this.#tracks) {
        const block = track.stats.report(now);
        if (!block) continue;
        this.counters.receiverReports++;
        this.#sendRtcp(track, [{ type: 'rr', ssrc: this.#ssrc, reports: [block] }, this.#sdes()]);
      }
    }
  }

  /** GET_PARAMETER when the server listed it, else OPTIONS; one at a time. */
  #sendKeepAlive(): void {
    if (this.#closed || this.#keepAliveBusy) return;
    this.#keepAliveBusy = true;
    this.counters.keepAlives++;
    const method = this.#getParameter ? 'GET_PARAMETER' : 'OPTIONS';
    this.#conn.request(method, this.#plan.controlUrl).then(
      (res) => {
        this.#keepAliveBusy = false;
        if (method === 'GET_PARAMETER' && res.status >= 400) this.#getParameter = false;
      },
      (err) => {
        this.#keepAliveBusy = false;
        // A lost connection closes us through the conn; a silent server through the no-data timer.
        if (err instanceof RtspStatusError && err.status === 401) this.#close(err);
      },
    );
  }

  #sdes(): RtcpPacket {
    return {
      type: 'sdes',
      chunks: [{ source: this.#ssrc, items: [{ type: SdesItemType.CNAME, text: this.#cname }] }],
    };
  }

  #sendRtcp(track: Track, packets: RtcpPacket[]): void {
    const buf = serializeRtcpCompound(packets);
    const { channels, udp, serverPorts } = track.setup;
    if (channels) this.#conn.sendFrame(channels[1], buf);
    else if (udp && serverPorts && this.#conn.remoteIp)
      udp.rtcp.send(buf, serverPorts[1], this.#conn.remoteIp);
  }
}
