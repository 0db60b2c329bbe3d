/**
 * Runs fuzz targets: each case is a corpus item mutated by the engine (or, now and then, random
 * bytes), fed to the target; the outcome is accepted, rejected (the target's allowed error) or a
 * crash (anything else, or a case slower than `slowMs`). The case's own generator is seeded from
 * a hash of the input, so a saved crash input replays alone (`replay()`).
 */
import { mutate, Rng } from './engine.ts';
import type { FuzzTarget } from './targets.ts';

export interface Crash {
  target: string;
  /** `error`: something other than the allowed error escaped; `slow`: the case took over `slowMs`. */
  kind: 'error' | 'slow';
  /** `Name: message` of the error, or the time taken. */
  error: string;
  stack?: string;
  input: Buffer;
  /** The run's seed and the case number in it. */
  seed: number;
  caseIndex: number;
}

export interface TargetStats {
  target: string;
  calls: string;
  allowed: string;
  corpus: number;
  cases: number;
  accepted: number;
  rejected: number;
  crashes: Crash[];
  ms: number;
  casesPerSecond: number;
  slowestMs: number;
}

export interface RunOptions {
  seed: number;
  /** Stop after this many cases... */
  cases?: number;
  /** ...or after this long, ms (whichever comes first). */
  budgetMs?: number;
  /** A single case slower than this is reported as a crash (a hang or a quadratic path). Default 1000 ms. */
  slowMs?: number;
  /** Stop collecting crashes after this many distinct ones. Default 20. */
  maxCrashes?: number;
}

type Outcome = { outcome: 'accepted' | 'rejected' } | { outcome: 'crash'; error: unknown };

const DEFAULT_MAX_LENGTH = 64 * 1024;
const corpora = new WeakMap<FuzzTarget, Buffer[]>();

/** The target's corpus, built once. */
export function corpusOf(target: FuzzTarget): Buffer[] {
  let c = corpora.get(target);
  if (!c) {
    c = target.corpus();
    corpora.set(target, c);
  }
  return c;
}

/** FNV-1a of the input: the seed of the case's own generator (chunking and other choices). */
export function inputSeed(input: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) h = Math.imul(h ^ input[i], 0x01000193);
  return (h ^ input.length) >>> 0;
}

/** Runs one input through the target. */
export function runCase(target: FuzzTarget, input: Buffer): Outcome {
  try {
    return { outcome: target.run(input, new Rng(inputSeed(input))) ? 'accepted' : 'rejected' };
  } catch (error) {
    if (error instanceof target.allowed) return { outcome: 'rejected' };
    return { outcome: 'crash', error };
  }
}

/** Runs a saved input again and returns the error it throws, if any. */
export function replay(target: FuzzTarget, input: Buffer): unknown {
  const r = runCase(target, input);
  return r.outcome === 'crash' ? r.error : undefined;
}

function describe(err: unknown): { error: string; stack?: string } {
  if (err instanceof Error) return { error: `${err.name}: ${err.message.split('\n')[0]}`, stack: err.stack };
  return { error: String(err) };
}

/** Fuzzes one target for a number of cases or a time budget. */
export function runTarget(target: FuzzTarget, opts: RunOptions): TargetStats {
  const corpus = corpusOf(target);
  const maxLength = target.maxLength ?? DEFAULT_MAX_LENGTH;
  const slowMs = opts.slowMs ?? 1000;
  const maxCrashes = opts.maxCrashes ?? 20;
  const cases = opts.cases ?? Number.POSITIVE_INFINITY;
  const budget = opts.budgetMs ?? Number.POSITIVE_INFINITY;
  const rng = new Rng(opts.seed);
  const stats: TargetStats = {
    target: target.name,
    calls: target.calls,
    allowed: target.allowed.name,
    corpus: corpus.length,
    cases: 0,
    accepted: 0,
    rejected: 0,
    crashes: [],
    ms: 0,
    casesPerSecond: 0,
    slowestMs: 0,
  };
  const seen = new Set<string>();
  const started = performance.now();
  for (let i = 0; i < cases; i++) {
    if (i % 16 === 0 && performance.now() - started >= budget) break;
    const base = corpus[i < corpus.length ? i : rng.int(corpus.length)];
    let input: Buffer;
    if (i < corpus.length)
      input = Buffer.from(base); // every seed once, unmutated
    else if (rng.chance(0.03)) input = rng.bytes(rng.int(Math.min(maxLength, 512)));
    else input = mutate(base, rng, { corpus, text: target.text, maxLength });
    const t0 = performance.now();
    const r = runCase(target, input);
    const took = performance.now() - t0;
    stats.cases++;
    if (took > stats.slowestMs) stats.slowestMs = took;
    if (r.outcome === 'accepted') stats.accepted++;
    else if (r.outcome === 'rejected') stats.rejected++;
    const crash: { kind: Crash['kind']; error: string; stack?: string } | undefined =
      r.outcome === 'crash'
        ? { kind: 'error', ...describe(r.error) }
        : took > slowMs
          ? { kind: 'slow', error: `case took ${Math.round(took)} ms (limit ${slowMs})` }
          : undefined;
    if (crash) {
      const key = `${crash.kind}:${crash.error.replace(/\d+/g, 'N')}:${crash.stack?.split('\n')[1] ?? ''}`;
      if (!seen.has(key) && stats.crashes.length < maxCrashes) {
        seen.add(key);
        stats.crashes.push({ target: target.name, ...crash, input, seed: opts.seed, caseIndex: i });
      }
    }
  }
  stats.ms = performance.now() - started;
  stats.casesPerSecond = stats.ms > 0 ? Math.round((stats.cases / stats.ms) * 1000) : 0;
  return stats;
}
