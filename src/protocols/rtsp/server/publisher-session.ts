/**
 * The RECORD side of an RTSP session (RFC 2326 §10.3, §10.11): ANNOUNCE takes the publisher's SDP,
 * SETUP (mode=record) binds each section to interleaved channels or UDP ports, RECORD hands the
 * connection to the stream as a publisher (creating the stream when the name is new).
 */
import { ParseError } from '../../../core/errors.ts';
import type { RtspRequest } from '../message.ts';
import { formatTransport } from '../transport.ts';
import { type Reply, RtspStatusError } from './context.ts';
import { INTERNAL_PATH_PREFIX } from './loopback.ts';
import { RtspPublisher } from './publisher.ts';
import type { RtspTarget } from './query.ts';
import { chooseTransport, claimChannels, type SessionHost } from './setup.ts';

export class PublisherSession {
  readonly publisher: RtspPublisher;
  readonly #name: string;
  readonly #url: string;
  #recording = false;
  #closing = false;

  /**
   * ANNOUNCE. Throws RtspStatusError 400 for a body that is not SDP or has no media section, 415
   * when no section has a codec the gateway can take.
   * @param onEnded told when the stream closes the publisher (not this session).
   */
  constructor(
    private readonly host: SessionHost,
    req: RtspRequest,
    target: RtspTarget,
    private readonly onEnded: (error: Error | undefined) => void,
  ) {
    const type = req.headers.get('content-type');
    if (type !== undefined && !/^application\/sdp\b/i.test(type)) {
      throw new RtspStatusError(415, `ANNOUNCE with Content-Type "${type.slice(0, 40)}"`);
    }
    if (req.body.length === 0) throw new RtspStatusError(400, 'ANNOUNCE without SDP');
    let publisher: RtspPublisher;
    try {
      publisher = new RtspPublisher(req.body, req.uri, host.remoteAddress, host.counters);
    } catch (err) {
      if (err instanceof ParseError) throw new RtspStatusError(400, `bad SDP: ${err.message}`);
      throw err;
    }
    if (publisher.sections.length === 0) throw new RtspStatusError(400, 'SDP without media sections');
    if (publisher.medias.length === 0) throw new RtspStatusError(415, 'SDP without a supported codec');
    this.publisher = publisher;
    this.#name = target.name;
    this.#url = req.uri.replace(/^(rtsps?:\/\/)[^@/]*@/i, '$1');
    publisher.once('close', (err) => {
      if (!this.#closing) this.onEnded(err);
    });
  }

  get recording(): boolean {
    return this.#recording;
  }

  /** SETUP mode=record of the section the URL names. */
  setup(req: RtspRequest): Reply {
    if (this.#recording) throw new RtspStatusError(455, 'SETUP while recording');
    const shared = this.host.shared;
    const spec = chooseTransport(req.headers.get('transport'), shared.udp !== undefined);
    if (spec.mode !== 'record')
      throw new RtspStatusError(455, 'SETUP for play after ANNOUNCE (mode=record expected)');
    const publisher = this.publisher;
    const index = publisher.sectionFor(req.uri);
    if (index === undefined)
      throw new RtspStatusError(404, `no announced section has control "${req.uri.slice(0, 120)}"`);
    if (publisher.sections[index].receiver)
      throw new RtspStatusError(455, `section ${index} is set up already`);
    this.host.sessionId();
    publisher.setup(index, spec.protocol === 'udp');
    if (spec.protocol === 'tcp') {
      const channels = claimChannels(this.host, spec.interleaved);
      this.host.routeChannel(channels[0], (data) => publisher.pushRtp(index, data));
      this.host.routeChannel(channels[1], () => undefined); // sender reports: liveness only
      return transportReply(
        formatTransport({ protocol: 'tcp', multicast: false, interleaved: channels, mode: 'record' }),
      );
    }
    const ports = spec.clientPort!;
    this.host.routeUdp(ports, {
      onDatagram: (data, rtcp) => {
        if (!rtcp) publisher.pushRtp(index, data);
      },
    });
    return transportReply(
      formatTransport({
        protocol: 'udp',
        multicast: false,
        clientPort: ports,
        serverPort: shared.udp!.ports,
        mode: 'record',
      }),
    );
  }

  /** RECORD: the publisher becomes a source of the stream. */
  async record(): Promise<Reply> {
    if (this.#recording) return { status: 200 };
    const publisher = this.publisher;
    if (publisher.setupCount === 0) throw new RtspStatusError(455, 'RECORD before SETUP');
    if (this.#name.startsWith(INTERNAL_PATH_PREFIX)) return this.#recordInternal();
    const stream = await this.host.shared.registry.forPublish(this.#name);
    if (this.host.closed || publisher.closed)
      throw new RtspStatusError(455, 'connection closed during RECORD');
    publisher.start(stream.addPublisher(this.#url, publisher));
    this.#recording = true;
    this.host.shared.log.info(
      { stream: this.#name, remote: this.host.remoteAddress },
      'RTSP publisher started',
    );
    return { status: 200 };
  }

  /**
   * RECORD on a private path: the gateway's own child publishing to the source that started it.
   * 404 when nobody waits for it (a stream is never created there).
   */
  #recordInternal(): Reply {
    const handler = this.host.shared.loopback?.takePublish(this.#name);
    if (!handler) throw new RtspStatusError(404, `no source waits for a publish on ${this.#name}`);
    this.publisher.start(handler(this.publisher));
    this.#recording = true;
    this.host.shared.log.debug({ path: this.#name }, 'RTSP internal publisher started');
    return { status: 200 };
  }

  /** Idempotent: closes the publisher (its stream's runner closes with it) without telling `onEnded`. */
  close(): void {
    this.#closing = true;
    try {
      this.publisher.close();
    } finally {
      this.#closing = false;
    }
  }
}

function transportReply(transport: string): Reply {
  return { status: 200, headers: [['Transport', transport]] };
}
