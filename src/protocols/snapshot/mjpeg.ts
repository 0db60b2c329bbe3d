/**
 * MjpegFeed: `/api/stream.mjpeg` of one stream, shared by every HTTP client watching it. It is one
 * consumer of the stream's H.264/H.265 video that feeds one ffmpeg (Annex B on stdin, JPEGs on
 * stdout) and writes each picture to every client as a part of `multipart/x-mixed-replace`. A
 * client that does not keep up skips pictures; the feed (and its ffmpeg) closes with its last
 * client.
 */
import type { ServerResponse } from 'node:http';
import { Consumer, type MediaRequest } from '../../core/consumer.ts';
import type { Frame } from '../../core/media.ts';
import type { StreamTrack } from '../../core/track.ts';
import type { Logger } from '../../log/logger.ts';
import { ChildProcessSupervisor } from '../../process/child.ts';
import { splitArgs } from '../exec/command.ts';
import { AnnexBWriter, rawFormatOf } from './annexb.ts';
import { JpegSplitter } from './jpeg-split.ts';

export const MJPEG_BOUNDARY = 'mediagateframe';
/** A client with more than this unsent is skipped until it catches up, bytes. */
const CLIENT_BACKLOG_BYTES = 1024 * 1024;
const VIDEO: MediaRequest = {
  kind: 'video',
  codecs: [
    { name: 'H264', clockRate: 90000 },
    { name: 'H265', clockRate: 90000 },
  ],
};

/**
 * ffmpeg's arguments for raw video on stdin to MJPEG on stdout, each picture flushed at once.
 * A tiny probe (`-probesize 32 -analyzeduration 0`) so the first picture comes with the first
 * frame, not seconds later.
 */
export function mjpegArgs(bin: string, global: string, format: 'h264' | 'hevc'): string[] {
  return [
    bin,
    ...splitArgs(global),
    '-probesize',
    '32',
    '-analyzeduration',
    '0',
    '-flags',
    'low_delay',
    '-f',
    format,
    '-i',
    '-',
    '-fps_mode',
    'passthrough',
    '-c:v',
    'mjpeg',
    '-q:v',
    '5',
    '-flush_packets',
    '1',
    '-f',
    'mjpeg',
    '-',
  ];
}

export class MjpegFeed extends Consumer {
  readonly type = 'mjpeg';
  /** Pictures made. */
  pictures = 0;
  readonly #clients = new Set<ServerResponse>();
  readonly #splitter = new JpegSplitter();
  #child: ChildProcessSupervisor | undefined;
  #writer: AnnexBWriter | undefined;

  constructor(
    private readonly bin: string,
    private readonly global: string,
    private readonly owner: string,
    private readonly log: Logger,
  ) {
    super();
  }

  requests(): MediaRequest[] {
    return [VIDEO];
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  /** Adds a client whose headers are sent; it is removed (and the feed closed with the last) when it goes. */
  addClient(res: ServerResponse): void {
    if (this.closed) {
      res.end();
      return;
    }
    this.#clients.add(res);
    res.once('close', () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0) this.close();
    });
  }

  /** ffmpeg's unsent input: over the limit, the base class drops frames up to the next keyframe. */
  protected override backlogBytes(): number {
    return this.#child?.proc.stdin?.writableLength ?? 0;
  }

  protected writeFrame(track: StreamTrack, frame: Frame): void {
    if (!this.#child) {
      const format = rawFormatOf(track.codec);
      if (!format || !frame.keyframe) return; // ffmpeg starts at a keyframe
      this.#start(format);
      this.#writer = new AnnexBWriter(track.codec);
    }
    this.#child?.proc.stdin?.write(this.#writer!.write(frame));
  }

  protected onClose(): void {
    for (const res of this.#clients) if (!res.writableEnded) res.end();
    this.#clients.clear();
    void this.#child?.stop();
  }

  #start(format: 'h264' | 'hevc'): void {
    const argv = mjpegArgs(this.bin, this.global, format);
    const child = new ChildProcessSupervisor({
      command: argv[0],
      args: argv.slice(1),
      owner: this.owner,
      stdin: 'pipe',
      stdout: 'pipe',
      log: this.log,
    });
    this.#child = child;
    child.proc.stdout?.on('data', (chunk: Buffer) => {
      for (const jpeg of this.#splitter.push(chunk)) this.#send(jpeg);
    });
    void child.exited.then(() => this.close(new Error(child.describeExit('mjpeg: ffmpeg'))));
  }

  #send(jpeg: Buffer): void {
    this.pictures++;
    const head = Buffer.from(
      `--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`,
    );
    for (const res of this.#clients) {
      if (res.writableLength > CLIENT_BACKLOG_BYTES) continue;
      res.write(head);
      res.write(jpeg);
      res.write('\r\n');
    }
  }
}
