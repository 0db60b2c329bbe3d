/**
 * The listener modules of the gateway, in start order (shutdown runs in reverse). One line each.
 */
import { createDiagModule } from './diag/module.ts';
import type { ModuleFactory } from './module.ts';
import { createAudioModule } from './protocols/backchannel/module.ts';
import { createFfmpegModule } from './protocols/ffmpeg/module.ts';
import { createHlsModule } from './protocols/hls/module.ts';
import { createHttpMediaModule } from './protocols/http/module.ts';
import { createMp4Module } from './protocols/mp4/module.ts';
import { createMseModule } from './protocols/mse/module.ts';
import { createRecordModule } from './protocols/record/module.ts';
import { rtmpServerModule } from './protocols/rtmp/module.ts';
import { rtspServerModule } from './protocols/rtsp/server/index.ts';
import { createSnapshotModule } from './protocols/snapshot/module.ts';
import { createWebRtcModule } from './protocols/webrtc/module.ts';

// diag first: it watches the others from start to shutdown (modules close in reverse order).
export const MODULES: ModuleFactory[] = [
  createDiagModule,
  rtspServerModule,
  rtmpServerModule,
  createMseModule,
  createHlsModule,
  createMp4Module,
  createHttpMediaModule,
  createWebRtcModule,
  createFfmpegModule,
  createAudioModule, // after ffmpeg: its in-process audio transcoder falls back to ffmpeg's
  createSnapshotModule,
  createRecordModule,
];
