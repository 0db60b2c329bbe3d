/**
 * The playback modes of <video-stream> (video-stream.js): WebRTC and MSE over go2rtc's WebSocket
 * API, and native HLS. Each mode is `async (session) => void`: it resolves once the stream is
 * attached to the video element and throws a PlayerError when the mode cannot play. `session` is
 * what the element gives one attempt:
 *
 *   video        the <video> element
 *   wsUrl        `ws://host/api/ws?src=NAME`
 *   hlsUrl       `http://host/api/stream.m3u8?src=NAME`
 *   cleanup(fn)  runs `fn` when the attempt ends (in reverse order)
 *   fail(err)    reports a failure after set-up; ignored once the attempt is over
 *   setBitrate(fn)  `fn()` returns the current kb/s (or a promise of it) for the overlay
 *   talk         true: WebRTC offers the microphone too (sendrecv audio), for two-way audio
 *   setTalk(s)   reports the microphone: `on`, or why it is not sent
 */

/** What go2rtc's player offers; the browser's MediaSource decides which of these it can play. */
const MSE_CODECS = [
  'avc1.640029',
  'avc1.64002A',
  'avc1.640033',
  'hvc1.1.6.L153.B0',
  'mp4a.40.2',
  'mp4a.40.5',
  'flac',
  'opus',
];
/** The server must answer a WebRTC offer this fast, or the player moves on to the next mode. */
const WEBRTC_ANSWER_MS = 3000;
/** The server must answer an MSE request this fast (its own start timeout is 10 s). */
const MSE_ANSWER_MS = 12000;
/** MSE: keep this much behind the playhead, seconds; older data is removed. */
const MSE_KEEP_SECONDS = 10;
/** MSE: more than this behind the live edge, seconds, and the player jumps forward. */
const MSE_MAX_LAG_SECONDS = 3;
/** MSE: appended data waiting for the SourceBuffer beyond this many bytes is a failure. */
const MSE_MAX_QUEUE_BYTES = 32 * 1024 * 1024;

/** A failure of a mode; `fatal` ones (unknown stream, codecs not matched) are shown as they are. */
export class PlayerError extends Error {
  constructor(message, fatal = false) {
    super(message);
    this.fatal = fatal;
  }
}

/** Resolves with the next `event` of `target`; rejects after `ms`. */
export function once(target, event, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(event, done);
      reject(new PlayerError(`${what}: timed out after ${ms / 1000} s`));
    }, ms);
    const done = (e) => {
      clearTimeout(timer);
      resolve(e);
    };
    target.addEventListener(event, done, { once: true });
  });
}

/**
 * Opens the stream's WebSocket; resolves when open. It is closed when the attempt ends. Until the
 * mode calls `live()`, `ws.onclose` belongs to the mode's set-up step.
 */
function openWs(s) {
  const ws = new WebSocket(s.wsUrl);
  ws.binaryType = 'arraybuffer';
  s.cleanup(() => {
    ws.onclose = null;
    ws.onmessage = null;
    ws.close();
  });
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new PlayerError(`cannot connect to ${s.wsUrl}`));
    ws.onclose = () => reject(new PlayerError(`connection to ${s.wsUrl} closed`));
  });
}

/** From now on a closed socket is a failure of the attempt. */
function live(s, ws) {
  ws.onclose = () => s.fail(new PlayerError('connection closed by the server'));
}

/** A timer for a set-up step, cleared when the attempt ends. */
function deadline(s, ms, reject, message) {
  const timer = setTimeout(() => reject(new PlayerError(message)), ms);
  s.cleanup(() => clearTimeout(timer));
  return timer;
}

export async function webrtc(s) {
  if (!('RTCPeerConnection' in window)) throw new PlayerError('WebRTC not supported by this browser');
  const mic = s.talk ? await microphone(s) : undefined;
  const ws = await openWs(s);
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  s.cleanup(() => pc.close());
  const media = new MediaStream();
  pc.addTransceiver('video', { direction: 'recvonly' });
  const audio = mic
    ? pc.addTransceiver(mic.getAudioTracks()[0], { direction: 'sendrecv', streams: [mic] })
    : pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.ontrack = (e) => media.addTrack(e.track);
  pc.onicecandidate = (e) => {
    if (e.candidate) ws.send(JSON.stringify({ type: 'webrtc/candidate', value: e.candidate.candidate }));
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed') s.fail(new PlayerError('WebRTC connection failed'));
  };
  await pc.setLocalDescription(await pc.createOffer());
  const early = [];
  await new Promise((resolve, reject) => {
    const timer = deadline(s, WEBRTC_ANSWER_MS, reject, `no WebRTC answer in ${WEBRTC_ANSWER_MS / 1000} s`);
    ws.onclose = () => reject(new PlayerError('connection closed before the WebRTC answer'));
    ws.onmessage = async (ev) => {
      if (typeof ev.data !== 'string') return;
      const msg = JSON.parse(ev.data);
      try {
        if (msg.type === 'webrtc/answer') {
          clearTimeout(timer);
          await pc.setRemoteDescription({ type: 'answer', sdp: msg.value });
          for (const c of early.splice(0)) await pc.addIceCandidate({ candidate: c, sdpMid: '0' });
          resolve();
        } else if (msg.type === 'webrtc/candidate') {
          if (pc.remoteDescription) await pc.addIceCandidate({ candidate: msg.value, sdpMid: '0' });
          else early.push(msg.value);
        } else if (msg.type === 'error') {
          const err = new PlayerError(msg.value, /not found|not matched/.test(msg.value));
          if (pc.remoteDescription) s.fail(err);
          else reject(err);
        }
      } catch (err) {
        reject(new PlayerError(`WebRTC: ${err.message}`));
      }
    };
    ws.send(JSON.stringify({ type: 'webrtc/offer', value: pc.localDescription.sdp }));
  });
  live(s, ws);
  s.video.srcObject = media;
  // The gateway answers `sendrecv` only when the stream has a back channel it can feed.
  if (mic) s.setTalk?.(/send/.test(audio.currentDirection ?? '') ? 'on' : 'no back channel');
  let last = { at: performance.now(), bytes: 0 };
  s.setBitrate(async () => {
    let bytes = 0;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp') bytes += r.bytesReceived ?? 0;
    });
    const now = performance.now();
    const kbps = Math.round(((bytes - last.bytes) * 8) / (now - last.at));
    last = { at: now, bytes };
    return Math.max(0, kbps);
  });
}

/** The microphone for two-way audio, or undefined (reported with `setTalk`) when it cannot be had. */
async function microphone(s) {
  if (!navigator.mediaDevices?.getUserMedia) {
    s.setTalk?.('microphone: needs https or localhost');
    return undefined;
  }
  try {
    const mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    s.cleanup(() => {
      for (const t of mic.getTracks()) t.stop();
    });
    return mic;
  } catch (err) {
    s.setTalk?.(`microphone: ${err.message}`);
    return undefined;
  }
}

export async function mse(s) {
  const MS = window.ManagedMediaSource ?? window.MediaSource;
  if (!MS) throw new PlayerError('MSE not supported by this browser');
  const v = s.video;
  const ms = new MS();
  if (MS === window.ManagedMediaSource) v.disableRemotePlayback = true;
  const url = URL.createObjectURL(ms);
  s.cleanup(() => URL.revokeObjectURL(url));
  v.src = url;
  await once(ms, 'sourceopen', 5000, 'MediaSource');
  const ws = await openWs(s);
  const codecs = MSE_CODECS.filter((c) => MS.isTypeSupported(`video/mp4; codecs="${c}"`));
  let sb;
  let over = false;
  const queue = [];
  let queued = 0;
  let bytes = 0;
  const pump = () => {
    if (!sb || sb.updating || over) return;
    if (queue.length === 0) {
      liveEdge(v, sb);
      return;
    }
    const data = queue.length === 1 ? queue[0] : concat(queue);
    queue.length = 0;
    queued = 0;
    try {
      sb.appendBuffer(data);
    } catch (err) {
      s.fail(new PlayerError(`MSE append failed: ${err.message}`));
    }
  };
  s.cleanup(() => {
    over = true;
  });
  await new Promise((resolve, reject) => {
    const timer = deadline(s, MSE_ANSWER_MS, reject, 'no MSE answer in time');
    ws.onclose = () => reject(new PlayerError('connection closed before the MSE answer'));
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') {
        bytes += ev.data.byteLength;
        queue.push(new Uint8Array(ev.data));
        queued += ev.data.byteLength;
        if (queued > MSE_MAX_QUEUE_BYTES) s.fail(new PlayerError('MSE cannot keep up'));
        else pump();
        return;
      }
      const msg = JSON.parse(ev.data);
      if (msg.type === 'mse') {
        if (!MS.isTypeSupported(msg.value)) {
          reject(new PlayerError(`this browser cannot play ${msg.value}`, true));
          return;
        }
        sb = ms.addSourceBuffer(msg.value);
        sb.mode = 'segments';
        sb.addEventListener('updateend', pump);
        clearTimeout(timer);
        resolve();
      } else if (msg.type === 'error') {
        const err = new PlayerError(msg.value, true);
        if (sb) s.fail(err);
        else reject(err);
      }
    };
    ws.send(JSON.stringify({ type: 'mse', value: codecs.join(',') }));
  });
  live(s, ws);
  let counted = 0;
  s.setBitrate(() => {
    const kbps = Math.round(((bytes - counted) * 8) / 1000);
    counted = bytes;
    return kbps;
  });
}

/** MSE: stay near the live edge and drop what is long played. */
function liveEdge(v, sb) {
  const b = sb.buffered;
  if (b.length === 0) return;
  const end = b.end(b.length - 1);
  const start = b.start(b.length - 1);
  if (v.currentTime < start || end - v.currentTime > MSE_MAX_LAG_SECONDS) {
    v.currentTime = Math.max(start, end - 0.5);
  }
  // Play a little faster while behind, so latency shrinks back without a jump.
  v.playbackRate = end - v.currentTime > 1 ? 1.1 : 1;
  const first = b.start(0);
  if (v.currentTime - first > MSE_KEEP_SECONDS * 2) sb.remove(first, v.currentTime - MSE_KEEP_SECONDS);
}

export async function hls(s) {
  if (!s.video.canPlayType('application/vnd.apple.mpegurl')) {
    throw new PlayerError('native HLS not supported by this browser');
  }
  s.video.src = s.hlsUrl;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
