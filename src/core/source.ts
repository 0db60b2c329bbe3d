/**
 * The contract between the engine and the protocol packages for ingest. A protocol registers a
 * SourceFactory for its URL scheme; the engine's SourceRunner (runner.ts) decides when to connect,
 * when to stop and how to reconnect.
 */
import type { SafeEmitter } from './emitter.ts';
import type { Codec, Frame, Media } from './media.ts';

/** Frames from a connection, by index into its `medias`. */
export type FrameSink = (mediaIndex: number, frame: Frame) => void;

/**
 * Audio the gateway sends back to a source: an ONVIF back channel of an RTSP camera (the
 * `a=sendonly` section the camera offers when asked with `Require: www.onvif.org/ver20/backchannel`).
 * Writers never talk to it directly: `src/protocols/backchannel/` transcodes to `codec` and
 * decides who may talk (one producer at a time).
 */
export interface Backchannel {
  /** What the source takes: one codec with its clock rate, channels and payload type. */
  readonly codec: Codec;
  /**
   * Sends one frame in `codec`, timestamps in its clock units. Never throws: a frame that cannot
   * go out (connection gone, socket backlog over its limit) is dropped and counted.
   */
  send(frame: Frame): void;
}

/** One live connection to a source (or one publisher's session). */
export interface SourceConnection extends SafeEmitter<{ close: [error: Error | undefined] }> {
  /** The media it delivers, each with exactly one codec. Fixed for the connection's life. */
  readonly medias: readonly Media[];
  /** Address of the peer, for the API. */
  readonly remoteAddress?: string;
  /** Asks the source for a keyframe (RTCP PLI/FIR or a restart); optional. */
  requestKeyframe?(): void;
  /** The source's audio back channel, when it has one; fixed for the connection's life. */
  readonly backchannel?: Backchannel;
  /** Idempotent; emits `close` once. */
  close(): void;
}

/** Knows how to reach one source URL; connect() may be called many times (reconnects). */
export interface SourceDriver {
  /**
   * Connects and resolves once the medias are known. Rejects on failure or when `signal` aborts;
   * a connection that fails later emits `close` with the error. Frames given to `sink` before the
   * promise has resolved are dropped (the runner maps medias to tracks only then), so delivery
   * starts on a later turn of the event loop.
   */
  connect(sink: FrameSink, signal: AbortSignal): Promise<SourceConnection>;
}

export interface SourceContext {
  /** Name of the stream the source belongs to (a source may refer to other streams). */
  streamName: string;
  /** True when the URL came from the config file rather than the API. */
  fromConfig: boolean;
}

/** Parses a source URL of its scheme; throws BadRequestError for a malformed one. */
export type SourceFactory = (url: string, ctx: SourceContext) => SourceDriver;
