/**
 * The listener modules of the gateway, in start order (shutdown runs in reverse). One line each.
 */
import { createDiagModule } from './diag/module.ts';
import type { ModuleFactory } from './module.ts';
import { createHlsModule } from './protocols/hls/module.ts';
import { createMp4Module } from './protocols/mp4/module.ts';
import { createMseModule } from './protocols/mse/module.ts';
import { rtspServerModule } from './protocols/rtsp/server/index.ts';
import { createWebRtcModule } from './protocols/webrtc/module.ts';

// diag first: it watches the others from start to shutdown (modules close in reverse order).
export const MODULES: ModuleFactory[] = [
  createDiagModule,
  rtspServerModule,
  createMseModule,
  createHlsModule,
  createMp4Module,
  createWebRtcModule,
];
