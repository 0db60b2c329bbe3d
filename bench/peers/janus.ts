/**
 * Janus (Debian's `janus`) as the peer of the WebRTC fan-out: a generated config folder with only
 * the streaming plugin and the HTTP transport, ICE-lite on the loopback interface (as mediagate;
 * through the shim in janus-loopback.c), and one RTP mountpoint fed with the bench's H.264 RTP on
 * a UDP port. Signaling goes through Janus's HTTP API (see webrtc-viewers.ts). Janus logs warnings
 * and errors only; `JANUS_DEBUG=5` (its debug_level) shows more when a session does not connect.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from '../lib/ports.ts';
import type { ProcessGroup } from '../lib/procs.ts';
import { type Server, waitHttp } from '../lib/servers.ts';

const LIB = '/usr/lib/x86_64-linux-gnu/janus';
export const JANUS_BIN = '/usr/bin/janus';
export const MOUNTPOINT_ID = 1;
const SHIM_SOURCE = new URL('./janus-loopback.c', import.meta.url).pathname;

/**
 * Builds the loopback shim (janus-loopback.c) once into the temp folder with `cc`; returns its
 * path. Throws when no C compiler is installed.
 */
export function buildLoopbackShim(): string {
  const dir = join(tmpdir(), 'mediagate-bench');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'janus-loopback-v1.so');
  if (!existsSync(out)) {
    execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', out, SHIM_SOURCE, '-ldl'], { stdio: 'pipe' });
  }
  return out;
}

export interface Janus extends Server {
  /** Base URL of the HTTP API (`.../janus`). */
  url: string;
  readyMs: number;
  /** The last lines Janus logged, for error messages. */
  output(): string;
}

/** Every plugin and transport but the two used, so start-up and memory are not theirs. */
const DISABLED_PLUGINS = [
  'audiobridge',
  'duktape',
  'echotest',
  'lua',
  'nosip',
  'recordplay',
  'sip',
  'textroom',
  'videocall',
  'videoroom',
  'voicemail',
]
  .map((p) => `libjanus_${p}.so`)
  .join(',');
const DISABLED_TRANSPORTS = ['mqtt', 'nanomsg', 'pfunix', 'rabbitmq', 'websockets']
  .map((t) => `libjanus_${t}.so`)
  .join(',');

export async function startJanus(group: ProcessGroup, rtpPort: number, fmtp: string): Promise<Janus> {
  const dir = group.tempDir('mediagate-bench-janus-');
  const httpPort = await freeTcpPort();
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${LIB}/plugins"
  transports_folder = "${LIB}/transports"
  events_folder = "${LIB}/events"
  loggers_folder = "${LIB}/loggers"
  debug_level = ${process.env.JANUS_DEBUG ?? 3}
  session_timeout = 0
  admin_secret = "${Math.random().toString(36).slice(2)}"
}
media: {
  rtp_port_range = "20000-60000"
}
nat: {
  ice_lite = true
  ice_enforce_list = "lo"
  ice_tcp = false
}
plugins: {
  disable = "${DISABLED_PLUGINS}"
}
transports: {
  disable = "${DISABLED_TRANSPORTS}"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
events: {
  broadcast = false
}
`,
  );
  writeFileSync(
    join(dir, 'janus.transport.http.jcfg'),
    `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${httpPort}
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
}
`,
  );
  writeFileSync(
    join(dir, 'janus.plugin.streaming.jcfg'),
    `general: {
}
bench: {
  type = "rtp"
  id = ${MOUNTPOINT_ID}
  description = "mediagate bench"
  media = (
    {
      type = "video"
      mid = "v"
      port = ${rtpPort}
      pt = 96
      codec = "h264"
      fmtp = "${fmtp}"
      iface = "127.0.0.1"
    }
  )
}
`,
  );
  const t0 = performance.now();
  const child = group.spawn('janus', JANUS_BIN, ['-F', dir, '-C', join(dir, 'janus.jcfg')], {
    env: { ...process.env, LD_PRELOAD: buildLoopbackShim() },
  });
  const url = `http://127.0.0.1:${httpPort}/janus`;
  try {
    await waitHttp(`${url}/info`, 20000, child);
  } catch (err) {
    await child.stop();
    group.removeDir(dir);
    throw err;
  }
  return {
    name: 'janus',
    pid: child.pid,
    url,
    readyMs: performance.now() - t0,
    output: () => child.output(),
    stop: async () => {
      await child.stop();
      group.removeDir(dir);
    },
  };
}
