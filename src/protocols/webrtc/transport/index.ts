/**
 * The WebRTC transport layer: one UDP and one TCP port shared by every peer (ICE-lite, RFC 6544
 * passive TCP with RFC 4571 framing), DTLS with a real close alert, SRTP, and SCTP DataChannels.
 * The signaling and media layers (`../peer/`, `../signaling/`) build on `WebRtcServer` and
 * `WebRtcTransport`.
 */
export { createCertificate, type DtlsCertificate, fingerprint, matchesFingerprint } from './certificate.ts';
export { DataChannel, type DataChannelEvents, type DataChannelState } from './datachannel.ts';
export { WebRtcServer } from './server.ts';
export { WebRtcTransport } from './transport.ts';
export type {
  CreateTransportOptions,
  SelectedPath,
  ServerCounters,
  TransportCounters,
  TransportProtocols,
  TransportState,
  WebRtcServerOptions,
  WebRtcTransportEvents,
} from './types.ts';
