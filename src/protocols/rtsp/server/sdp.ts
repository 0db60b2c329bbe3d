/**
 * The SDP a reader gets in answer to DESCRIBE (RFC 2326 §C): one section per negotiated track, with
 * `a=control:trackID=N` relative to the Content-Base and the payload type of the track's shared
 * RTP sender, so that every reader sees the same numbering.
 */
import type { Codec, Media } from '../../../core/media.ts';
import type { StreamTrack } from '../../../core/track.ts';
import { mediasToSdp } from '../../../sdp/index.ts';
import type { RtpTrackSender } from '../../rtp/track-sender.ts';

/** The control of track `index` (appended to the Content-Base by clients). */
export function trackControl(index: number): string {
  return `trackID=${index}`;
}

/** The codec as announced: the sender's payload type, and H.264 packetization mode 1 (FU-A, STAP-A). */
function announcedCodec(codec: Codec, payloadType: number): Codec {
  const out: Codec = { ...codec, payloadType };
  if (codec.name === 'H264' && codec.fmtp?.['packetization-mode'] === undefined) {
    out.fmtp = { ...codec.fmtp, 'packetization-mode': '1' };
  }
  return out;
}

/**
 * The SDP for `tracks` sent by `senders` (same order). `address` is the server's address on the
 * reader's connection (the `o=` line), `sessionId` a decimal string. `extra` medias (a back
 * channel, see backchannel.ts) follow the tracks.
 */
export function readerSdp(
  tracks: readonly StreamTrack[],
  senders: readonly RtpTrackSender[],
  address: string,
  sessionId: string,
  extra: readonly Media[] = [],
): string {
  const medias: Media[] = tracks.map((track, i) => ({
    kind: track.kind,
    // The gateway sends: no direction attribute in the RTSP convention of mediasToSdp.
    direction: 'sendonly',
    codecs: [announcedCodec(track.codec, senders[i].payloadType)],
    id: trackControl(i),
  }));
  return mediasToSdp([...medias, ...extra], { address, sessionId, sessionName: 'mediagate' });
}
