/**
 * Wires the protocol packages into the engine: source schemes for ingest. Listeners (RTSP, WebRTC)
 * are started by the gateway.
 */
import type { SchemeTable } from '../core/schemes.ts';
import { fileSourceFactory } from './file/source.ts';
import { httpSourceFactory } from './http/source/driver.ts';
import { rtmpSourceFactory } from './rtmp/client/driver.ts';
import { rtspSourceFactory } from './rtsp/client/index.ts';

export function registerSourceSchemes(schemes: SchemeTable): void {
  schemes.register('file', fileSourceFactory);
  schemes.register('rtsp', rtspSourceFactory);
  schemes.register('rtsps', rtspSourceFactory);
  schemes.register('rtmp', rtmpSourceFactory);
  schemes.register('rtmps', rtmpSourceFactory);
  schemes.register('http', httpSourceFactory);
  schemes.register('https', httpSourceFactory);
}
