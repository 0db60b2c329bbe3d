/**
 * The benchmark's source: a 720p30 H.264 clip of about 2 Mbps made once with ffmpeg (cached in
 * the temp folder), and its RTP packets (RFC 6184, payload type 96, 1200-byte payloads), built
 * with the gateway's own MP4 reader and payloader so every peer gets the very same packets.
 *
 * Temporal noise on the test pattern makes every frame's last bytes differ: the readers identify a
 * frame by the last 6 bytes of its last packet (the marker packet), whatever server repacketized
 * it, which is how added latency is matched without relying on sequence numbers or timestamps that
 * servers rewrite.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPayloader } from '../../src/codecs/index.ts';
import type { Codec } from '../../src/core/media.ts';
import { readMp4, sampleFrame } from '../../src/formats/mp4/index.ts';
import { RtpEncoder } from '../../src/rtp/encoder.ts';

export const CLIP = {
  width: 1280,
  height: 720,
  fps: 30,
  seconds: 15,
  bitrate: '2M',
  payloadType: 96,
  mtu: 1200,
} as const;

/** Bytes of the marker packet's tail used as a frame's identity (fits a JS safe integer). */
export const KEY_BYTES = 6;

/** Creates the clip if it is not cached yet and returns its path. */
export function makeClip(): string {
  const dir = join(tmpdir(), 'mediagate-bench');
  mkdirSync(dir, { recursive: true });
  const path = join(
    dir,
    `clip-${CLIP.width}x${CLIP.height}-${CLIP.fps}-${CLIP.bitrate}-${CLIP.seconds}s-v1.mp4`,
  );
  if (existsSync(path)) return path;
  const tmp = `${path}.${process.pid}.tmp.mp4`;
  // Baseline profile, no B-frames, a keyframe every second: what WebRTC viewers decode.
  execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=${CLIP.width}x${CLIP.height}:rate=${CLIP.fps},noise=alls=6:allf=t`],
      ...['-t', String(CLIP.seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline'],
      ...['-level', '3.1', '-pix_fmt', 'yuv420p', '-b:v', CLIP.bitrate, '-maxrate', CLIP.bitrate],
      ...['-bufsize', CLIP.bitrate, '-g', String(CLIP.fps), '-bf', '0', '-x264-params', 'nal-hrd=none'],
      ...['-an', '-movflags', '+faststart', tmp],
    ],
    { stdio: 'pipe', timeout: 120000 },
  );
  renameSync(tmp, path);
  return path;
}

export interface ClipFrame {
  /** Send time from the start of the clip, ms. */
  timeMs: number;
  /** Identity of the frame: its last `KEY_BYTES` bytes as a number. */
  key: number;
  keyframe: boolean;
  /** Whole RTP packets (header + payload); sequence number and timestamp are rewritten per send. */
  packets: Buffer[];
  /** RTP timestamp offset from the start of the clip, 90 kHz units. */
  rtpTime: number;
}

export interface Clip {
  path: string;
  codec: Codec;
  frames: ClipFrame[];
  durationMs: number;
  bytes: number;
  packets: number;
  /** Bits per second of RTP payload + header. */
  bitrate: number;
  /** SDP fmtp line values (`packetization-mode=1;profile-level-id=...;sprop-parameter-sets=...`). */
  fmtp: string;
}

export function frameKey(buf: Buffer, end: number): number {
  return buf.readUIntBE(end - KEY_BYTES, KEY_BYTES);
}

export function loadClip(path: string): Clip {
  const buf = readFileSync(path);
  const track = readMp4(buf).tracks.find((t) => t.kind === 'video');
  if (!track) throw new Error(`${path}: no video track`);
  const codec = { ...track.codec, payloadType: CLIP.payloadType };
  const payloader = createPayloader(codec, CLIP.mtu);
  const encoder = new RtpEncoder({
    payloadType: CLIP.payloadType,
    ssrc: 0x4d474231,
    clockRate: 90000,
    initialSequence: 0,
    initialTimestamp: 0,
  });
  const frames: ClipFrame[] = [];
  let bytes = 0;
  let packets = 0;
  for (const sample of track.samples) {
    const frame = sampleFrame(buf, track, sample);
    const rtpTime = frame.dts; // already in the 90 kHz clock
    const out: Buffer[] = [];
    for (const p of payloader.packetize({ ...frame, pts: rtpTime, dts: rtpTime })) {
      out.push(...encoder.encode([p.payload], p.timestamp, p.marker));
    }
    const last = out[out.length - 1];
    frames.push({
      timeMs: (sample.dts * 1000) / track.timescale,
      key: frameKey(last, last.length),
      keyframe: frame.keyframe,
      packets: out,
      rtpTime,
    });
    for (const p of out) bytes += p.length;
    packets += out.length;
  }
  const last = track.samples[track.samples.length - 1];
  const durationMs = ((last.dts + last.duration) * 1000) / track.timescale;
  const fmtp = Object.entries(codec.fmtp ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
  return { path, codec, frames, durationMs, bytes, packets, bitrate: (bytes * 8 * 1000) / durationMs, fmtp };
}

/** The SDP a publisher announces for the clip (one H.264 track, control `trackID=0`). */
export function clipSdp(clip: Clip, host = '127.0.0.1'): string {
  return [
    'v=0',
    `o=- 1 1 IN IP4 ${host}`,
    's=mediagate bench',
    `c=IN IP4 ${host}`,
    't=0 0',
    `m=video 0 RTP/AVP ${CLIP.payloadType}`,
    `a=rtpmap:${CLIP.payloadType} H264/90000`,
    `a=fmtp:${CLIP.payloadType} ${clip.fmtp}`,
    'a=control:trackID=0',
    '',
  ].join('\r\n');
}

/** Microseconds of CLOCK_MONOTONIC: the same clock in every process of the machine. */
export function monoUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
