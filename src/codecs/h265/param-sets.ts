/**
 * H.265 parameter sets in front of every keyframe: a tracker fed in-band and from SDP, and the
 * one-shot `ensureH265ParameterSets` helper.
 */
import { ParseError } from '../../core/errors.ts';
import type { Frame } from '../../core/media.ts';
import { joinAvcc, splitAvcc } from '../avcc.ts';
import { insertParameterSets, ParameterSetTracker } from '../param-sets.ts';
import { parseH265Sprop } from './fmtp.ts';
import { H265NalType, h265NalType } from './nal.ts';

const PARAMETER_SET_TYPES = [H265NalType.VPS, H265NalType.SPS, H265NalType.PPS];

/**
 * Returns `frame` with VPS, SPS and PPS in front of its slices if it is a keyframe (IRAP) that
 * lacks them (after a leading access unit delimiter); otherwise `frame` itself. Throws
 * `ParseError` on malformed AVCC.
 */
export function ensureH265ParameterSets(frame: Frame, vps?: Buffer, sps?: Buffer, pps?: Buffer): Frame {
  if (!frame.keyframe) return frame;
  const stored = new Map<number, Buffer>();
  if (vps) stored.set(H265NalType.VPS, vps);
  if (sps) stored.set(H265NalType.SPS, sps);
  if (pps) stored.set(H265NalType.PPS, pps);
  const nals = splitAvcc(frame.data);
  const out = insertParameterSets(nals, PARAMETER_SET_TYPES, stored, h265NalType, H265NalType.AUD);
  return out === nals ? frame : { ...frame, data: joinAvcc(out) };
}

/** Remembers the latest VPS, SPS and PPS, from `sprop-vps/sps/pps` and in-band. */
export class H265ParameterSets extends ParameterSetTracker {
  constructor() {
    super(PARAMETER_SET_TYPES, h265NalType, H265NalType.AUD);
  }

  /** A tracker seeded from an fmtp's `sprop-vps/sps/pps`; malformed values are ignored. */
  static fromFmtp(fmtp: Record<string, string> | undefined): H265ParameterSets {
    const t = new H265ParameterSets();
    if (!fmtp) return t;
    try {
      const { vps, sps, pps } = parseH265Sprop(fmtp);
      for (const nal of [vps, sps, pps]) if (nal) t.observe(nal);
    } catch (err) {
      // A bad sprop only means the parameter sets must come in-band.
      if (!(err instanceof ParseError)) throw err;
    }
    return t;
  }

  get vps(): Buffer | undefined {
    return this.stored.get(H265NalType.VPS);
  }

  get sps(): Buffer | undefined {
    return this.stored.get(H265NalType.SPS);
  }

  get pps(): Buffer | undefined {
    return this.stored.get(H265NalType.PPS);
  }
}
