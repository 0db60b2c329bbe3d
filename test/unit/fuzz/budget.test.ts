/**
 * The fixed fuzz budget of `npm test`: every target of test/fuzz/targets.ts gets the same number
 * of cases from a fixed seed (the long, random-seed run is `npm run fuzz`). Every unmutated corpus
 * item must be accepted, nothing but the target's allowed error may escape, no case may be slow,
 * and both outcomes must be common enough to show that the mutations get past the first check.
 * With MEDIAGATE_RECORD=1 the counts go to docs/reliability.json (section `fuzz`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { corpusOf, runCase, runTarget, type TargetStats } from '../../fuzz/runner.ts';
import { TARGETS } from '../../fuzz/targets.ts';
import { recordIfAsked } from '../../reliability/record.ts';

const SEED = 0x6d656761; // 'mega'
const CASES = 2000;
/** Cases slower than this fail (a hang, or a quadratic path); generous for a busy 2-core CI box. */
const SLOW_MS = 1500;
/** The least share of cases that must be accepted, and of those that must be rejected. */
const MIN_SHARE = 0.02;

const results: TargetStats[] = [];

describe('fuzz budget', { timeout: 120_000 }, () => {
  for (const target of TARGETS) {
    test(`${target.name}: ${target.calls} throws only ${target.allowed.name} on ${CASES} mutated inputs`, () => {
      const corpus = corpusOf(target);
      assert.ok(corpus.length > 0, 'the corpus is not empty');
      for (const [i, item] of corpus.entries()) {
        assert.equal(runCase(target, item).outcome, 'accepted', `corpus item ${i} is accepted`);
      }
      const s = runTarget(target, { seed: SEED, cases: CASES, slowMs: SLOW_MS });
      results.push(s);
      const crash = s.crashes[0];
      assert.equal(
        s.crashes.length,
        0,
        crash &&
          `${crash.kind}: ${crash.error}\n${crash.stack ?? ''}\ninput: ${crash.input.toString('hex').slice(0, 400)}\n` +
            `replay: npm run fuzz -- --target ${target.name} --seed ${SEED} --cases ${crash.caseIndex + 1}`,
      );
      assert.equal(s.cases, CASES);
      assert.ok(s.accepted >= CASES * MIN_SHARE, `only ${s.accepted} of ${CASES} accepted`);
      assert.ok(s.rejected >= CASES * MIN_SHARE, `only ${s.rejected} of ${CASES} rejected`);
    });
  }

  test('the figures are recorded when MEDIAGATE_RECORD=1', () => {
    assert.equal(results.length, TARGETS.length, 'every target ran');
    recordIfAsked('fuzz', {
      seed: SEED,
      casesPerTarget: CASES,
      at: new Date().toISOString(),
      node: process.version,
      targets: results.map(({ crashes, ...r }) => ({
        ...r,
        ms: Math.round(r.ms),
        slowestMs: Math.round(r.slowestMs * 10) / 10,
        crashes: crashes.length,
      })),
    });
  });
});
