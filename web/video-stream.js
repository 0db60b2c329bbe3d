/**
 * <video-stream src="demo"></video-stream>: a live player for mediagate (and go2rtc) streams.
 *
 * It tries WebRTC first (go2rtc's protocol over /api/ws), then MSE (fMP4 over the same WebSocket
 * API), then native HLS, and keeps the first mode that plays. An overlay shows the mode, the
 * picture size and the bitrate. On failure it reconnects with backoff (1 s doubling to 30 s); it
 * disconnects while the page is hidden or the element is scrolled out of view.
 *
 * Attributes:
 *   src     stream name, or a go2rtc-style URL `ws://host:1984/api/ws?src=NAME`
 *   mode    modes to try, in order, comma separated: `webrtc,mse,hls` (default); `mse` forces MSE
 *   server  base URL of the gateway (default: this page's origin)
 *   overlay `off` hides the status overlay
 *
 * Properties: `video` (the <video>), `status` ({ state, mode, width, height, kbps, error }).
 * Events: `statuschange` whenever `status` changes.
 *
 * Plain ES module, no dependencies, no build step.
 */

const ALL_MODES = ['webrtc', 'mse', 'hls'];
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
/** The server must answer a WebRTC offer this fast, or the player moves on to MSE. */
const WEBRTC_ANSWER_MS = 3000;
/** A mode must show a first frame this fast after it connected. */
const FIRST_FRAME_MS = 12000;
/** WebRTC that answered but shows nothing (ICE blocked) gives way to MSE sooner. */
const WEBRTC_FIRST_FRAME_MS = 6000;
/** currentTime not moving for this long while playing means the stream is stuck. */
const STALL_MS = 10000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
/** MSE: keep this much behind the playhead, seconds; older data is removed. */
const MSE_KEEP_SECONDS = 10;
/** MSE: more than this behind the live edge, seconds, and the player jumps forward. */
const MSE_MAX_LAG_SECONDS = 3;
/** MSE: appended data waiting for the SourceBuffer beyond this many bytes is a failure. */
const MSE_MAX_QUEUE_BYTES = 32 * 1024 * 1024;

const STYLE = `
:host { display: block; position: relative; background: #000; overflow: hidden; }
video { display: block; width: 100%; height: 100%; object-fit: contain; background: #000; }
.overlay { position: absolute; right: .4em; top: .4em; padding: .15em .5em; border-radius: .3em;
  font: 12px/1.4 system-ui, sans-serif; color: #fff; background: rgba(0, 0, 0, .55); pointer-events: none;
  max-width: calc(100% - 1.6em); white-space: pre-wrap; }
.overlay.error { background: rgba(160, 20, 20, .8); }
:host([overlay="off"]) .overlay { display: none; }
`;

/** A failure a mode reports; `fatal` ones (codecs not matched, unknown stream) are shown as they are. */
class PlayerError extends Error {
  constructor(message, fatal = false) {
    super(message);
    this.fatal = fatal;
  }
}

function once(target, event, ms, what) {
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

export class VideoStream extends HTMLElement {
  static observedAttributes = ['src', 'mode', 'server'];

  #video;
  #overlay;
  #status = { state: 'idle', mode: '', width: 0, height: 0, kbps: 0, error: '' };
  /** Incremented on every (re)start: callbacks of an older attempt see a different number and stop. */
  #generation = 0;
  /** Incremented by every start and stop: a start loop of an older attempt stops trying modes. */
  #attempt = 0;
  /** Cleanup functions of the current attempt. */
  #cleanups = [];
  #retryTimer = 0;
  #backoff = BACKOFF_MIN_MS;
  #visible = true;
  #observer;
  #ticker = 0;
  #bytes = 0;
  #lastBytes = 0;
  #lastTime = -1;
  #lastMove = 0;
  #bitrate = () => 0;
  #onVisibility = () => this.#update();

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    this.#video = document.createElement('video');
    this.#video.muted = true;
    this.#video.autoplay = true;
    this.#video.playsInline = true;
    this.#video.controls = true;
    this.#overlay = document.createElement('div');
    this.#overlay.className = 'overlay';
    root.append(style, this.#video, this.#overlay);
  }

  /** The <video> element. */
  get video() {
    return this.#video;
  }

  /** What the player is doing: `idle`, `connecting`, `playing`, `retrying`, `paused`. */
  get status() {
    return { ...this.#status };
  }

  connectedCallback() {
    document.addEventListener('visibilitychange', this.#onVisibility);
    if ('IntersectionObserver' in window) {
      this.#observer = new IntersectionObserver((entries) => {
        this.#visible = entries.some((e) => e.isIntersecting);
        this.#update();
      });
      this.#observer.observe(this);
    }
    this.#ticker = setInterval(() => this.#tick(), 1000);
    this.#video.addEventListener('error', () => {
      const e = this.#video.error;
      if (this.#status.state === 'playing' && e)
        this.#fail(this.#generation, new PlayerError(`video error: ${e.message || e.code}`));
    });
    this.#update();
  }

  disconnectedCallback() {
    document.removeEventListener('visibilitychange', this.#onVisibility);
    this.#observer?.disconnect();
    clearInterval(this.#ticker);
    this.#stop('idle');
  }

  attributeChangedCallback() {
    if (!this.isConnected) return;
    this.#stop('idle');
    this.#backoff = BACKOFF_MIN_MS;
    this.#update();
  }

  /** Starts or stops the player according to visibility. */
  #update() {
    const wanted = this.isConnected && !document.hidden && this.#visible && this.#name() !== '';
    if (wanted && (this.#status.state === 'idle' || this.#status.state === 'paused')) this.#start();
    else if (!wanted && this.#status.state !== 'idle' && this.#status.state !== 'paused')
      this.#stop('paused');
  }

  #name() {
    const src = this.getAttribute('src') ?? '';
    if (src.includes('://')) return new URL(src).searchParams.get('src') ?? '';
    return src;
  }

  #base() {
    const src = this.getAttribute('src') ?? '';
    if (src.includes('://')) return new URL(src).origin.replace(/^ws/, 'http');
    return (this.getAttribute('server') || location.origin).replace(/\/$/, '');
  }

  #modes() {
    const asked = (this.getAttribute('mode') || ALL_MODES.join(','))
      .split(',')
      .map((m) => m.trim().toLowerCase())
      .filter((m) => ALL_MODES.includes(m));
    return asked.length > 0 ? asked : ALL_MODES;
  }

  #set(patch) {
    Object.assign(this.#status, patch);
    const s = this.#status;
    let text;
    if (s.state === 'playing') {
      const size = s.width ? `${s.width}×${s.height}` : '…';
      text = `${s.mode.toUpperCase()} · ${size} · ${s.kbps ? `${s.kbps} kb/s` : '— kb/s'}`;
    } else if (s.state === 'retrying') text = `${s.error}\nretrying in ${Math.round(this.#backoff / 1000)} s`;
    else if (s.state === 'connecting') text = `connecting${s.mode ? ` (${s.mode.toUpperCase()})` : ''}…`;
    else text = s.state;
    this.#overlay.textContent = text;
    this.#overlay.classList.toggle('error', s.state === 'retrying');
    this.dispatchEvent(new CustomEvent('statuschange', { detail: this.status }));
  }

  /** Ends the current attempt (bumps the attempt number) and shows `state`. */
  #stop(state) {
    this.#attempt++;
    clearTimeout(this.#retryTimer);
    this.#teardown();
    this.#set({ state, mode: '', kbps: 0 });
  }

  /** Frees what the current mode built; callbacks of that mode see a new generation and stop. */
  #teardown() {
    this.#generation++;
    for (const fn of this.#cleanups.splice(0).reverse()) {
      try {
        fn();
      } catch {
        // cleanup of a half-built mode: nothing left to do
      }
    }
    const v = this.#video;
    v.removeAttribute('src');
    v.srcObject = null;
    v.load();
    v.playbackRate = 1;
    this.#bitrate = () => 0;
  }

  async #start() {
    this.#stop('connecting');
    const attempt = this.#attempt;
    let lastError;
    for (const mode of this.#modes()) {
      if (attempt !== this.#attempt) return;
      this.#teardown();
      const gen = this.#generation;
      this.#set({ state: 'connecting', mode, error: '' });
      try {
        await this[`_${mode}`](gen);
        if (gen !== this.#generation) return;
        await this.#firstFrame(gen, mode === 'webrtc' ? WEBRTC_FIRST_FRAME_MS : FIRST_FRAME_MS);
        if (gen !== this.#generation) return;
        this.#backoff = BACKOFF_MIN_MS;
        this.#lastMove = performance.now();
        this.#set({ state: 'playing', mode, error: '' });
        this.#video.play().catch(() => {});
        return;
      } catch (err) {
        if (gen !== this.#generation || attempt !== this.#attempt) return;
        // A fatal error (unknown stream, codecs not matched) beats "no WebRTC answer".
        if (!lastError || err.fatal || !lastError.fatal) lastError = err;
      }
    }
    this.#fail(this.#generation, lastError ?? new PlayerError('no playback mode available'));
  }

  /** Ends the attempt of generation `gen` (unless it is over already) and schedules the next one. */
  #fail(gen, err) {
    if (gen !== this.#generation) return;
    this.#stop('retrying');
    this.#set({ state: 'retrying', error: err.message });
    this.dispatchEvent(new CustomEvent('streamerror', { detail: err.message }));
    const attempt = this.#attempt;
    this.#retryTimer = setTimeout(() => {
      if (attempt === this.#attempt) this.#start();
    }, this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
  }

  /** Resolves when the video shows a frame. */
  async #firstFrame(gen, ms) {
    const v = this.#video;
    if (v.error) throw new PlayerError(`video error: ${v.error.message || v.error.code}`);
    if (v.readyState < 2) {
      const failed = once(v, 'error', ms, 'video').then(() => {
        throw new PlayerError(`video error: ${v.error?.message || v.error?.code}`);
      });
      failed.catch(() => {});
      await Promise.race([once(v, 'loadeddata', ms, 'first frame'), failed]);
    }
    if (gen === this.#generation) this.#set({ width: v.videoWidth, height: v.videoHeight });
  }

  /** Once a second: bitrate, picture size and the stall watchdog. */
  #tick() {
    if (this.#status.state !== 'playing') return;
    const v = this.#video;
    const now = performance.now();
    if (v.currentTime !== this.#lastTime || v.paused) {
      this.#lastTime = v.currentTime;
      this.#lastMove = now;
    } else if (now - this.#lastMove > STALL_MS) {
      this.#fail(this.#generation, new PlayerError(`no picture for ${STALL_MS / 1000} s`));
      return;
    }
    Promise.resolve(this.#bitrate()).then((kbps) => {
      if (this.#status.state === 'playing') this.#set({ kbps, width: v.videoWidth, height: v.videoHeight });
    });
  }

  /**
   * Opens the WebSocket API of the stream; resolves when open. `ws.onclose` is for the mode to set:
   * during set-up it rejects the step in progress, afterwards `#live()` makes it a failure.
   */
  #openWs() {
    const url = `${this.#base().replace(/^http/, 'ws')}/api/ws?src=${encodeURIComponent(this.#name())}`;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.#cleanups.push(() => {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close();
    });
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new PlayerError(`cannot connect to ${url}`));
      ws.onclose = () => reject(new PlayerError(`connection to ${url} closed`));
    });
  }

  /** From now on a closed socket is a failure of generation `gen`. */
  #live(ws, gen) {
    ws.onclose = () => this.#fail(gen, new PlayerError('connection closed by the server'));
  }

  async _webrtc(gen) {
    if (!('RTCPeerConnection' in window)) throw new PlayerError('WebRTC not supported by this browser');
    const ws = await this.#openWs();
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this.#cleanups.push(() => pc.close());
    const media = new MediaStream();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.ontrack = (e) => media.addTrack(e.track);
    pc.onicecandidate = (e) => {
      if (e.candidate) ws.send(JSON.stringify({ type: 'webrtc/candidate', value: e.candidate.candidate }));
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') this.#fail(gen, new PlayerError('WebRTC connection failed'));
    };
    await pc.setLocalDescription(await pc.createOffer());
    const early = [];
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new PlayerError(`no WebRTC answer in ${WEBRTC_ANSWER_MS / 1000} s`)),
        WEBRTC_ANSWER_MS,
      );
      this.#cleanups.push(() => clearTimeout(timer));
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
            clearTimeout(timer);
            reject(new PlayerError(msg.value, /not found|not matched/.test(msg.value)));
            if (gen === this.#generation && pc.remoteDescription) this.#fail(gen, new PlayerError(msg.value));
          }
        } catch (err) {
          reject(new PlayerError(`WebRTC: ${err.message}`));
        }
      };
      ws.send(JSON.stringify({ type: 'webrtc/offer', value: pc.localDescription.sdp }));
    });
    this.#live(ws, gen);
    this.#video.srcObject = media;
    let last = { at: performance.now(), bytes: 0 };
    this.#bitrate = async () => {
      let bytes = 0;
      (await pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp') bytes += r.bytesReceived ?? 0;
      });
      const now = performance.now();
      const kbps = Math.round(((bytes - last.bytes) * 8) / (now - last.at));
      last = { at: now, bytes };
      return Math.max(0, kbps);
    };
  }

  async _mse(gen) {
    const MS = window.ManagedMediaSource ?? window.MediaSource;
    if (!MS) throw new PlayerError('MSE not supported by this browser');
    const v = this.#video;
    const ms = new MS();
    if (window.ManagedMediaSource && MS === window.ManagedMediaSource) v.disableRemotePlayback = true;
    const url = URL.createObjectURL(ms);
    this.#cleanups.push(() => URL.revokeObjectURL(url));
    v.src = url;
    await once(ms, 'sourceopen', 5000, 'MediaSource');
    const ws = await this.#openWs();
    const codecs = MSE_CODECS.filter((c) => MS.isTypeSupported(`video/mp4; codecs="${c}"`));
    let sb;
    const queue = [];
    let queued = 0;
    this.#bytes = 0;
    const pump = () => {
      if (!sb || sb.updating || gen !== this.#generation) return;
      if (queue.length > 0) {
        const data = queue.length === 1 ? queue[0] : concat(queue);
        queue.length = 0;
        queued = 0;
        try {
          sb.appendBuffer(data);
        } catch (err) {
          this.#fail(gen, new PlayerError(`MSE append failed: ${err.message}`));
        }
        return;
      }
      this.#liveEdge(sb);
    };
    const answered = new Promise((resolve, reject) => {
      ws.onclose = () => reject(new PlayerError('connection closed before the MSE answer'));
      const timer = setTimeout(() => reject(new PlayerError('no MSE answer in time')), FIRST_FRAME_MS);
      this.#cleanups.push(() => clearTimeout(timer));
      ws.onmessage = (ev) => {
        if (typeof ev.data !== 'string') {
          this.#bytes += ev.data.byteLength;
          queue.push(new Uint8Array(ev.data));
          queued += ev.data.byteLength;
          if (queued > MSE_MAX_QUEUE_BYTES) this.#fail(gen, new PlayerError('MSE cannot keep up'));
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
          if (sb) this.#fail(gen, err);
          else reject(err);
        }
      };
    });
    ws.send(JSON.stringify({ type: 'mse', value: codecs.join(',') }));
    await answered;
    this.#live(ws, gen);
    this.#lastBytes = 0;
    this.#bitrate = () => {
      const kbps = Math.round(((this.#bytes - this.#lastBytes) * 8) / 1000);
      this.#lastBytes = this.#bytes;
      return kbps;
    };
  }

  /** MSE: stay near the live edge and drop what is long played. */
  #liveEdge(sb) {
    const v = this.#video;
    const b = sb.buffered;
    if (b.length === 0) return;
    const end = b.end(b.length - 1);
    const start = b.start(b.length - 1);
    if (v.currentTime < start || end - v.currentTime > MSE_MAX_LAG_SECONDS) {
      v.currentTime = Math.max(start, end - 0.5);
    }
    // Play a little faster while behind, so latency shrinks back without a jump.
    const lag = end - v.currentTime;
    v.playbackRate = lag > 1 ? 1.1 : 1;
    const first = b.start(0);
    if (v.currentTime - first > MSE_KEEP_SECONDS * 2) sb.remove(first, v.currentTime - MSE_KEEP_SECONDS);
  }

  async _hls() {
    const v = this.#video;
    if (!v.canPlayType('application/vnd.apple.mpegurl')) {
      throw new PlayerError('native HLS not supported by this browser');
    }
    v.src = `${this.#base()}/api/stream.m3u8?src=${encodeURIComponent(this.#name())}`;
  }
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

if (!customElements.get('video-stream')) customElements.define('video-stream', VideoStream);
