/**
 * go2rtc's WebRTC signaling over `/api/ws?src=NAME` (play) or `?dst=NAME` (publish):
 * `{"type":"webrtc/offer","value":"<sdp>"}` in, `{"type":"webrtc/answer","value":"<sdp>"}` out,
 * `{"type":"error","value":"..."}` on failure. The answer carries every candidate (ICE-lite), so
 * `webrtc/candidate` messages from the browser are accepted and ignored. A session ends with its
 * WebSocket.
 */
import type { WsHub } from '../../../api/ws.ts';
import { BadRequestError } from '../../../core/errors.ts';
import type { PeerSessions } from '../peer/sessions.ts';

export function mountWebRtcWs(hub: WsHub, sessions: PeerSessions): void {
  hub.handle('webrtc/offer', async (conn, msg) => {
    if (typeof msg.value !== 'string' || msg.value === '') {
      throw new BadRequestError('webrtc/offer: "value" must be the SDP offer');
    }
    const aborter = new AbortController();
    conn.onClose(() => aborter.abort());
    // Aborting (the socket closing) also ends the session once it exists: see OfferRequest.signal.
    const { answer } = await sessions.answer({
      sdp: msg.value,
      src: conn.query.get('src') ?? undefined,
      dst: conn.query.get('dst') ?? undefined,
      transport: conn.query.get('transport') ?? undefined,
      remoteAddress: conn.remoteAddress,
      userAgent: conn.userAgent,
      signal: aborter.signal,
    });
    conn.send({ type: 'webrtc/answer', value: answer });
  });
  // ICE-lite: the gateway never checks the browser's candidates, it answers the checks they send.
  hub.handle('webrtc/candidate', () => {});
}
