/** RTMP: the server (publish and play, `rtmp.listen`) and the `rtmp://`/`rtmps://` source client. */
export { RtmpDriver, rtmpSourceFactory } from './client/driver.ts';
export { rtmpServerModule } from './module.ts';
export { RtmpServer, type RtmpServerOptions } from './server/server.ts';
export { parseRtmpUrl, type RtmpSourceOptions, resolveTarget } from './url.ts';
