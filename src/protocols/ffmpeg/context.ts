/**
 * What the ffmpeg and exec sources, the transcoder and the snapshots share in one gateway.
 */
import type { StreamRegistry } from '../../core/registry.ts';
import type { Logger } from '../../log/logger.ts';
import type { RtspLoopback } from '../rtsp/server/loopback.ts';
import type { FfmpegBinary } from './binary.ts';
import type { Templates } from './templates.ts';

export interface FfmpegContext {
  binary: FfmpegBinary;
  /** Built-in templates merged with the config's. */
  templates: Templates;
  /** To tell a stream name from a file, and to read streams back. */
  registry: StreamRegistry;
  loopback: RtspLoopback;
  log: Logger;
  /** `api.allow_exec`: the API may add what otherwise the config file only may. */
  allowExec: boolean;
  /** `ffmpeg.transcode`: the default policy of every stream. */
  transcode: 'auto' | 'never';
}
