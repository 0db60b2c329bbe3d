/** The RTSP client: `rtsp://` and `rtsps://` sources (pull from cameras and other servers). */
export { BACKCHANNEL_TAG, RtspBackchannel } from './backchannel.ts';
export { RtspDriver, rtspSourceFactory } from './driver.ts';
export { RtspStatusError } from './errors.ts';
export { BackchannelRefusedError } from './handshake.ts';
export { RtspSource, type RtspSourceCounters } from './source.ts';
export { parseRtspUrl, type RtspSourceOptions } from './url.ts';
