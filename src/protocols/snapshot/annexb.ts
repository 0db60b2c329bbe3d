/**
 * Video frames as the Annex B byte stream ffmpeg reads from a pipe (`-f h264` / `-f hevc`): start
 * codes instead of lengths, and a keyframe carrying its parameter sets (from the codec's SDP
 * `sprop-*` when the source sends them out of band only). Pure.
 */
import { avccToAnnexB } from '../../codecs/avcc.ts';
import { H264ParameterSets } from '../../codecs/h264/param-sets.ts';
import { H265ParameterSets } from '../../codecs/h265/param-sets.ts';
import type { Codec, Frame } from '../../core/media.ts';

/** ffmpeg's demuxer name for a raw stream of `codec`; undefined for codecs it cannot take raw. */
export function rawFormatOf(codec: Codec): 'h264' | 'hevc' | undefined {
  if (codec.name === 'H264') return 'h264';
  if (codec.name === 'H265') return 'hevc';
  return undefined;
}

/**
 * Converts frames of one track to Annex B, putting the latest parameter sets (seeded from the
 * codec's fmtp, updated in-band) in front of every keyframe that lacks them.
 */
export class AnnexBWriter {
  readonly #params: H264ParameterSets | H265ParameterSets;

  constructor(codec: Codec) {
    this.#params =
      codec.name === 'H265' ? H265ParameterSets.fromFmtp(codec.fmtp) : H264ParameterSets.fromFmtp(codec.fmtp);
  }

  /** One access unit as Annex B (a new buffer). Throws ParseError on malformed AVCC. */
  write(frame: Frame): Buffer {
    return avccToAnnexB(this.#params.ensure(frame).data);
  }
}
