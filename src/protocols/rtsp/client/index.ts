/** The RTSP client: `rtsp://` and `rtsps://` sources (pull from cameras and other servers). */
export { RtspDriver, rtspSourceFactory } from './driver.ts';
export { RtspStatusError } from './errors.ts';
export { RtspSource, type RtspSourceCounters } from './source.ts';
export { parseRtspUrl, type RtspSourceOptions } from './url.ts';
