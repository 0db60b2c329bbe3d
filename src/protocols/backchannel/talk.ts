/**
 * Talking into a stream's back channel. A `Talk` is the right to send audio to the camera of a
 * stream: one holder per stream at a time and no mixing, i.e. the first producer wins (a WebRTC
 * viewer with a microphone, an RTSP client on `?backchannel=1`, or `POST /api/streams?dst=`) and
 * the others are dropped until it lets go. A holder writes frames in whatever codec it has; the
 * Talk transcodes them in-process to the codec of the stream's current back channel (rebuilt when
 * a reconnected camera brings another one) and sends them. Frames written while the stream has
 * no back channel (its camera is reconnecting) are dropped and counted.
 */

import { canDecode, ENGINE_CODECS, sameAudioCodec } from '../../audio/engine/codecs.ts';
import { AudioTranscoder } from '../../audio/transcoder.ts';
import { errorMessage } from '../../core/errors.ts';
import { type Codec, codecToString, type Frame } from '../../core/media.ts';
import type { Backchannel } from '../../core/source.ts';
import type { Stream } from '../../core/stream.ts';

/** Counters of one Talk. */
export interface TalkCounters {
  framesIn: number;
  framesOut: number;
  /** Frames dropped: no back channel at the time. */
  dropped: number;
  /** Frames the transcoder could not take. */
  errors: number;
}

const holders = new WeakMap<Stream, Talk>();

/**
 * True when the stream has a back channel the engine can produce audio for (G.711, L16 or Opus),
 * i.e. a microphone offered to it would be heard.
 */
export function canTalk(stream: Stream): boolean {
  const backchannel = stream.backchannel();
  return (
    backchannel !== undefined && ENGINE_CODECS.has(backchannel.codec.name) && canDecode(backchannel.codec)
  );
}

/** Who holds the stream's back channel now (its `owner` text), or undefined. */
export function talkHolder(stream: Stream): string | undefined {
  const talk = holders.get(stream);
  return talk && !talk.closed ? talk.owner : undefined;
}

/**
 * Takes the stream's back channel for `owner` (a description such as `webrtc 127.0.0.1:5000`,
 * shown in errors); undefined when someone else holds it or the stream is closed.
 */
export function acquireTalk(stream: Stream, owner: string): Talk | undefined {
  if (stream.closed || talkHolder(stream) !== undefined) return undefined;
  const talk = new Talk(stream, owner);
  holders.set(stream, talk);
  return talk;
}

export class Talk {
  readonly counters: TalkCounters = { framesIn: 0, framesOut: 0, dropped: 0, errors: 0 };
  /** The first transcoder error, for logs and the API. */
  lastError: string | undefined;
  #transcoder: AudioTranscoder | undefined;
  #target: Backchannel | undefined;
  #closed = false;

  /** Use `acquireTalk()`. */
  constructor(
    readonly stream: Stream,
    readonly owner: string,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  /** The codec the audio goes out in now (the back channel's), if the stream has one. */
  get codec(): Codec | undefined {
    return this.stream.backchannel()?.codec;
  }

  /** Sends one frame of `codec` (OPUS, PCMA, PCMU or L16) to the back channel. Never throws. */
  write(frame: Frame, codec: Codec): void {
    if (this.#closed) return;
    this.counters.framesIn++;
    const backchannel = this.stream.backchannel();
    if (!backchannel) {
      this.counters.dropped++;
      return;
    }
    let out: Frame[];
    try {
      out = this.#transcoderFor(backchannel, codec).push(frame, codec);
    } catch (err) {
      this.counters.errors++;
      if (this.counters.errors === 1) this.lastError = `${codecToString(codec)}: ${errorMessage(err)}`;
      return;
    }
    for (const f of out) {
      this.counters.framesOut++;
      backchannel.send(f);
    }
  }

  /** Idempotent: lets go of the back channel and frees the codecs. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (holders.get(this.stream) === this) holders.delete(this.stream);
    this.#transcoder?.close();
    this.#transcoder = undefined;
    this.#target = undefined;
  }

  /** One transcoder per back channel: a reconnected camera (another codec, or not) gets a new one. */
  #transcoderFor(backchannel: Backchannel, input: Codec): AudioTranscoder {
    const current = this.#transcoder;
    if (current && this.#target === backchannel && sameAudioCodec(current.output, backchannel.codec))
      return current;
    current?.close();
    this.#transcoder = undefined;
    const next = new AudioTranscoder(input, backchannel.codec);
    this.#transcoder = next;
    this.#target = backchannel;
    return next;
  }
}
