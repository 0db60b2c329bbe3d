/**
 * RtspPublisher: the SourceConnection of one RTSP publisher (ANNOUNCE, SETUP mode=record, RECORD),
 * adopted by its stream with `stream.addPublisher()`. Every media section of the announced SDP is
 * kept, so a SETUP can name any of them; sections whose codec the gateway cannot depayload are set
 * up but their packets are dropped. RTP comes in interleaved or as datagrams and leaves as Frames.
 */
import { createDepayloader } from '../../../codecs/index.ts';
import { SafeEmitter } from '../../../core/emitter.ts';
import type { Codec, Media } from '../../../core/media.ts';
import type { FrameSink, SourceConnection } from '../../../core/source.ts';
import { parseRtp } from '../../../rtp/index.ts';
import { getAttribute, parseSdp, resolveControl, sdpToMedias } from '../../../sdp/index.ts';
import { RtpTrackReceiver } from '../../rtp/track-receiver.ts';
import type { ConnectionCounters } from './types.ts';

/** One `m=` section of the announced SDP. */
export interface PublisherSection {
  /** The control URL resolved against the ANNOUNCE URL: what the publisher will SETUP. */
  control: string;
  /** Index into `medias`, or undefined when the codec is not one the gateway can take. */
  mediaIndex: number | undefined;
  codec: Codec | undefined;
  receiver: RtpTrackReceiver | undefined;
}

export class RtspPublisher
  extends SafeEmitter<{ close: [error: Error | undefined] }>
  implements SourceConnection
{
  readonly medias: Media[] = [];
  readonly sections: PublisherSection[] = [];
  #sink: FrameSink | undefined;
  #closed = false;

  /**
   * Parses the announced SDP. Throws ParseError for a body that is not SDP; a description without
   * any usable media gives an empty `medias` (the caller answers 415).
   */
  constructor(
    sdpBody: Buffer,
    baseUrl: string,
    readonly remoteAddress: string,
    private readonly counters: ConnectionCounters,
  ) {
    super();
    const sdp = parseSdp(sdpBody);
    const usable = sdpToMedias(sdp, { base: baseUrl });
    const sessionControl = getAttribute(sdp.attributes, 'control');
    const taken = new Set<Media>();
    for (const md of sdp.medias) {
      const control = resolveControl(baseUrl, getAttribute(md.attributes, 'control'), sessionControl);
      const media = usable.find((m) => m.id === control && !taken.has(m));
      if (media) taken.add(media);
      const codec = media?.codecs[0];
      let mediaIndex: number | undefined;
      if (media && codec && canDepayload(codec)) {
        mediaIndex = this.medias.length;
        this.medias.push({ ...media, direction: 'recvonly', codecs: [codec] });
      }
      this.sections.push({
        control,
        mediaIndex,
        codec: mediaIndex === undefined ? undefined : codec,
        receiver: undefined,
      });
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The section a SETUP URL names: an exact control match, else one whose control ends with the
   * URL's last path segment (clients differ on the host part), else undefined.
   */
  sectionFor(url: string): number | undefined {
    const exact = this.sections.findIndex((s) => s.control === url);
    if (exact >= 0) return exact;
    const last = url.slice(url.lastIndexOf('/') + 1);
    if (!last) return undefined;
    const loose = this.sections.findIndex((s) => s.control.endsWith(`/${last}`));
    return loose >= 0 ? loose : undefined;
  }

  /** Prepares a section's receiver; `reorder` for UDP, where packets may come out of order. */
  setup(index: number, reorder: boolean): void {
    const s = this.sections[index];
    if (s.codec) s.receiver = new RtpTrackReceiver(s.codec, reorder);
  }

  get setupCount(): number {
    return this.sections.filter((s) => s.receiver !== undefined).length;
  }

  /** RECORD: frames go to the stream from now on. */
  start(sink: FrameSink): void {
    this.#sink = sink;
  }

  /** One RTP packet of section `index`. Dropped (and counted) when malformed or of another payload type. */
  pushRtp(index: number, data: Buffer): void {
    const s = this.sections[index];
    const sink = this.#sink;
    if (!s?.receiver || !sink || s.mediaIndex === undefined) {
      this.counters.droppedFrames++;
      return;
    }
    try {
      const packet = parseRtp(data);
      if (s.codec?.payloadType !== undefined && packet.payloadType !== s.codec.payloadType) {
        this.counters.droppedFrames++;
        return;
      }
      for (const frame of s.receiver.push(packet)) sink(s.mediaIndex, frame);
    } catch {
      this.counters.droppedFrames++;
    }
  }

  /** Receiver counters per section, for the log. */
  stats(): Record<string, number>[] {
    return this.sections.map((s) => ({ ...(s.receiver?.counters ?? {}) }));
  }

  /** Idempotent; emits `close` once. The stream's runner closes the source when it does. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink = undefined;
    this.emit('close', error);
    this.removeAllListeners();
  }
}

function canDepayload(codec: Codec): boolean {
  try {
    createDepayloader(codec);
    return true;
  } catch {
    return false;
  }
}
