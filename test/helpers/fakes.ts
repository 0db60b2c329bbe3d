/**
 * Test doubles for the engine: a scriptable source driver and a consumer that records frames.
 */
import { Consumer, type MediaRequest } from '../../src/core/consumer.ts';
import { SafeEmitter } from '../../src/core/emitter.ts';
import type { Codec, Frame, Media } from '../../src/core/media.ts';
import type { FrameSink, SourceConnection, SourceDriver } from '../../src/core/source.ts';
import type { StreamTrack } from '../../src/core/track.ts';

export const H264: Codec = { name: 'H264', clockRate: 90000, payloadType: 96 };
export const H265: Codec = { name: 'H265', clockRate: 90000, payloadType: 96 };
export const OPUS: Codec = { name: 'OPUS', clockRate: 48000, channels: 2, payloadType: 111 };
export const PCMA: Codec = { name: 'PCMA', clockRate: 8000, payloadType: 8 };

export class FakeConnection extends SafeEmitter<{ close: [Error | undefined] }> implements SourceConnection {
  closed = false;
  keyframeRequests = 0;
  constructor(
    readonly medias: Media[],
    readonly sink: FrameSink,
  ) {
    super();
  }
  send(index: number, frame: Partial<Frame> = {}): void {
    this.sink(index, { pts: 0, dts: 0, keyframe: true, data: Buffer.alloc(100), ...frame });
  }
  requestKeyframe(): void {
    this.keyframeRequests++;
  }
  /** Simulates the peer going away. */
  fail(err = new Error('peer gone')): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', err);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', undefined);
  }
}

/** A driver whose connects succeed or fail on command; `gate` holds a connect until released. */
export class FakeDriver implements SourceDriver {
  connections: FakeConnection[] = [];
  attempts = 0;
  failNext = 0;
  gate: Promise<void> | undefined;

  constructor(public medias: Media[]) {}

  get last(): FakeConnection {
    return this.connections[this.connections.length - 1];
  }

  async connect(sink: FrameSink, signal: AbortSignal): Promise<SourceConnection> {
    this.attempts++;
    if (this.gate) await this.gate;
    if (signal.aborted) throw new Error('aborted');
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('connection refused');
    }
    const conn = new FakeConnection(this.medias, sink);
    this.connections.push(conn);
    return conn;
  }
}

export function media(codec: Codec): Media {
  return {
    kind: codec.name === 'H264' || codec.name === 'H265' ? 'video' : 'audio',
    direction: 'recvonly',
    codecs: [codec],
  };
}

/** Records frames; `backlog` simulates a socket's unsent bytes; `throwOnWrite` a broken peer. */
export class RecordingConsumer extends Consumer {
  readonly type = 'test';
  received: { track: StreamTrack; frame: Frame }[] = [];
  backlog = 0;
  throwOnWrite = false;
  closeCalls = 0;

  constructor(private readonly wants: MediaRequest[] = [{ kind: 'video', codecs: 'any' }]) {
    super();
  }
  requests(): MediaRequest[] {
    return this.wants;
  }
  protected override backlogBytes(): number {
    return this.backlog;
  }
  protected writeFrame(track: StreamTrack, frame: Frame): void {
    if (this.throwOnWrite) throw new Error('socket broken');
    this.received.push({ track, frame });
  }
  protected onClose(): void {
    this.closeCalls++;
  }
}
