/**
 * The in-process audio transcoder as a stream source: it reads the stream's own audio track
 * through a hidden consumer (a TrackReader on the source's track), runs each frame through an
 * `AudioTranscoder` and writes the result into the track of its own runner (the derived track
 * every consumer that wanted this codec shares). No ffmpeg, no sockets, no timers.
 *
 * The reader follows the source: a reconnect with another rate or channel count of the same codec
 * reaches it as a changed `track.codec` (the transcoder rebuilds its decoder and resampler and its
 * output timestamps continue), and a reconnect with another codec, which closes the source track's
 * readers, is answered by reading the stream again, without the derived track noticing.
 */
import { Consumer, type MediaRequest } from '../../core/consumer.ts';
import { SafeEmitter } from '../../core/emitter.ts';
import { errorMessage, InvalidStateError, UnsupportedError } from '../../core/errors.ts';
import { type Codec, codecToString, type Frame, type Media } from '../../core/media.ts';
import { codecMatches } from '../../core/negotiate.ts';
import type { StreamRegistry } from '../../core/registry.ts';
import type { FrameSink, SourceConnection, SourceDriver } from '../../core/source.ts';
import type { Stream } from '../../core/stream.ts';
import type { StreamTrack } from '../../core/track.ts';
import { AudioTranscoder } from '../transcoder.ts';
import { canDecode } from './codecs.ts';

/** The hidden consumer: hands every frame of the track it reads to its owner. */
class TranscoderInput extends Consumer {
  readonly type = 'audio-transcoder';

  constructor(
    private readonly wants: MediaRequest[],
    private readonly onFrame: (track: StreamTrack, frame: Frame) => void,
  ) {
    super();
  }

  requests(): MediaRequest[] {
    return this.wants;
  }

  protected writeFrame(track: StreamTrack, frame: Frame): void {
    this.onFrame(track, frame);
  }

  protected onClose(): void {}
}

/** Counters of one transcoder connection. */
export interface AudioTranscodeCounters {
  framesIn: number;
  framesOut: number;
  /** Times the stream was read again after the source's codec changed. */
  reattached: number;
}

/** One running transcoder: a hidden reader of the stream, an AudioTranscoder, the output sink. */
export class AudioTranscodeConnection
  extends SafeEmitter<{ close: [error: Error | undefined] }>
  implements SourceConnection
{
  readonly medias: Media[];
  readonly counters: AudioTranscodeCounters = { framesIn: 0, framesOut: 0, reattached: 0 };
  #reader: TranscoderInput | undefined;
  #transcoder: AudioTranscoder | undefined;
  #closed = false;

  constructor(
    private readonly stream: Stream,
    readonly output: Codec,
    private readonly sink: FrameSink,
  ) {
    super();
    this.medias = [{ kind: 'audio', direction: 'recvonly', codecs: [output] }];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The codec read from the stream now (undefined before the first frame). */
  get input(): Codec | undefined {
    return this.#transcoder?.input;
  }

  /**
   * Negotiates the hidden reader and starts it. It asks for audio of any codec, so that its own
   * negotiation never plans another transcoder, and then checks what it got: rejects when the
   * stream has no audio the engine decodes (or only tracks in the output codec, its own included).
   */
  async attach(signal?: AbortSignal): Promise<void> {
    const reader = new TranscoderInput([{ kind: 'audio', codecs: 'any' }], (track, frame) =>
      this.#onFrame(track, frame),
    );
    this.#reader = reader;
    try {
      await this.stream.addConsumer(reader);
      const track = reader.tracks[0];
      if (!track || !canDecode(track.codec) || codecMatches(track.codec, this.output)) {
        const what = track ? codecToString(track.codec) : 'no audio';
        throw new UnsupportedError(
          `stream ${this.stream.name}: cannot make ${codecToString(this.output)} in-process from ${what}`,
        );
      }
    } catch (err) {
      reader.close();
      throw err;
    }
    if (this.#closed || signal?.aborted || this.#reader !== reader) {
      reader.close();
      throw new InvalidStateError(`audio transcoder of ${this.stream.name} stopped while connecting`);
    }
    reader.once('close', (err) => this.#readerClosed(reader, err));
    // Audio has no cached GOP: nothing is delivered before the runner has taken this connection.
    reader.play();
  }

  /** Idempotent: closes the reader, frees the codecs, emits `close` once. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.close();
    this.#transcoder?.close();
    this.#transcoder = undefined;
    this.emit('close', error);
    this.removeAllListeners();
  }

  #onFrame(track: StreamTrack, frame: Frame): void {
    if (this.#closed) return;
    this.counters.framesIn++;
    let out: Frame[];
    try {
      this.#transcoder ??= new AudioTranscoder(track.codec, this.output);
      out = this.#transcoder.push(frame, track.codec);
    } catch (err) {
      // An input the transcoder cannot take (a source now sending AAC): nothing more to make.
      this.close(err instanceof Error ? err : new Error(errorMessage(err)));
      return;
    }
    for (const f of out) {
      this.counters.framesOut++;
      this.sink(0, f);
    }
  }

  /** The stream closed the reader (the source's codec changed, its publisher left): read again. */
  #readerClosed(reader: TranscoderInput, error: Error | undefined): void {
    if (this.#closed || this.#reader !== reader) return;
    this.#reader = undefined;
    if (this.stream.closed) {
      this.close(error);
      return;
    }
    this.counters.reattached++;
    this.attach().catch((err) => this.close(err instanceof Error ? err : new Error(errorMessage(err))));
  }
}

/** Starts `AudioTranscodeConnection`s for one stream and output codec (a runner's driver). */
export class AudioTranscodeDriver implements SourceDriver {
  constructor(
    private readonly registry: StreamRegistry,
    readonly streamName: string,
    readonly output: Codec,
  ) {}

  async connect(sink: FrameSink, signal: AbortSignal): Promise<SourceConnection> {
    const stream = this.registry.get(this.streamName);
    if (!stream || stream.closed) throw new InvalidStateError(`stream ${this.streamName} is gone`);
    const conn = new AudioTranscodeConnection(stream, this.output, sink);
    try {
      await conn.attach(signal);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }
}
