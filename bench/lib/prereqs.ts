/**
 * What the bench needs from the machine, found (never installed) with the Debian packages to
 * install when something is missing, and the versions that go in the report.
 */
import { existsSync } from 'node:fs';
import { commandOutput } from './procs.ts';
import { GST_PYTHON } from './servers.ts';

export interface Prereq {
  name: string;
  ok: boolean;
  version?: string;
  /** Debian packages that provide it. */
  packages: string[];
  /** What is skipped without it. */
  needed: string;
}

const GST_CHECK = `
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
for e in ("udpsrc", "rtph264depay", "rtph264pay"):
    assert Gst.ElementFactory.find(e), e
print(Gst.version_string())
`;

export function findPrereqs(): Prereq[] {
  const ffmpeg = commandOutput('ffmpeg', ['-hide_banner', '-version']);
  const gst = existsSync(GST_PYTHON) ? commandOutput(GST_PYTHON, ['-c', GST_CHECK]) : undefined;
  const janus = existsSync('/usr/bin/janus') ? commandOutput('/usr/bin/janus', ['--version']) : undefined;
  const janusPlugins =
    existsSync('/usr/lib/x86_64-linux-gnu/janus/plugins/libjanus_streaming.so') &&
    existsSync('/usr/lib/x86_64-linux-gnu/janus/transports/libjanus_http.so');
  const cc = commandOutput('cc', ['--version']);
  return [
    {
      name: 'ffmpeg',
      ok: ffmpeg !== undefined,
      version: ffmpeg?.replace(/^ffmpeg version (\S+).*/, '$1'),
      packages: ['ffmpeg'],
      needed: 'the source clip (every scenario)',
    },
    {
      name: 'GStreamer + gst-rtsp-server',
      ok: gst !== undefined,
      version: gst,
      packages: [
        'python3-gi',
        'gir1.2-gst-rtsp-server-1.0',
        'gstreamer1.0-plugins-base',
        'gstreamer1.0-plugins-good',
      ],
      needed: 'the gst-rtsp-server peer of the RTSP fan-out',
    },
    {
      name: 'Janus',
      ok: janus !== undefined && janusPlugins && cc !== undefined,
      version: janus?.replace(/^Janus version: \d+ \(([^)]+)\).*/, '$1'),
      packages: ['janus', 'gcc', 'libc6-dev'],
      needed: 'the Janus peer of the WebRTC fan-out (gcc builds its loopback shim)',
    },
  ];
}

/** The apt-get line for what is missing, or undefined when nothing is. */
export function installHint(prereqs: Prereq[]): string | undefined {
  const missing = prereqs.filter((p) => !p.ok).flatMap((p) => p.packages);
  return missing.length ? `apt-get install -y ${[...new Set(missing)].join(' ')}` : undefined;
}
