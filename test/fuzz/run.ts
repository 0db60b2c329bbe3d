/**
 * `npm run fuzz [-- options]`: fuzzes every target of targets.ts for a time budget and prints
 * per-target figures. A crash is saved to test/fuzz/crashes/ (gitignored) with the command that
 * replays it; the exit code is 1 if anything crashed.
 *
 *   --seconds N     total budget, split evenly over the targets (default 60)
 *   --target NAME   only this target (repeat or comma-separate for several)
 *   --seed S        the run's seed (default: random, printed); the same seed gives the same cases
 *   --cases N       at most N cases per target
 *   --slow-ms N     a case slower than this is a crash (default 1000)
 *   --replay FILE   run one saved input through --target and print what it throws
 *   --record        write the figures to docs/reliability.json (section fuzzLong) and render docs/reliability.md
 *   --list          print the targets and exit
 */

import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { record } from '../reliability/record.ts';
import { replay, runTarget, type TargetStats } from './runner.ts';
import { TARGETS } from './targets.ts';

const CRASH_DIR = new URL('./crashes/', import.meta.url);

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    cases: { type: 'string' },
    'slow-ms': { type: 'string', default: '1000' },
    replay: { type: 'string' },
    record: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`fuzz: ${message}\n`);
  process.exit(2);
}

const wanted = (values.target ?? []).flatMap((t) => t.split(',')).filter(Boolean);
const targets =
  wanted.length === 0
    ? TARGETS
    : wanted.map((n) => TARGETS.find((t) => t.name === n) ?? fail(`no target "${n}"; --list shows them`));

if (values.list) {
  for (const t of TARGETS)
    process.stdout.write(`${t.name.padEnd(14)} ${t.calls} (allowed: ${t.allowed.name})\n`);
  process.exit(0);
}

if (values.replay) {
  if (targets.length !== 1) fail('--replay needs exactly one --target');
  const err = replay(targets[0], readFileSync(values.replay));
  if (err === undefined) {
    process.stdout.write(`${targets[0].name}: ${values.replay} no longer crashes\n`);
    process.exit(0);
  }
  process.stdout.write(`${targets[0].name}: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
}

const seconds = Number(values.seconds);
if (!(seconds > 0)) fail(`--seconds must be positive, got "${values.seconds}"`);
const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : randomInt(2 ** 31);
const cases = values.cases !== undefined ? Number(values.cases) : undefined;
const slowMs = Number(values['slow-ms']);
const perTargetMs = (seconds * 1000) / targets.length;

process.stdout.write(`fuzz: seed ${seed}, ${targets.length} targets, ${Math.round(perTargetMs)} ms each\n`);
process.stdout.write(
  `${'target'.padEnd(14)} ${'cases'.padStart(9)} ${'cases/s'.padStart(8)} ${'accepted'.padStart(9)} ${'slowest'.padStart(8)}  crashes\n`,
);

const results: TargetStats[] = [];
let crashed = 0;
for (const [i, target] of targets.entries()) {
  // Each target gets its own seed derived from the run's, so --target X --seed S repeats X's cases.
  const s = runTarget(target, { seed: (seed + i * 0x9e3779b9) >>> 0, budgetMs: perTargetMs, cases, slowMs });
  results.push(s);
  const share = s.cases > 0 ? `${Math.round((s.accepted / s.cases) * 100)}%` : '-';
  process.stdout.write(
    `${s.target.padEnd(14)} ${String(s.cases).padStart(9)} ${String(s.casesPerSecond).padStart(8)} ${share.padStart(9)} ${`${s.slowestMs.toFixed(1)}ms`.padStart(8)}  ${s.crashes.length}\n`,
  );
  for (const c of s.crashes) {
    crashed++;
    mkdirSync(CRASH_DIR, { recursive: true });
    const file = new URL(`${c.target}-${c.seed}-${c.caseIndex}.bin`, CRASH_DIR);
    writeFileSync(file, c.input);
    process.stdout.write(`  ${c.kind}: ${c.error}\n`);
    if (c.stack) process.stdout.write(`${c.stack.split('\n').slice(1, 6).join('\n')}\n`);
    process.stdout.write(`  input (${c.input.length} bytes): ${file.pathname}\n`);
    process.stdout.write(`  replay: npm run fuzz -- --target ${c.target} --replay ${file.pathname}\n`);
  }
}
const total = results.reduce((n, r) => n + r.cases, 0);
process.stdout.write(`fuzz: ${total} cases, ${crashed} crashes, seed ${seed}\n`);

if (values.record) {
  record('fuzzLong', {
    seed,
    seconds,
    at: new Date().toISOString(),
    targets: results.map(({ crashes, ...r }) => ({
      ...r,
      ms: Math.round(r.ms),
      slowestMs: Math.round(r.slowestMs * 10) / 10,
      crashes: crashes.length,
    })),
  });
}
process.exit(crashed > 0 ? 1 : 0);
