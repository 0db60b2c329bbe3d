/**
 * Parameter-set handling shared by H.264 (SPS, PPS) and H.265 (VPS, SPS, PPS): remembering the
 * latest ones seen and putting them in front of keyframes that lack them, so that a consumer that
 * joins at any keyframe (or a decoder after loss) can start decoding.
 */
import { ParseError } from '../core/errors.ts';
import type { Frame } from '../core/media.ts';
import { joinAvcc, splitAvcc } from './avcc.ts';

/** A function that returns the NAL unit type of a NAL unit (first header byte(s)). */
export type NalTypeOf = (nal: Uint8Array) => number;

/**
 * Returns `nals` with every type in `types` present: a type missing from `nals` is filled from
 * `stored` (when it has one). The parameter sets are put in the order of `types` after any leading
 * `audType` NAL units (an access unit delimiter must stay first). Returns `nals` itself when
 * nothing is missing.
 */
export function insertParameterSets(
  nals: readonly Buffer[],
  types: readonly number[],
  stored: ReadonlyMap<number, Buffer>,
  typeOf: NalTypeOf,
  audType: number,
): readonly Buffer[] {
  const present = new Set(nals.map(typeOf));
  if (types.every((t) => present.has(t) || !stored.has(t))) return nals;
  const params: Buffer[] = [];
  for (const t of types) {
    const inFrame = nals.filter((n) => typeOf(n) === t);
    if (inFrame.length > 0) params.push(...inFrame);
    else {
      const s = stored.get(t);
      if (s) params.push(s);
    }
  }
  const rest = nals.filter((n) => !types.includes(typeOf(n)));
  let at = 0;
  while (at < rest.length && typeOf(rest[at]) === audType) at++;
  return [...rest.slice(0, at), ...params, ...rest.slice(at)];
}

/**
 * Remembers the latest parameter set of each tracked NAL type, seen in-band or given out of band
 * (SDP `sprop-*`). Stored NAL units are copies, never views of packets.
 */
export class ParameterSetTracker {
  /** Latest parameter set per NAL type. */
  readonly stored = new Map<number, Buffer>();
  /** Tracked NAL types, in the order they go in front of a keyframe. */
  readonly types: readonly number[];
  private readonly typeOf: NalTypeOf;
  private readonly audType: number;

  constructor(types: readonly number[], typeOf: NalTypeOf, audType: number) {
    this.types = types;
    this.typeOf = typeOf;
    this.audType = audType;
  }

  /** Stores `nal` if it is a tracked parameter set that differs from the stored one. */
  observe(nal: Uint8Array): void {
    const t = this.typeOf(nal);
    if (!this.types.includes(t)) return;
    const old = this.stored.get(t);
    if (old?.equals(nal)) return;
    this.stored.set(t, Buffer.from(nal));
  }

  /** `observe` for each NAL unit. */
  observeAll(nals: Iterable<Uint8Array>): void {
    for (const n of nals) this.observe(n);
  }

  /** For a keyframe: `nals` with missing parameter sets filled in; other frames unchanged. */
  complete(nals: readonly Buffer[], keyframe: boolean): readonly Buffer[] {
    return keyframe ? insertParameterSets(nals, this.types, this.stored, this.typeOf, this.audType) : nals;
  }

  /**
   * Observes the parameter sets in an AVCC frame and, for a keyframe, returns it with the missing
   * ones prepended (a new Frame); returns `frame` itself when nothing changed.
   * Throws `ParseError` on malformed AVCC.
   */
  ensure(frame: Frame): Frame {
    const nals = splitAvcc(frame.data);
    this.observeAll(nals);
    const out = this.complete(nals, frame.keyframe);
    return out === nals ? frame : { ...frame, data: joinAvcc(out) };
  }
}

/**
 * Decodes a comma-separated list of base64 NAL units (`sprop-parameter-sets`, and H.265
 * `sprop-vps/sps/pps`). Empty entries are skipped. Throws `ParseError` on an entry that is not base64.
 */
export function parseSpropNals(value: string): Buffer[] {
  const out: Buffer[] = [];
  for (const part of value.split(',')) {
    const s = part.trim();
    if (s === '') continue;
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s))
      throw new ParseError('sprop', `not base64: ${JSON.stringify(s.slice(0, 32))}`);
    const nal = Buffer.from(s, 'base64');
    if (nal.length > 0) out.push(nal);
  }
  return out;
}
