/**
 * The consumers behind the HTTP byte-stream outputs, each a chunked response that starts at the
 * first video keyframe:
 *
 * - `MPEG-TS` (`video/mp2t`): H.264 or H.265, AAC or Opus.
 * - `FLV` (`video/x-flv`): H.264 (H.265 as Enhanced RTMP `hvc1`), AAC.
 * - `ADTS` (`audio/aac`): AAC alone, a 7-byte header per frame.
 * - `MJPEG` (`multipart/x-mixed-replace`): the pictures of a JPEG track, one part each.
 *
 * The response's unsent bytes are the backlog; a client that stops reading drops frames and is
 * disconnected after the stall timeout. `done` settles when the consumer closes: it rejects only
 * when nothing was sent yet, so that the route can still answer with a JSON error.
 */
import type { ServerResponse } from 'node:http';
import { buildAdtsHeader } from '../../../codecs/aac/adts.ts';
import {
  type AudioSpecificConfig,
  buildAudioSpecificConfig,
  parseAudioSpecificConfig,
} from '../../../codecs/aac/config.ts';
import { aacConfigFromHex } from '../../../codecs/aac/fmtp.ts';
import type { MediaRequest } from '../../../core/consumer.ts';
import { InvalidStateError } from '../../../core/errors.ts';
import type { Codec, Frame } from '../../../core/media.ts';
import { FlvMuxer } from '../../../formats/flv/muxer.ts';
import { TsMuxer } from '../../../formats/ts/muxer.ts';
import { ByteStreamConsumer } from './byte-consumer.ts';
import { StalledReaderError } from './stall.ts';

const H264: Codec = { name: 'H264', clockRate: 90000 };
const H265: Codec = { name: 'H265', clockRate: 90000 };
/** Clock rate 0: any rate. */
const AAC: Codec = { name: 'AAC', clockRate: 0 };
const OPUS: Codec = { name: 'OPUS', clockRate: 48000 };
const JPEG: Codec = { name: 'JPEG', clockRate: 90000 };
/** The multipart boundary of the MJPEG output. */
export const MJPEG_BOUNDARY = 'frame';

export abstract class HttpStreamConsumer extends ByteStreamConsumer {
  readonly done: Promise<void>;
  protected abstract readonly contentType: string;

  constructor(
    requests: MediaRequest[],
    protected readonly res: ServerResponse,
  ) {
    super(requests);
    this.done = new Promise((resolve, reject) => {
      this.once('close', (err) => {
        // A client that stopped reading would never take the rest: drop the connection.
        if (err instanceof StalledReaderError) res.destroy();
        if (res.headersSent) resolve();
        else reject(err ?? new InvalidStateError('stream closed before it started'));
      });
    });
    this.done.catch(() => {}); // awaited by the route only after negotiation
  }

  protected override backlogBytes(): number {
    return this.res.writableLength;
  }

  /** Writes bytes, the response head first. */
  protected send(data: Buffer): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) {
      this.close();
      return;
    }
    if (!res.headersSent) {
      res.writeHead(200, { 'content-type': this.contentType, 'cache-control': 'no-cache' });
    }
    res.write(data);
  }

  protected onClose(): void {
    if (this.res.headersSent && !this.res.writableEnded) this.res.end();
  }
}

/** `GET /api/stream.ts`. */
export class TsStreamConsumer extends HttpStreamConsumer {
  readonly type = 'ts';
  protected readonly contentType = 'video/mp2t';
  #muxer: TsMuxer | undefined;

  constructor(res: ServerResponse) {
    super(
      [
        { kind: 'video', codecs: [H264, H265] },
        { kind: 'audio', codecs: [AAC, OPUS] },
      ],
      res,
    );
  }

  protected start(): void {
    this.#muxer = new TsMuxer(this.medias());
    this.send(this.#muxer.header());
  }

  protected write(index: number, frame: Frame): void {
    this.send(this.#muxer!.frame(index, frame));
  }
}

/** `GET /api/stream.flv`. */
export class FlvStreamConsumer extends HttpStreamConsumer {
  readonly type = 'flv';
  protected readonly contentType = 'video/x-flv';
  #muxer: FlvMuxer | undefined;

  constructor(res: ServerResponse) {
    super(
      [
        { kind: 'video', codecs: [H264, H265] },
        { kind: 'audio', codecs: [AAC] },
      ],
      res,
    );
  }

  protected start(): void {
    this.#muxer = new FlvMuxer(this.medias());
    this.send(this.#muxer.header());
  }

  protected write(index: number, frame: Frame): void {
    const bytes = this.#muxer!.frame(index, frame); // empty before the video parameter sets
    if (bytes.length > 0) this.send(bytes);
  }
}

/** The AudioSpecificConfig of an AAC codec: its fmtp `config`, else AAC LC at its rate. */
function aacConfig(codec: Codec): AudioSpecificConfig {
  const hex = codec.fmtp?.['config'];
  const bytes = hex
    ? aacConfigFromHex(hex)
    : buildAudioSpecificConfig({
        objectType: 2,
        sampleRate: codec.clockRate,
        channelConfig: codec.channels ?? 2,
      });
  return parseAudioSpecificConfig(bytes);
}

/** `GET /api/stream.aac`. */
export class AdtsStreamConsumer extends HttpStreamConsumer {
  readonly type = 'aac';
  protected readonly contentType = 'audio/aac';
  #config: AudioSpecificConfig | undefined;

  constructor(res: ServerResponse) {
    super([{ kind: 'audio', codecs: [AAC] }], res);
  }

  protected start(): void {
    this.#config = aacConfig(this.tracks[0].codec);
  }

  protected write(_index: number, frame: Frame): void {
    this.send(Buffer.concat([buildAdtsHeader(this.#config!, frame.data.length), frame.data]));
  }
}

/**
 * MJPEG passthrough of a JPEG video track (an MJPEG camera, a snapshot source): the pictures as
 * they come, no decoding. Not routed here: `GET /api/stream.mjpeg` belongs to the snapshot module,
 * which can hand JPEG tracks to it instead of encoding them again.
 */
export class MjpegStreamConsumer extends HttpStreamConsumer {
  readonly type = 'mjpeg';
  protected readonly contentType = `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`;

  constructor(res: ServerResponse) {
    super([{ kind: 'video', codecs: [JPEG] }], res);
  }

  protected start(): void {}

  protected write(_index: number, frame: Frame): void {
    const head = `--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.data.length}\r\n\r\n`;
    this.send(Buffer.concat([Buffer.from(head, 'latin1'), frame.data, Buffer.from('\r\n', 'latin1')]));
  }
}
