/**
 * RtspReader: the Consumer of one RTSP PLAY session. It writes the shared RTP packets of each
 * frame (`rtpSenderFor(track).packets()`, serialized once for every reader) either interleaved on
 * the RTSP connection (RFC 2326 §10.12: `$ channel length` + packet) or as datagrams from the
 * server's RTP socket, and sends an RTCP sender report per track when asked.
 *
 * Interleaved, a frame's packets are framed once per channel into one buffer shared by every reader
 * on that channel (`interleavedFrame`), and each reader writes it with a single `socket.write()`:
 * at 200 readers this replaces ~16 small writes per frame and reader (header + packet each, every
 * one a Writable entry, then a writev of as many iovecs) with one, which was most of the send cost.
 */
import type { Socket } from 'node:net';
import { Consumer, type ConsumerInfo, type MediaRequest } from '../../../core/consumer.ts';
import type { Frame } from '../../../core/media.ts';
import type { StreamTrack } from '../../../core/track.ts';
import { parseRtcpCompound, serializeRtcp } from '../../../rtp/index.ts';
import { type RtpTrackSender, rtpSenderFor } from '../../rtp/track-sender.ts';
import type { RtpInfo } from '../transport.ts';
import type { ConnectionCounters } from './types.ts';
import type { UdpTransport } from './udp.ts';

const DOLLAR = 0x24;
const FRAME_HEADER = 4;
const MAX_INTERLEAVED = 0xffff;
const RTP_SEQ_OFFSET = 2;
const RTP_TS_OFFSET = 4;

/**
 * Interleaved forms of a packet list by channel, keyed by the list itself: the sender returns the
 * same array for a frame as long as the frame lives, so the entry lives (and dies) with it.
 */
const framedByChannel = new WeakMap<readonly Buffer[], Map<number, Buffer>>();
let last: { packets: readonly Buffer[]; channel: number; framed: Buffer } = {
  packets: [],
  channel: -1,
  framed: Buffer.alloc(0),
};

/**
 * `$ channel length packet` for every packet of the list, in one buffer (RFC 2326 §10.12), made once
 * per list and channel and shared by every reader. Packets over 65535 bytes cannot be framed and
 * are left out (payloaders keep to the MTU). The result must not be modified.
 */
export function interleavedFrame(packets: readonly Buffer[], channel: number): Buffer {
  // The readers of one frame ask in a row: the last answer first, then the WeakMap.
  if (packets === last.packets && channel === last.channel) return last.framed;
  let byChannel = framedByChannel.get(packets);
  const cached = byChannel?.get(channel);
  if (cached) {
    last = { packets, channel, framed: cached };
    return cached;
  }
  let size = 0;
  for (const p of packets) if (p.length <= MAX_INTERLEAVED) size += FRAME_HEADER + p.length;
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const p of packets) {
    if (p.length > MAX_INTERLEAVED) continue;
    out[offset] = DOLLAR;
    out[offset + 1] = channel;
    out.writeUInt16BE(p.length, offset + 2);
    p.copy(out, offset + FRAME_HEADER);
    offset += FRAME_HEADER + p.length;
  }
  if (!byChannel) {
    byChannel = new Map();
    framedByChannel.set(packets, byChannel);
  }
  byChannel.set(channel, out);
  last = { packets, channel, framed: out };
  return out;
}

/** How one track reaches the reader: interleaved channels or the client's UDP ports. */
export interface ReaderBinding {
  track: StreamTrack;
  sender: RtpTrackSender;
  /** The URL of the SETUP, echoed in RTP-Info (clients match it exactly). */
  url: string;
  /** TCP: RTP and RTCP channel. */
  channels?: [number, number];
  /** UDP: the client's RTP and RTCP ports. */
  ports?: [number, number];
}

export class RtspReader extends Consumer {
  readonly type = 'rtsp';
  /** RTP packets and bytes (with interleaved headers) sent. */
  packets = 0;
  wireBytes = 0;
  /** RTCP packets received from the reader (receiver reports). */
  rtcpIn = 0;
  sessionId: string | undefined;
  readonly #requests: MediaRequest[];
  readonly #socket: Socket;
  readonly #address: string;
  readonly #udp: UdpTransport | undefined;
  readonly #counters: ConnectionCounters;
  readonly #bindings = new Map<StreamTrack, ReaderBinding>();
  // The same bindings as a list: a session has one or two tracks, and an identity scan of a short
  // array is cheaper per frame than a Map lookup (this runs once per frame and reader).
  readonly #bindingList: ReaderBinding[] = [];
  /** The transport of the first binding, kept: `backlogBytes()` asks for it on every frame. */
  #transport: 'tcp' | 'udp' | undefined;

  constructor(
    requests: MediaRequest[],
    socket: Socket,
    udp: UdpTransport | undefined,
    counters: ConnectionCounters,
  ) {
    super();
    this.#requests = requests;
    this.#socket = socket;
    // Kept: a destroyed socket forgets its peer.
    this.#address = socket.remoteAddress ?? '';
    this.remoteAddress = this.#address;
    this.#udp = udp;
    this.#counters = counters;
  }

  requests(): MediaRequest[] {
    return this.#requests;
  }

  /** The transport of the bindings so far (all tracks of a session use one). */
  get transport(): 'tcp' | 'udp' | undefined {
    return this.#transport;
  }

  get bindings(): ReaderBinding[] {
    return [...this.#bindings.values()];
  }

  /** The shared RTP sender of negotiated track `index`. */
  senderOf(index: number): RtpTrackSender {
    return rtpSenderFor(this.tracks[index]);
  }

  isBound(index: number): boolean {
    return this.#bindings.has(this.tracks[index]);
  }

  bind(
    index: number,
    url: string,
    how: { channels: [number, number] } | { ports: [number, number] },
  ): ReaderBinding {
    const track = this.tracks[index];
    const binding: ReaderBinding = { track, sender: this.senderOf(index), url, ...how };
    this.#bindings.set(track, binding);
    this.#bindingList.push(binding);
    this.#transport ??= binding.channels ? 'tcp' : 'udp';
    return binding;
  }

  /**
   * Detaches the tracks the client did not SETUP, so they hold no reader, then gives RTP-Info for
   * the first packet each bound track will send: the cached GOP's first packet for video, else
   * the next sequence number (RFC 2326 §12.33).
   */
  prepareToPlay(): RtpInfo[] {
    for (let i = this.tracks.length - 1; i >= 0; i--) {
      if (!this.#bindings.has(this.tracks[i])) this.tracks.splice(i, 1);
    }
    return this.tracks.map((track) => {
      const b = this.#bindings.get(track)!;
      const first = track.gop()[0];
      if (!first) return { url: b.url, seq: b.sender.encoder.sequenceNumber };
      // Packetized now (and cached) so that play() replays exactly these packets.
      const p = b.sender.packets(first)[0];
      if (!p) return { url: b.url, seq: b.sender.encoder.sequenceNumber };
      return { url: b.url, seq: p.readUInt16BE(RTP_SEQ_OFFSET), rtptime: p.readUInt32BE(RTP_TS_OFFSET) };
    });
  }

  /**
   * Sends an RTCP SR for each bound track that has sent packets. `cache` holds the serialized
   * report per track for one round, shared by every reader (the SSRC and counts are shared too).
   */
  sendReports(cache: Map<StreamTrack, Buffer>): void {
    if (this.closed || !this.playing) return;
    for (const b of this.#bindings.values()) {
      if (b.sender.encoder.packetCount === 0) continue;
      let sr = cache.get(b.track);
      if (!sr) {
        sr = serializeRtcp(b.sender.senderReport());
        cache.set(b.track, sr);
      }
      if (b.channels) this.#writeRtcp(b.channels[1], sr);
      else if (b.ports) this.#udp?.send(sr, this.#address, b.ports[1], true);
    }
  }

  /** RTCP from the reader (receiver reports, PLI/FIR). Malformed packets are counted and dropped. */
  onRtcp(data: Buffer): void {
    let packets: ReturnType<typeof parseRtcpCompound>;
    try {
      packets = parseRtcpCompound(data);
    } catch {
      this.#counters.droppedFrames++;
      return;
    }
    this.rtcpIn++;
    for (const p of packets) {
      if (p.type !== 'pli' && p.type !== 'fir') continue;
      for (const b of this.#bindings.values()) {
        if (b.sender.ssrc === p.mediaSsrc || p.type === 'fir') b.track.requestKeyframe();
      }
    }
  }

  protected override backlogBytes(): number {
    return this.#transport === 'udp' ? 0 : this.#socket.writableLength;
  }

  protected writeFrame(track: StreamTrack, frame: Frame): void {
    const list = this.#bindingList;
    let b: ReaderBinding | undefined;
    for (let i = 0; i < list.length; i++) {
      if (list[i].track === track) {
        b = list[i];
        break;
      }
    }
    if (!b) return;
    const packets = b.sender.packets(frame);
    if (b.channels) {
      this.#writeInterleaved(b.channels[0], packets);
    } else if (b.ports && this.#udp) {
      for (const p of packets) {
        this.#udp.send(p, this.#address, b.ports[0], false);
        this.wireBytes += p.length;
      }
    }
    this.packets += packets.length;
  }

  /** All the packets in one write of the shared interleaved buffer (see `interleavedFrame`). */
  #writeInterleaved(channel: number, packets: readonly Buffer[]): void {
    const socket = this.#socket;
    if (!socket.writable) throw new Error('RTSP connection closed');
    const framed = interleavedFrame(packets, channel);
    if (framed.length === 0) return;
    socket.write(framed);
    this.wireBytes += framed.length;
  }

  /** One RTCP packet, framed for this reader only (reports are rare; nothing worth sharing). */
  #writeRtcp(channel: number, packet: Buffer): void {
    const socket = this.#socket;
    if (!socket.writable) throw new Error('RTSP connection closed');
    if (packet.length > MAX_INTERLEAVED) return;
    const header = Buffer.allocUnsafe(FRAME_HEADER);
    header[0] = DOLLAR;
    header[1] = channel;
    header.writeUInt16BE(packet.length, 2);
    socket.cork();
    socket.write(header);
    socket.write(packet);
    socket.uncork();
    this.wireBytes += FRAME_HEADER + packet.length;
  }

  protected onClose(): void {
    this.#bindings.clear();
    this.#bindingList.length = 0;
    this.#transport = undefined;
  }

  override info(): ConsumerInfo & { rtsp: Record<string, unknown> } {
    return {
      ...super.info(),
      rtsp: {
        session: this.sessionId,
        transport: this.transport,
        packets: this.packets,
        wireBytes: this.wireBytes,
        rtcpIn: this.rtcpIn,
        ...this.#counters,
      },
    };
  }
}
