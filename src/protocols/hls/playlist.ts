/**
 * HLS playlists (RFC 8216bis) for fMP4 segments: the multivariant playlist that points at one
 * session's media playlist, and the sliding-window media playlist. Pure text builders.
 */

/** A finished segment as the playlist lists it. */
export interface PlaylistSegment {
  /** Media sequence number. */
  n: number;
  /** Seconds. */
  duration: number;
  /** Version of the init segment it needs (EXT-X-MAP). */
  init: number;
}

export interface VariantInfo {
  /** Peak bits per second. */
  bandwidth: number;
  /** RFC 6381 codec strings, comma-separated. */
  codecs: string;
  width: number;
  height: number;
  /** URI of the media playlist, relative to the multivariant playlist. */
  uri: string;
}

/** RFC 8216bis 4.4.6.2: one variant stream. */
export function multivariantPlaylist(v: VariantInfo): string {
  const attrs = [`BANDWIDTH=${Math.max(1, Math.round(v.bandwidth))}`, `CODECS="${v.codecs}"`];
  if (v.width > 0 && v.height > 0) attrs.push(`RESOLUTION=${v.width}x${v.height}`);
  return `#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:${attrs.join(',')}\n${v.uri}\n`;
}

/**
 * RFC 8216bis 4.4.3 / 4.4.4: a live media playlist of `segments` (oldest first, consecutive
 * numbers). `targetDuration` is in whole seconds and must not be below any segment's rounded
 * duration. URIs are relative to the playlist: `init.mp4?id=ID&v=N`, `segment.m4s?id=ID&n=N`.
 */
export function mediaPlaylist(
  id: string,
  segments: readonly PlaylistSegment[],
  targetDuration: number,
): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${segments[0]?.n ?? 0}`,
  ];
  let map = -1;
  for (const s of segments) {
    if (s.init !== map) {
      map = s.init;
      lines.push(`#EXT-X-MAP:URI="init.mp4?id=${id}&v=${s.init}"`);
    }
    lines.push(`#EXTINF:${s.duration.toFixed(3)},`, `segment.m4s?id=${id}&n=${s.n}`);
  }
  return `${lines.join('\n')}\n`;
}
