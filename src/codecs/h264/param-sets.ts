/**
 * H.264 parameter sets in front of every keyframe: a tracker fed in-band and from SDP, and the
 * one-shot `ensureParameterSets` helper.
 */
import { ParseError } from '../../core/errors.ts';
import type { Frame } from '../../core/media.ts';
import { joinAvcc, splitAvcc } from '../avcc.ts';
import { insertParameterSets, ParameterSetTracker } from '../param-sets.ts';
import { parseSpropParameterSets } from './fmtp.ts';
import { H264NalType, h264NalType } from './nal.ts';

const PARAMETER_SET_TYPES = [H264NalType.SPS, H264NalType.PPS];

/**
 * Returns `frame` with `sps` and `pps` in front of its slices if it is a keyframe that lacks them
 * (after a leading access unit delimiter); otherwise `frame` itself. Throws `ParseError` on
 * malformed AVCC.
 */
export function ensureParameterSets(frame: Frame, sps?: Buffer, pps?: Buffer): Frame {
  if (!frame.keyframe) return frame;
  const stored = new Map<number, Buffer>();
  if (sps) stored.set(H264NalType.SPS, sps);
  if (pps) stored.set(H264NalType.PPS, pps);
  const nals = splitAvcc(frame.data);
  const out = insertParameterSets(nals, PARAMETER_SET_TYPES, stored, h264NalType, H264NalType.AUD);
  return out === nals ? frame : { ...frame, data: joinAvcc(out) };
}

/** Remembers the latest SPS and PPS, from `sprop-parameter-sets` and in-band. */
export class H264ParameterSets extends ParameterSetTracker {
  constructor() {
    super(PARAMETER_SET_TYPES, h264NalType, H264NalType.AUD);
  }

  /** A tracker seeded from an fmtp's `sprop-parameter-sets`; a malformed value is ignored. */
  static fromFmtp(fmtp: Record<string, string> | undefined): H264ParameterSets {
    const t = new H264ParameterSets();
    const value = fmtp?.['sprop-parameter-sets'];
    if (value) {
      try {
        const { sps, pps } = parseSpropParameterSets(value);
        if (sps) t.observe(sps);
        if (pps) t.observe(pps);
      } catch (err) {
        // A bad sprop only means the parameter sets must come in-band.
        if (!(err instanceof ParseError)) throw err;
      }
    }
    return t;
  }

  get sps(): Buffer | undefined {
    return this.stored.get(H264NalType.SPS);
  }

  get pps(): Buffer | undefined {
    return this.stored.get(H264NalType.PPS);
  }
}
