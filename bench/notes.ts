/** The method and the reading of the figures, appended to docs/benchmarks.md. */
import type { Results } from './report.ts';

export function analysis(_r: Results): string[] {
  return [
    '## Method',
    '',
    '- **Source**: bench/lib/clip.ts makes the clip once with ffmpeg (`testsrc2` with temporal noise, libx264 2 Mbit/s) and ' +
      'packetizes it once (RFC 6184, 1200-byte payloads). bench/publisher.ts sends it in real time, looped: over RTSP ' +
      'ANNOUNCE/RECORD (TCP interleaved) to mediagate and to the ceiling, as plain RTP/UDP to gst-rtsp-server (`udpsrc`) ' +
      'and to Janus (streaming mountpoint).',
    '- **RTSP readers** (bench/rtsp-readers.ts): one Node process, N sessions (DESCRIBE, SETUP interleaved, PLAY), counting ' +
      'bytes, packets and sequence gaps. **Latency**: the publisher notes when it hands each frame to its socket, each reader ' +
      'when the last packet of that frame arrives (one CLOCK_MONOTONIC for all processes); frames are matched by their last ' +
      '6 bytes, which no server rewrites (sequence numbers and timestamps are rewritten by mediagate and gst-rtsp-server).',
    '- **WebRTC viewers** (bench/webrtc-viewers.ts): one Node process, N viewers, each a UDP socket doing WHEP (mediagate) ' +
      "or Janus's `watch`, ICE as controlling agent, DTLS through werift's `DtlsClient` (SRTP_AES128_CM_HMAC_SHA1_80 only, " +
      'for both servers), then counting SRTP packets and sequence gaps without decrypting.',
    '- **Ceiling** (bench/ceiling.ts): the same RTSP handshake answered from canned replies, and every chunk read from the ' +
      'publisher written as it is to each reader: what Node itself costs for the same fan-out.',
    '- **CPU** is user + system time of the server process (all threads) from `/proc/<pid>/stat` around each window; ' +
      '**memory per reader** is (RSS at N − RSS with the source flowing and no reader) / N. Readers are added in steps ' +
      'to one server process, so later steps include what earlier ones allocated. gst-rtsp-server builds its pipeline ' +
      'on the first DESCRIBE, so its per-reader RSS at N=1 includes the pipeline.',
    '- **Peers**: gst-rtsp-server (bench/peers/gst-rtsp-relay.py) runs `udpsrc ! rtph264depay ! rtph264pay` in one shared ' +
      'media, i.e. it rebuilds frames and packetizes them again as mediagate does. Janus (bench/peers/janus.ts) runs with ' +
      'only the streaming plugin and HTTP transport, ICE-lite and `debug_level = 3`. Janus skips loopback interfaces when it ' +
      'gathers candidates; bench/peers/janus-loopback.c (built with `cc`, loaded with LD_PRELOAD) clears the loopback ' +
      'flag so that its only candidate is 127.0.0.1 and all traffic stays on the loopback interface.',
    '- The readers, viewers and publisher share the 2 cores with the server under test: at 200 readers the readers process ' +
      'itself is busy (its CPU is in benchmarks.json as `clientCpuSeconds`), which is why the ceiling matters: it runs ' +
      'through the very same harness.',
    '',
  ];
}
