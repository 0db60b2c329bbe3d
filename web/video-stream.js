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
 *   token   a signed stream token (`GET /api/token?src=NAME`), sent as `?token=` where the
 *           gateway has access control, so a page can embed a player without a password
 *   talk    present: WebRTC also sends this browser's microphone to the stream's back channel
 *           (two-way audio with a camera that has one); setting or removing it reconnects
 *
 * Properties: `video` (the <video>), `status` ({ state, mode, width, height, kbps, error, talk }),
 * `talk` (boolean, the attribute). `status.talk` is '' (not asked), `on` (the gateway takes the
 * microphone), or why not (`no back channel`, `microphone: ...`).
 * Events: `statuschange` whenever `status` changes.
 *
 * Plain ES modules (this file and video-stream-modes.js), no dependencies, no build step.
 */

import { hls, mse, once, PlayerError, webrtc } from './video-stream-modes.js';

const ALL_MODES = ['webrtc', 'mse', 'hls'];
const MODES = { webrtc, mse, hls };
/** A mode must show a first frame this fast after it connected. */
const FIRST_FRAME_MS = 12000;
/** WebRTC that answered but shows nothing (ICE blocked) gives way to MSE sooner. */
const WEBRTC_FIRST_FRAME_MS = 6000;
/** currentTime not moving for this long while playing means the stream is stuck. */
const STALL_MS = 10000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;

const STYLE = `
:host { display: block; position: relative; background: #000; overflow: hidden; }
video { display: block; width: 100%; height: 100%; object-fit: contain; background: #000; }
.overlay { position: absolute; right: .4em; top: .4em; padding: .15em .5em; border-radius: .3em;
  font: 12px/1.4 system-ui, sans-serif; color: #fff; background: rgba(0, 0, 0, .55); pointer-events: none;
  max-width: calc(100% - 1.6em); white-space: pre-wrap; }
.overlay.error { background: rgba(160, 20, 20, .8); }
:host([overlay="off"]) .overlay { display: none; }
`;

export class VideoStream extends HTMLElement {
  static observedAttributes = ['src', 'mode', 'server', 'talk', 'token'];

  #video;
  #overlay;
  #status = { state: 'idle', mode: '', width: 0, height: 0, kbps: 0, error: '', talk: '' };
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

  /** Whether the microphone is sent (the `talk` attribute). */
  get talk() {
    return this.hasAttribute('talk');
  }

  set talk(on) {
    this.toggleAttribute('talk', Boolean(on));
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
      if (s.talk) text += s.talk === 'on' ? ' · 🎤 talking' : `\n🎤 ${s.talk}`;
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
    this.#set({ state, mode: '', kbps: 0, talk: '' });
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
        await MODES[mode](this.#session(gen));
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

  /** What a mode of attempt generation `gen` may use (see video-stream-modes.js). */
  #session(gen) {
    const token = this.getAttribute('token');
    const q = `src=${encodeURIComponent(this.#name())}${token ? `&token=${encodeURIComponent(token)}` : ''}`;
    const base = this.#base();
    return {
      video: this.#video,
      wsUrl: `${base.replace(/^http/, 'ws')}/api/ws?${q}`,
      hlsUrl: `${base}/api/stream.m3u8?${q}`,
      cleanup: (fn) => this.#cleanups.push(fn),
      talk: this.hasAttribute('talk'),
      setTalk: (state) => {
        if (gen === this.#generation) this.#set({ talk: state });
      },
      fail: (err) => this.#fail(gen, err),
      setBitrate: (fn) => {
        if (gen === this.#generation) this.#bitrate = fn;
      },
    };
  }

  /** Resolves when the video shows a frame. */
  async #firstFrame(gen, ms) {
    const v = this.#video;
    if (v.error) throw new PlayerError(`video error: ${v.error.message || v.error.code}`);
    if (v.readyState < 2) {
      const failed = once(v, 'error', ms + 1000, 'video').then(() => {
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
}

if (!customElements.get('video-stream')) customElements.define('video-stream', VideoStream);
