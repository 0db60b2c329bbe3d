/**
 * BackchannelPlayer: plays the audio of a file, a URL or another stream into a stream's back
 * channel (`POST /api/streams?dst=NAME&src=...`, as go2rtc). It holds three things, freed in this
 * order by `close()`: the input (a source connection made from the URL's scheme, or a hidden
 * consumer of the other stream), the `Talk` (the right to the back channel, transcoding to its
 * codec), and a hidden consumer of the target stream that keeps its camera connected while the
 * player runs (it shows in the API as a consumer of type `backchannel`).
 *
 * A `file:` plays once and the player stops at its end; anything else plays until stopped
 * (`src=` empty), until it ends, or until either stream goes away. The input's audio must be
 * Opus, G.711 or L16 (what the in-process transcoder decodes): a URL with AAC is refused with a
 * hint to use `ffmpeg:FILE#audio=pcma`; another stream's AAC is converted by the stream's own
 * transcoder hook (ffmpeg) when it has one.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { canDecode, ENGINE_CODECS } from '../../audio/engine/codecs.ts';
import { Consumer, type MediaRequest } from '../../core/consumer.ts';
import { SafeEmitter } from '../../core/emitter.ts';
import {
  BadRequestError,
  ConflictError,
  InvalidStateError,
  TimeoutError,
  UnsupportedError,
} from '../../core/errors.ts';
import { maskSecrets } from '../../core/mask.ts';
import { type Codec, codecToString, type Frame } from '../../core/media.ts';
import type { StreamRegistry } from '../../core/registry.ts';
import type { SourceConnection } from '../../core/source.ts';
import type { Stream } from '../../core/stream.ts';
import type { StreamTrack } from '../../core/track.ts';
import { readMp4 } from '../../formats/mp4/index.ts';
import { acquireTalk, canTalk, type Talk, talkHolder } from './talk.ts';

/** How long the input may take to connect, ms. */
export const INPUT_TIMEOUT_MS = 10000;

/** A consumer that hands frames to a callback (or drops them): the player's hidden readers. */
class Tap extends Consumer {
  constructor(
    readonly type: string,
    private readonly wants: MediaRequest[],
    private readonly onFrame?: (track: StreamTrack, frame: Frame) => void,
  ) {
    super();
  }

  requests(): MediaRequest[] {
    return this.wants;
  }

  protected writeFrame(track: StreamTrack, frame: Frame): void {
    this.onFrame?.(track, frame);
  }

  protected onClose(): void {}
}

/** What `GET`-style callers see of a running player. */
export interface PlayerInfo {
  stream: string;
  /** The input, secrets masked. */
  src: string;
  /** The input's audio codec. */
  input?: string;
  /** The back channel's codec. */
  output?: string;
  frames: number;
  dropped: number;
}

/** `file:PATH` to the path the file source would open (see src/protocols/file/source.ts). */
function filePath(url: string): string {
  return resolve(
    url
      .slice('file:'.length)
      .split('#')[0]
      .replace(/^\/\/(?=\/)/, ''),
  );
}

/** Length of the first audio track of an MP4 file, seconds; undefined when it cannot be read. */
async function audioSeconds(path: string): Promise<number | undefined> {
  try {
    const file = readMp4(await readFile(path));
    const track = file.tracks.find((t) => t.kind === 'audio' && t.samples.length > 0);
    if (!track) return undefined;
    const last = track.samples[track.samples.length - 1];
    return (last.dts + last.duration) / track.timescale;
  } catch {
    return undefined;
  }
}

export class BackchannelPlayer extends SafeEmitter<{ close: [error: Error | undefined] }> {
  readonly src: string;
  #talk: Talk | undefined;
  #keep: Tap | undefined;
  #inputTap: Tap | undefined;
  #inputConn: SourceConnection | undefined;
  #inputCodec: Codec | undefined;
  /** `file:` inputs: the media time (in the input's clock) after which the player stops. */
  #endAfter: number | undefined;
  #firstPts: number | undefined;
  #closed = false;

  constructor(
    readonly target: Stream,
    src: string,
    private readonly registry: StreamRegistry,
  ) {
    super();
    this.src = src.trim();
  }

  get closed(): boolean {
    return this.#closed;
  }

  info(): PlayerInfo {
    return {
      stream: this.target.name,
      src: maskSecrets(this.src),
      input: this.#inputCodec && codecToString(this.#inputCodec),
      output: this.#talk?.codec && codecToString(this.#talk.codec),
      frames: this.#talk?.counters.framesOut ?? 0,
      dropped: this.#talk?.counters.dropped ?? 0,
    };
  }

  /**
   * Takes the back channel, connects the input and starts playing. Rejects (and frees everything)
   * with ConflictError when someone else talks, UnsupportedError when the stream has no back
   * channel or the input no usable audio, BadRequestError for a bad `src`.
   */
  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      this.close();
      throw err;
    }
    if (this.#closed) throw new InvalidStateError(`playing into ${this.target.name} was stopped`);
  }

  /** Idempotent: stops the input, lets go of the back channel, lets the camera idle; emits `close` once. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inputConn?.close();
    this.#inputTap?.close();
    this.#talk?.close();
    this.#keep?.close();
    this.#inputConn = this.#inputTap = this.#keep = this.#talk = undefined;
    this.emit('close', error);
    this.removeAllListeners();
  }

  async #start(): Promise<void> {
    const name = this.target.name;
    if (!this.src) throw new BadRequestError('missing ?src= (a file:, a URL or a stream name)');
    const talk = acquireTalk(this.target, `api ${maskSecrets(this.src)}`);
    if (!talk)
      throw new ConflictError(`the back channel of "${name}" is in use by ${talkHolder(this.target)}`);
    this.#talk = talk;
    // Keeps the camera (and so its back channel) connected while playing.
    const keep = new Tap('backchannel', [
      { kind: 'video', codecs: 'any' },
      { kind: 'audio', codecs: 'any' },
    ]);
    this.#keep = keep;
    await this.target.addConsumer(keep);
    this.#assertOpen();
    keep.once('close', (err) => this.close(err ?? new Error(`stream ${name} closed`)));
    keep.play();
    if (!canTalk(this.target)) {
      const codec = this.target.backchannel()?.codec;
      throw new UnsupportedError(
        codec
          ? `the back channel of "${name}" takes ${codecToString(codec)}, which cannot be made in-process`
          : `stream "${name}" has no back channel (its source offers none, or it is not an ONVIF camera)`,
      );
    }
    const input = this.registry.get(this.src);
    if (input) await this.#readStream(input);
    else await this.#readUrl();
  }

  /** Reads another stream's audio through a hidden consumer. */
  async #readStream(input: Stream): Promise<void> {
    if (input === this.target) throw new BadRequestError(`stream "${input.name}" cannot play into itself`);
    // The back channel's codec first (nothing to convert), Opus last: a consumer preferring Opus
    // over a G.711 match would get an in-process Opus encoder it does not need (an upgrade).
    const first = this.#talk?.codec;
    const codecs: Codec[] = first ? [first] : [];
    for (const name of ['PCMA', 'PCMU', 'L16'] as const) codecs.push({ name, clockRate: 0 });
    codecs.push({ name: 'OPUS', clockRate: 48000 });
    const tap = new Tap('backchannel-input', [{ kind: 'audio', codecs }], (track, frame) =>
      this.#write(frame, track.codec),
    );
    this.#inputTap = tap;
    await input.addConsumer(tap);
    this.#assertOpen();
    this.#inputCodec = tap.tracks[0]?.codec;
    tap.once('close', (err) => this.close(err ?? new Error(`stream ${input.name} closed`)));
    tap.play();
  }

  /** Connects the URL's source driver and plays its first audio media. */
  async #readUrl(): Promise<void> {
    const driver = this.registry.schemes.create(this.src, {
      streamName: this.target.name,
      fromConfig: false,
    });
    const abort = new AbortController();
    let index = -1;
    const sink = (i: number, frame: Frame) => {
      if (i === index && this.#inputCodec) this.#write(frame, this.#inputCodec);
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new TimeoutError(`${maskSecrets(this.src)}: no answer within ${INPUT_TIMEOUT_MS} ms`));
      }, INPUT_TIMEOUT_MS);
    });
    const connecting = driver.connect(sink, abort.signal);
    connecting.then(
      (conn) => (abort.signal.aborted || this.#closed) && conn.close(),
      () => undefined,
    );
    let conn: SourceConnection;
    try {
      conn = await Promise.race([connecting, timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.#inputConn = conn;
    this.#assertOpen();
    index = conn.medias.findIndex((m) => m.kind === 'audio' && usable(m.codecs[0]));
    if (index < 0) {
      const audio = conn.medias.filter((m) => m.kind === 'audio').map((m) => codecToString(m.codecs[0]));
      throw new UnsupportedError(
        `${maskSecrets(this.src)}: no Opus, G.711 or L16 audio to play (offered: ${audio.join(', ') || 'no audio'}); ` +
          'convert it with ffmpeg, e.g. src=ffmpeg:FILE#audio=pcma',
      );
    }
    if (/^file:/i.test(this.src)) {
      const seconds = await audioSeconds(filePath(this.src));
      this.#assertOpen();
      if (seconds !== undefined)
        this.#endAfter = Math.round(seconds * conn.medias[index].codecs[0].clockRate);
    }
    this.#inputCodec = conn.medias[index].codecs[0];
    conn.once('close', (err) => this.close(err ?? new Error(`${maskSecrets(this.src)} ended`)));
  }

  #write(frame: Frame, codec: Codec): void {
    if (this.#closed) return;
    this.#firstPts ??= frame.pts;
    if (this.#endAfter !== undefined && frame.pts - this.#firstPts >= this.#endAfter) {
      this.close(); // played once
      return;
    }
    this.#talk?.write(frame, codec);
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError(`playing into ${this.target.name} was stopped`);
  }
}

function usable(codec: Codec | undefined): codec is Codec {
  return codec !== undefined && ENGINE_CODECS.has(codec.name) && canDecode(codec);
}
