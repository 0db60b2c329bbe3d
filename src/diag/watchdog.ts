/**
 * Watchdog: runs the rules on each sample, remembers when each rule last fired (for /api/health)
 * and asks for an incident at most once per rule per cooldown. Timing only: no timers of its own
 * (the diag module's sampling timer drives it), no I/O.
 */
import { type Breach, type RuleName, Rules, type Sample, type Thresholds } from './rules.ts';

export interface WatchdogOptions {
  thresholds: Thresholds;
  /** How long a rule keeps /api/health degraded after it last fired, ms. */
  healthHoldMs: number;
  /** At most one incident per rule per this long, ms. */
  cooldownMs: number;
  /** Called for a breach that deserves an incident (the cooldown has passed). Must not throw. */
  onIncident: (breach: Breach) => void;
}

export type Health = { status: 'ok' } | { status: 'degraded'; reasons: string[] };

export class Watchdog {
  readonly #rules: Rules;
  readonly #last = new Map<RuleName, { at: number; breach: Breach }>();
  readonly #lastIncident = new Map<RuleName, number>();

  constructor(private readonly opts: WatchdogOptions) {
    this.#rules = new Rules(opts.thresholds);
  }

  /** Evaluates the rules on a sample; returns the breaches (also those within their cooldown). */
  evaluate(sample: Sample): Breach[] {
    const breaches = this.#rules.evaluate(sample);
    for (const breach of breaches) {
      this.#last.set(breach.rule, { at: sample.at, breach });
      const prev = this.#lastIncident.get(breach.rule);
      if (prev === undefined || sample.at - prev >= this.opts.cooldownMs) {
        this.#lastIncident.set(breach.rule, sample.at);
        this.opts.onIncident(breach);
      }
    }
    return breaches;
  }

  /** Degraded while a rule is breached or fired within the hold time before `now` (ms, monotonic). */
  health(now: number): Health {
    const reasons: string[] = [];
    for (const [rule, { at, breach }] of this.#last) {
      if (now - at <= this.opts.healthHoldMs) reasons.push(`${rule}: ${breach.message}`);
      else this.#last.delete(rule);
    }
    return reasons.length === 0 ? { status: 'ok' } : { status: 'degraded', reasons };
  }
}
