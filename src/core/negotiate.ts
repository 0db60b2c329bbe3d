/**
 * Codec matching between what a consumer asks for and what a source's tracks carry. Pure.
 */
import type { MediaRequest } from './consumer.ts';
import type { Codec } from './media.ts';
import type { StreamTrack } from './track.ts';

/** True when a track of codec `have` can be delivered to a consumer that accepts `want`. */
export function codecMatches(want: Codec, have: Codec): boolean {
  if (want.name !== have.name) return false;
  if (have.name === 'OPUS') return true; // always 48000, channel count is signalled in-band
  if (want.clockRate && have.clockRate && want.clockRate !== have.clockRate) return false;
  if (want.channels && have.channels && want.channels !== have.channels) return false;
  return true;
}

/** The first track matching the request, trying the request's codecs in its order of preference. */
export function findTrack(request: MediaRequest, tracks: readonly StreamTrack[]): StreamTrack | undefined {
  const ofKind = tracks.filter((t) => t.kind === request.kind);
  if (request.codecs === 'any') return ofKind[0];
  for (const want of request.codecs) {
    const track = ofKind.find((t) => codecMatches(want, t.codec));
    if (track) return track;
  }
  return undefined;
}

/** `video:H264,H265` for a request, as in go2rtc's `codecs not matched` errors. */
export function requestToString(request: MediaRequest): string {
  return `${request.kind}:${request.codecs === 'any' ? 'any' : request.codecs.map((c) => c.name).join(',')}`;
}
