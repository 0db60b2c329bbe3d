/**
 * What an HTTP response body is: first by its Content-Type, then (for a missing or generic one
 * such as `application/octet-stream`) by its first bytes. Pure.
 *
 *   FLV          video/x-flv, video/flv          'F' 'L' 'V' 0x01
 *   MPEG-TS      video/mp2t                      0x47 every 188 bytes (3 packets)
 *   MJPEG        multipart/x-mixed-replace       `--boundary` line, then part headers
 *   JPEG         image/jpeg                      FF D8 FF (one picture: polled as a snapshot)
 *   H.264        video/h264                      00 00 01 / 00 00 00 01, then a NAL header
 *   H.265        video/h265, video/hevc          (VPS, SPS, PPS, AUD, SEI with layer 0, TID 1)
 *   ADTS AAC     audio/aac, audio/aacp           0xFFF sync, layer 0, and the next frame's sync
 */

/** The formats an HTTP source can be. */
export type ContentKind = 'flv' | 'mpegts' | 'mjpeg' | 'jpeg' | 'h264' | 'h265' | 'adts';

export const CONTENT_KINDS: readonly ContentKind[] = [
  'flv',
  'mpegts',
  'mjpeg',
  'jpeg',
  'h264',
  'h265',
  'adts',
];

/** A decision: the kind, and for MJPEG the multipart boundary when known. */
export interface Detection {
  kind: ContentKind;
  boundary?: string;
}

/** Bytes of the body looked at, at most, before giving up. */
export const MAX_DETECT_BYTES = 64 * 1024;

const TS_PACKET = 188;
const TS_PACKETS_CHECKED = 3;
const TS_SYNC = 0x47;

const CONTENT_TYPES: Readonly<Record<string, ContentKind>> = {
  'video/x-flv': 'flv',
  'video/flv': 'flv',
  'video/mp2t': 'mpegts',
  'video/mpeg': 'mpegts',
  'video/mpegts': 'mpegts',
  'multipart/x-mixed-replace': 'mjpeg',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'video/h264': 'h264',
  'video/h265': 'h265',
  'video/hevc': 'h265',
  'audio/aac': 'adts',
  'audio/aacp': 'adts',
  'audio/x-aac': 'adts',
};

/** `multipart/x-mixed-replace; boundary="frame"` -> `frame` (leading `--` removed). */
export function multipartBoundary(contentType: string): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const value = (m?.[1] ?? m?.[2])?.replace(/^--/, '');
  return value || undefined;
}

/** The kind a Content-Type names, or undefined for a missing or generic one. */
export function kindFromContentType(contentType: string | undefined): Detection | undefined {
  if (!contentType) return undefined;
  const mime = contentType.split(';')[0].trim().toLowerCase();
  const kind = CONTENT_TYPES[mime];
  if (!kind) return undefined;
  return kind === 'mjpeg' ? { kind, boundary: multipartBoundary(contentType) } : { kind };
}

/** The first NAL unit's header after a leading start code, or undefined. */
function firstNal(head: Buffer): Buffer | undefined {
  let o: number;
  if (head[0] === 0 && head[1] === 0 && head[2] === 1) o = 3;
  else if (head[0] === 0 && head[1] === 0 && head[2] === 0 && head[3] === 1) o = 4;
  else return undefined;
  return head.subarray(o, o + 2);
}

/** H.265 NAL types that start a stream: VPS, SPS, PPS, AUD, prefix SEI. */
const H265_FIRST = new Set([32, 33, 34, 35, 39]);
/** H.264 NAL types that start a stream: SEI, SPS, PPS, AUD, and slices. */
const H264_FIRST = new Set([1, 5, 6, 7, 8, 9]);

function annexBKind(nal: Buffer): ContentKind | undefined {
  if (nal.length < 2 || nal[0] & 0x80) return undefined;
  // An H.265 header is two bytes: layer 0 and TemporalId + 1 = 1 make the second 0x01.
  if (H265_FIRST.has((nal[0] >> 1) & 0x3f) && nal[1] === 0x01 && !(nal[0] & 0x01)) return 'h265';
  if (H264_FIRST.has(nal[0] & 0x1f)) return 'h264';
  return undefined;
}

/** An ADTS header at `o`: sync, layer 0, a valid rate; returns the frame length or 0. */
function adtsFrameLength(buf: Buffer, o: number): number {
  if (o + 7 > buf.length || buf[o] !== 0xff || (buf[o + 1] & 0xf6) !== 0xf0) return 0;
  if (((buf[o + 2] >> 2) & 0x0f) > 12) return 0;
  const length = ((buf[o + 3] & 0x03) << 11) | (buf[o + 4] << 3) | (buf[o + 5] >> 5);
  return length >= 7 ? length : 0;
}

/** A `--boundary` line followed by part headers, as MJPEG servers without a Content-Type send. */
function multipartStart(head: Buffer): Detection | undefined {
  const text = head.toString('latin1', 0, Math.min(head.length, 512));
  const m = /^(?:\r?\n)*--([^\r\n]{1,70})\r?\n(?:[^\r\n]+\r?\n)*?content-type:\s*image\/jpe?g/i.exec(text);
  return m ? { kind: 'mjpeg', boundary: m[1].trim().replace(/^--/, '') } : undefined;
}

/**
 * The kind the first bytes show: a Detection, `'more'` when more bytes are needed to decide (and
 * the body has not `ended`), or undefined when nothing matched.
 */
export function kindFromMagic(head: Buffer, ended: boolean): Detection | 'more' | undefined {
  if (head.length < 4) return ended || (head.length > 0 && !couldStart(head)) ? undefined : 'more';
  if (head[0] === 0x46 && head[1] === 0x4c && head[2] === 0x56 && head[3] === 0x01) return { kind: 'flv' };
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { kind: 'jpeg' };
  if (head[0] === TS_SYNC) {
    const needed = TS_PACKET * (TS_PACKETS_CHECKED - 1) + 1;
    if (head.length < needed && !ended) return 'more';
    let ok = true;
    for (let o = 0; o < Math.min(head.length, needed); o += TS_PACKET) ok &&= head[o] === TS_SYNC;
    if (ok) return { kind: 'mpegts' };
  }
  const nal = firstNal(head);
  if (nal) {
    if (nal.length < 2) return ended ? undefined : 'more';
    const kind = annexBKind(nal);
    if (kind) return { kind };
  }
  const adts = adtsFrameLength(head, 0);
  if (adts > 0) {
    if (head.length < adts + 2) return ended ? { kind: 'adts' } : 'more';
    if (head[adts] === 0xff && (head[adts + 1] & 0xf6) === 0xf0) return { kind: 'adts' };
  }
  if (head[0] === 0x2d || head[0] === 0x0d || head[0] === 0x0a) {
    const multipart = multipartStart(head);
    if (multipart) return multipart;
    if (!ended && head.length < 512 && !head.includes('\r\n\r\n')) return 'more';
  }
  return undefined;
}

/** Whether a short head could still become one of the magics. */
function couldStart(head: Buffer): boolean {
  const b = head[0];
  return b === 0x46 || b === 0xff || b === TS_SYNC || b === 0 || b === 0x2d || b === 0x0d || b === 0x0a;
}

/**
 * The kind of a body: its Content-Type when specific, else its first bytes. `'more'` asks for
 * more bytes; undefined means unrecognized.
 */
export function detectContent(
  contentType: string | undefined,
  head: Buffer,
  ended: boolean,
): Detection | 'more' | undefined {
  const byType = kindFromContentType(contentType);
  if (byType) {
    // A multipart body whose header lacks the boundary: take it from the first line.
    if (byType.kind === 'mjpeg' && !byType.boundary) {
      const fromBody = kindFromMagic(head, ended);
      if (fromBody === 'more') return 'more';
      if (fromBody && fromBody.kind === 'mjpeg') return fromBody;
    }
    return byType;
  }
  return kindFromMagic(head, ended);
}
