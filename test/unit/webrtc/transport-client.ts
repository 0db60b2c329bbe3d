/**
 * Test helpers for the WebRTC transport: a werift `RTCPeerConnection` as the client (full ICE,
 * DTLS client, SRTP, SCTP), a minimal ICE-lite answer built from a server transport, and small
 * waiting utilities. 127.0.0.1 only.
 */
import { RTCPeerConnection } from 'werift';
import { silentLogger } from '../../../src/log/logger.ts';
import {
  type DataChannel,
  WebRtcServer,
  type WebRtcServerOptions,
  type WebRtcTransport,
} from '../../../src/protocols/webrtc/transport/index.ts';
import { parseSdp, viewMedias } from '../../../src/sdp/index.ts';

export type Client = {
  pc: RTCPeerConnection;
  transport: WebRtcTransport;
  /** The client's own DataChannel (label "client"), created before the offer. */
  channel: ReturnType<RTCPeerConnection['createDataChannel']>;
  /** The payload type the client offered for VP8. */
  vp8: number;
  /** Channels the transport emitted as 'datachannel' (the client's "client" channel first). */
  serverChannels: DataChannel[];
};

/** A server on 127.0.0.1 with ephemeral ports, already listening. */
export async function startServer(opts: Partial<WebRtcServerOptions> = {}): Promise<WebRtcServer> {
  const server = new WebRtcServer({ host: '127.0.0.1', udpPort: 0, log: silentLogger(), ...opts });
  await server.listen();
  return server;
}

/**
 * Connects a werift client to a new transport of `server` over `protocol`, and waits until both
 * sides are connected and the client's DataChannel is open.
 */
export async function connectClient(
  server: WebRtcServer,
  protocol: 'udp' | 'tcp',
  timeoutMs = 8000,
): Promise<Client> {
  const pc = new RTCPeerConnection({
    bundlePolicy: 'max-bundle', // werift leaks the sockets of unbundled transports
    iceUseIpv6: false,
    iceUseTcp: protocol === 'tcp',
    iceTcpPassive: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    // biome-ignore lint/suspicious/noExplicitAny: werift's CandidatePair type is not exported
    iceFilterCandidatePair: (pair: any) => pair.localCandidate.host === '127.0.0.1',
  });
  pc.addTransceiver('video', { direction: 'sendrecv' });
  const channel = pc.createDataChannel('client');
  await pc.setLocalDescription(await pc.createOffer());
  const medias = viewMedias(parseSdp(pc.localDescription?.sdp ?? ''));
  const video = medias[0];
  const vp8 = [...video.rtpmaps].find(([, r]) => r.encoding.toUpperCase() === 'VP8')?.[0] ?? 96;
  const transport = server.createTransport({
    remoteUfrag: video.iceUfrag ?? '',
    remotePwd: video.icePwd ?? '',
    remoteFingerprints: video.fingerprints,
    transports: protocol,
  });
  const serverChannels: DataChannel[] = [];
  transport.on('datachannel', (ch) => serverChannels.push(ch));
  const connected = Promise.all([
    once(transport, 'connected', timeoutMs, 'server transport connected'),
    until(
      () => pc.connectionState === 'connected' && channel.readyState === 'open',
      timeoutMs,
      'client connected',
    ),
  ]);
  await pc.setRemoteDescription({
    type: 'answer',
    sdp: answerSdp(
      server,
      transport,
      medias.map((m) => m.mid ?? ''),
      vp8,
      protocol,
    ),
  });
  await connected;
  await until(() => serverChannels.length > 0, timeoutMs, 'server side of the client channel');
  return { pc, transport, channel, vp8, serverChannels };
}

/** An ICE-lite, DTLS-passive answer with a video and an application section, BUNDLEd. */
export function answerSdp(
  server: WebRtcServer,
  t: WebRtcTransport,
  mids: string[],
  vp8: number,
  protocol: 'udp' | 'tcp',
): string {
  const candidates = server
    .candidates(protocol)
    .map((c) => `a=candidate:${c}\r\n`)
    .join('');
  const common = (mid: string) =>
    `c=IN IP4 127.0.0.1\r\na=mid:${mid}\r\na=ice-ufrag:${t.localUfrag}\r\na=ice-pwd:${t.localPwd}\r\n` +
    `a=fingerprint:${t.localFingerprint.algorithm} ${t.localFingerprint.value}\r\na=setup:passive\r\n` +
    `${candidates}a=end-of-candidates\r\n`;
  return (
    `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\na=group:BUNDLE ${mids.join(' ')}\r\n` +
    `m=video 9 UDP/TLS/RTP/SAVPF ${vp8}\r\n${common(mids[0])}a=rtcp-mux\r\na=sendrecv\r\na=rtpmap:${vp8} VP8/90000\r\n` +
    `m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n${common(mids[1])}a=sctp-port:5000\r\na=max-message-size:262144\r\n`
  );
}

/** Closes a client and waits a little for werift to release its sockets. */
export async function closeClient(client: Client | undefined): Promise<void> {
  if (!client) return;
  await client.pc.close();
}

// biome-ignore lint/suspicious/noExplicitAny: any emitter with once(event, listener)
type Emitterish = { once(event: any, fn: (...args: any[]) => void): unknown };

/** Resolves with the arguments of the next `event`, rejects after `timeoutMs`. */
export function once<T extends unknown[] = unknown[]>(
  emitter: Emitterish,
  event: string,
  timeoutMs: number,
  what = event,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
    emitter.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    });
  });
}

/** Polls `condition` every 10 ms; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A plain RTP packet: version 2, no CSRC or extension, `payload` after the 12-byte header. */
export function rtpPacket(pt: number, seq: number, ts: number, ssrc: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(12 + payload.length);
  out[0] = 0x80;
  out[1] = pt & 0x7f;
  out.writeUInt16BE(seq & 0xffff, 2);
  out.writeUInt32BE(ts >>> 0, 4);
  out.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy(out, 12);
  return out;
}

/** An RTCP receiver report without report blocks (RFC 3550 §6.4.2). */
export function rtcpReceiverReport(ssrc: number): Buffer {
  const out = Buffer.alloc(8);
  out[0] = 0x80;
  out[1] = 201;
  out.writeUInt16BE(1, 2);
  out.writeUInt32BE(ssrc >>> 0, 4);
  return out;
}
