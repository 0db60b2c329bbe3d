/**
 * Test doubles for two-way audio: a source driver whose connections have a back channel that
 * records what it is sent, a registry with the in-process audio hook around it, and Opus RTP of a
 * tone as a browser's microphone would send it.
 */
import { InProcessAudioTranscoder } from '../../../src/audio/engine/hook.ts';
import { OpusEncoder } from '../../../src/audio/opus.ts';
import type { Codec, Frame, Media } from '../../../src/core/media.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import type { Backchannel, FrameSink, SourceConnection, SourceDriver } from '../../../src/core/source.ts';
import { RtpEncoder } from '../../../src/rtp/encoder.ts';
import { FakeConnection, H264, media } from '../../helpers/fakes.ts';
import { sine } from '../audio/helpers.ts';

export const PCMA_BC: Codec = { name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8 };
export const PCMU_BC: Codec = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };

/** A back channel that records the frames it is sent. */
export class RecordingBackchannel implements Backchannel {
  readonly frames: Frame[] = [];
  constructor(readonly codec: Codec) {}
  send(frame: Frame): void {
    this.frames.push(frame);
  }
}

export class BackchannelConnection extends FakeConnection {
  readonly backchannel: RecordingBackchannel;
  constructor(medias: Media[], sink: FrameSink, codec: Codec) {
    super(medias, sink);
    this.backchannel = new RecordingBackchannel(codec);
  }
}

/** A camera: H.264 + PCMA, with a back channel in `codec` (changeable between connections). */
export class BackchannelDriver implements SourceDriver {
  readonly connections: BackchannelConnection[] = [];
  medias: Media[] = [media(H264), media(PCMA_BC)];
  constructor(public codec: Codec = PCMA_BC) {}
  get last(): BackchannelConnection {
    return this.connections[this.connections.length - 1];
  }
  async connect(sink: FrameSink, signal: AbortSignal): Promise<SourceConnection> {
    if (signal.aborted) throw new Error('aborted');
    const conn = new BackchannelConnection(this.medias, sink, this.codec);
    this.connections.push(conn);
    return conn;
  }
}

/** A registry (with the in-process audio hook) whose `cam` stream is a BackchannelDriver. */
export async function backchannelRegistry(codec: Codec = PCMA_BC) {
  const schemes = new SchemeTable();
  const driver = new BackchannelDriver(codec);
  schemes.register('fake', () => driver);
  const registry = new StreamRegistry(schemes, { idleTimeoutMs: 30, minBackoffMs: 5 });
  registry.hooks.transcoder = new InProcessAudioTranscoder(registry);
  const stream = await registry.create('cam', ['fake://cam']);
  return { registry, stream, driver };
}

/** `ms` of a stereo `hz` tone as Opus RTP packets (20 ms each), as Chromium sends a microphone. */
export function opusRtp(hz: number, ms: number, payloadType = 111, ssrc = 0x5eed): Buffer[] {
  const encoder = new OpusEncoder({ channels: 2 });
  const rtp = new RtpEncoder({ payloadType, ssrc, clockRate: 48000 });
  const pcm = sine(48000, hz, (48000 * ms) / 1000, 2);
  const out: Buffer[] = [];
  try {
    for (let i = 0; i + 960 * 2 <= pcm.length; i += 960 * 2) {
      out.push(...rtp.encode([encoder.encode(pcm.subarray(i, i + 960 * 2))], i / 2, true));
    }
  } finally {
    encoder.free();
  }
  return out;
}
