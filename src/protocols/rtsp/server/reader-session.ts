/**
 * The PLAY side of an RTSP session (RFC 2326 §10.2-10.5): DESCRIBE negotiates a reader against the
 * stream and answers its SDP, SETUP binds each track to interleaved channels or UDP ports, PLAY
 * answers RTP-Info and starts the flow with the cached GOP. `?backchannel=1` adds a back channel
 * the client sends audio on (backchannel.ts).
 */
import { randomInt } from 'node:crypto';
import { InvalidStateError, NotFoundError } from '../../../core/errors.ts';
import type { Codec } from '../../../core/media.ts';
import type { RtspRequest } from '../message.ts';
import { formatRtpInfo, formatTransport } from '../transport.ts';
import { backchannelCodec, backchannelMedia, ServerBackchannel, wantsBackchannel } from './backchannel.ts';
import { type Reply, RtspStatusError } from './context.ts';
import { type RtspTarget, requestsFromQuery } from './query.ts';
import { RtspReader } from './reader.ts';
import { readerSdp } from './sdp.ts';
import { chooseTransport, claimChannels, type SessionHost } from './setup.ts';
import { plainAddress } from './udp.ts';

export class ReaderSession {
  #reader: RtspReader | undefined;
  #closing = false;
  /** The codec of the back channel the DESCRIBE answer offered (`?backchannel=1`), and its session. */
  #backCodec: Codec | undefined;
  #back: ServerBackchannel | undefined;

  /** @param onEnded told when the reader is closed by the stream (not by this session). */
  constructor(
    private readonly host: SessionHost,
    private readonly onEnded: (error: Error | undefined) => void,
  ) {}

  get reader(): RtspReader | undefined {
    return this.#reader;
  }

  get playing(): boolean {
    return this.#reader?.playing ?? false;
  }

  /** DESCRIBE: negotiates (again, if the client describes twice) and answers the SDP. */
  async describe(req: RtspRequest, target: RtspTarget): Promise<Reply> {
    if (this.#reader?.bindings.length) throw new RtspStatusError(455, 'DESCRIBE after SETUP');
    this.#closeReader();
    const reader = await this.#negotiate(target);
    const senders = reader.tracks.map((_, i) => reader.senderOf(i));
    const local = plainAddress(this.host.socket.localAddress ?? '0.0.0.0');
    const stream = this.host.shared.registry.get(target.name);
    const asked = wantsBackchannel(target.query, req.headers.get('require'));
    this.#backCodec = asked ? backchannelCodec(stream) : undefined;
    const extra = this.#backCodec ? [backchannelMedia(this.#backCodec, reader.tracks.length)] : [];
    const sdp = readerSdp(reader.tracks, senders, local, String(randomInt(1, 2 ** 47)), extra);
    return {
      status: 200,
      headers: [
        ['Content-Type', 'application/sdp'],
        ['Content-Base', contentBase(req.uri, this.host)],
      ],
      body: Buffer.from(sdp),
    };
  }

  /** SETUP of one track (play). A SETUP without DESCRIBE negotiates from its own URL. */
  async setup(req: RtspRequest, target: RtspTarget): Promise<Reply> {
    if (this.playing) throw new RtspStatusError(455, 'SETUP while playing');
    const shared = this.host.shared;
    const spec = chooseTransport(req.headers.get('transport'), shared.udp !== undefined);
    if (spec.mode === 'record') throw new RtspStatusError(455, 'SETUP mode=record without ANNOUNCE');
    const reader = this.#reader ?? (await this.#negotiate(target));
    let index = target.trackIndex;
    if (index === undefined) {
      index = reader.tracks.findIndex((_, i) => !reader.isBound(i));
      if (index < 0) throw new RtspStatusError(455, 'every track is set up already');
    }
    if (index === reader.tracks.length && this.#backCodec) return this.#setupBackchannel(target, spec);
    if (index >= reader.tracks.length) {
      throw new RtspStatusError(404, `track ${index} of ${reader.tracks.length}`);
    }
    if (reader.isBound(index)) throw new RtspStatusError(455, `track ${index} is set up already`);
    const transport = reader.transport;
    if (transport && transport !== spec.protocol) {
      throw new RtspStatusError(461, `tracks of one session must share a transport (${transport})`);
    }
    const sender = reader.senderOf(index);
    const session = this.host.sessionId();
    reader.sessionId = session;
    if (spec.protocol === 'tcp') {
      const channels = claimChannels(this.host, spec.interleaved);
      // RTP from a reader has nowhere to go: dropped and counted; RTCP keeps the session alive.
      this.host.routeChannel(channels[0], () => this.host.counters.droppedFrames++);
      this.host.routeChannel(channels[1], (data) => reader.onRtcp(data));
      reader.bind(index, req.uri, { channels });
      return transportReply(
        formatTransport({ protocol: 'tcp', multicast: false, interleaved: channels, ssrc: sender.ssrc }),
      );
    }
    const udp = shared.udp!;
    const ports = spec.clientPort!;
    this.host.routeUdp(ports, {
      onDatagram: (data, rtcp) => {
        if (rtcp) reader.onRtcp(data);
      },
    });
    reader.bind(index, req.uri, { ports });
    return transportReply(
      formatTransport({
        protocol: 'udp',
        multicast: false,
        clientPort: ports,
        serverPort: udp.ports,
        ssrc: sender.ssrc,
      }),
    );
  }

  /** PLAY: RTP-Info of the first packets, then the flow starts (cached GOP first) once the answer is queued. */
  play(): Reply {
    const reader = this.#reader;
    if (!reader || reader.bindings.length === 0) throw new RtspStatusError(455, 'PLAY before SETUP');
    if (reader.playing) return { status: 200 };
    const infos = reader.prepareToPlay();
    return {
      status: 200,
      headers: [
        ['Range', 'npt=0.000-'],
        ['RTP-Info', formatRtpInfo(infos)],
      ],
      after: () => {
        reader.play();
        // A first sender report right away lets the client line up audio and video.
        reader.sendReports(new Map());
      },
    };
  }

  /** Idempotent: closes the reader without telling `onEnded`. */
  close(): void {
    this.#back?.close();
    this.#back = undefined;
    this.#closeReader();
  }

  /** SETUP of the back channel offered by DESCRIBE: its RTP goes into the stream's back channel. */
  #setupBackchannel(target: RtspTarget, spec: ReturnType<typeof chooseTransport>): Reply {
    const stream = this.host.shared.registry.get(target.name);
    const codec = this.#backCodec;
    if (!stream || !codec) throw new NotFoundError(`stream "${target.name}" not found`);
    if (this.#back) throw new RtspStatusError(455, 'the back channel is set up already');
    const transport = this.#reader?.transport;
    if (transport && transport !== spec.protocol) {
      throw new RtspStatusError(461, `tracks of one session must share a transport (${transport})`);
    }
    const back = new ServerBackchannel(
      stream,
      codec,
      spec.protocol === 'udp',
      `rtsp ${this.host.remoteAddress}`,
    );
    this.#back = back;
    this.host.sessionId();
    if (spec.protocol === 'tcp') {
      const channels = claimChannels(this.host, spec.interleaved);
      this.host.routeChannel(channels[0], (data) => back.onRtp(data));
      this.host.routeChannel(channels[1], () => undefined); // its RTCP: nothing to do with it
      return transportReply(formatTransport({ protocol: 'tcp', multicast: false, interleaved: channels }));
    }
    const ports = spec.clientPort!;
    this.host.routeUdp(ports, { onDatagram: (data, rtcp) => (rtcp ? undefined : back.onRtp(data)) });
    return transportReply(
      formatTransport({
        protocol: 'udp',
        multicast: false,
        clientPort: ports,
        serverPort: this.host.shared.udp!.ports,
      }),
    );
  }

  async #negotiate(target: RtspTarget): Promise<RtspReader> {
    const host = this.host;
    const shared = host.shared;
    const stream = shared.registry.get(target.name);
    if (!stream) throw new NotFoundError(`stream "${target.name}" not found`);
    const requests = requestsFromQuery(target.query, shared.options.defaultQuery);
    const reader = new RtspReader(requests, host.socket, shared.udp, host.counters);
    reader.userAgent = host.userAgent;
    try {
      await stream.addConsumer(reader);
    } catch (err) {
      reader.close();
      throw err;
    }
    if (host.closed || this.#reader) {
      // The connection went away (or another DESCRIBE won) while the source was connecting.
      reader.close();
      throw new InvalidStateError('connection closed during negotiation');
    }
    this.#reader = reader;
    reader.once('close', (err) => {
      if (this.#reader !== reader) return;
      this.#reader = undefined;
      if (!this.#closing) this.onEnded(err);
    });
    return reader;
  }

  #closeReader(): void {
    const reader = this.#reader;
    if (!reader) return;
    this.#closing = true;
    try {
      reader.close();
    } finally {
      this.#closing = false;
      this.#reader = undefined;
    }
  }
}

function transportReply(transport: string): Reply {
  return { status: 200, headers: [['Transport', transport]] };
}

/** The request URL with a trailing `/`, absolute even when the client sent a bare path. */
function contentBase(uri: string, host: SessionHost): string {
  let base = uri;
  if (base.startsWith('/')) {
    const local = plainAddress(host.socket.localAddress ?? '127.0.0.1');
    const hostPart = local.includes(':') ? `[${local}]` : local;
    base = `rtsp://${hostPart}:${host.socket.localPort ?? 554}${base}`;
  }
  return base.endsWith('/') ? base : `${base}/`;
}
