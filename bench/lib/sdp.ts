/** The bench viewer's SDP: a minimal WHEP offer, an answer to Janus's offer, and what it reads back. */

export interface LocalIce {
  ufrag: string;
  pwd: string;
  fingerprint: string;
  port: number;
}

export interface RemoteDescription {
  ufrag: string;
  pwd: string;
  /** The first UDP candidate on 127.0.0.1. */
  candidate: { address: string; port: number } | undefined;
  /** Payload type, mid and the rtpmap/fmtp of the first H.264 format of the video section. */
  video: { pt: number; mid: string; fmtp: string | undefined } | undefined;
}

const H264_FMTP = 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f';

function iceLines(local: LocalIce, setup: 'actpass' | 'active'): string[] {
  return [
    `a=ice-ufrag:${local.ufrag}`,
    `a=ice-pwd:${local.pwd}`,
    `a=fingerprint:sha-256 ${local.fingerprint}`,
    `a=setup:${setup}`,
    `a=candidate:1 1 udp 2130706431 127.0.0.1 ${local.port} typ host`,
    'a=end-of-candidates',
    'a=rtcp-mux',
  ];
}

/**
 * A recvonly offer for one H.264 video section (payload type 96, no RTX, no NACK, no extensions):
 * what the viewer takes and nothing it would have to answer.
 */
export function whepOffer(local: LocalIce): string {
  return `${[
    'v=0',
    `o=- ${Date.now()} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'c=IN IP4 0.0.0.0',
    'a=mid:0',
    ...iceLines(local, 'actpass'),
    'a=recvonly',
    'a=rtpmap:96 H264/90000',
    `a=fmtp:96 ${H264_FMTP}`,
  ].join('\r\n')}\r\n`;
}

/** The answer to a server's offer (Janus): its video section taken as is, recvonly, DTLS client. */
export function answerTo(remote: RemoteDescription, local: LocalIce): string {
  const v = remote.video;
  if (!v) throw new Error('the offer has no H.264 video section');
  return `${[
    'v=0',
    `o=- ${Date.now()} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    `a=group:BUNDLE ${v.mid}`,
    `m=video 9 UDP/TLS/RTP/SAVPF ${v.pt}`,
    'c=IN IP4 0.0.0.0',
    `a=mid:${v.mid}`,
    ...iceLines(local, 'active'),
    'a=recvonly',
    `a=rtpmap:${v.pt} H264/90000`,
    `a=fmtp:${v.pt} ${v.fmtp ?? H264_FMTP}`,
  ].join('\r\n')}\r\n`;
}

export function parseRemote(sdp: string): RemoteDescription {
  const out: RemoteDescription = { ufrag: '', pwd: '', candidate: undefined, video: undefined };
  let section = '';
  let mid = '';
  let pts: number[] = [];
  const h264: number[] = [];
  const fmtp = new Map<number, string>();
  const finishVideo = () => {
    if (section !== 'video' || out.video) return;
    const pt = pts.find((p) => h264.includes(p));
    if (pt !== undefined) out.video = { pt, mid, fmtp: fmtp.get(pt) };
  };
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      finishVideo();
      const parts = line.slice(2).split(' ');
      section = parts[0];
      pts = parts.slice(3).map(Number);
      h264.length = 0;
      fmtp.clear();
      mid = '';
    } else if (line.startsWith('a=ice-ufrag:')) out.ufrag ||= line.slice(12);
    else if (line.startsWith('a=ice-pwd:')) out.pwd ||= line.slice(10);
    else if (line.startsWith('a=mid:')) mid = line.slice(6);
    else if (line.startsWith('a=rtpmap:')) {
      const m = /^a=rtpmap:(\d+) H264\/90000/i.exec(line);
      if (m) h264.push(Number(m[1]));
    } else if (line.startsWith('a=fmtp:')) {
      const m = /^a=fmtp:(\d+) (.*)$/.exec(line);
      if (m) fmtp.set(Number(m[1]), m[2]);
    } else if (line.startsWith('a=candidate:') && !out.candidate) {
      // foundation component transport priority address port typ type
      const f = line.slice(12).split(' ');
      if (f[2]?.toLowerCase() === 'udp' && f[4] === '127.0.0.1')
        out.candidate = { address: f[4], port: Number(f[5]) };
    }
  }
  finishVideo();
  return out;
}
