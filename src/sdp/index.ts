/**
 * SDP (RFC 8866): parse and serialize session descriptions, typed views of the attributes RTSP and
 * WebRTC read, and conversion to and from the engine's `Media` model.
 */
export * from './attributes.ts';
export { resolveControl } from './control.ts';
export { type MediasToSdpOptions, mediasToSdp, type SdpToMediasOptions, sdpToMedias } from './media.ts';
export { defaultOrigin, parseAttribute, parseSdp, SDP_MAX_SIZE } from './parse.ts';
export { attributeLine, serializeSdp } from './serialize.ts';
export type * from './types.ts';
export { viewMedia, viewMedias, viewSession } from './view.ts';
