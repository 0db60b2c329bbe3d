import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { liveChildren } from '../../../src/diag/children.ts';
import { ChildProcessSupervisor } from '../../../src/process/child.ts';
import { LineRing } from '../../../src/process/lines.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

let before: ResourceCounts;
const started: ChildProcessSupervisor[] = [];

function child(args: string[], opts: Partial<ConstructorParameters<typeof ChildProcessSupervisor>[0]> = {}) {
  const c = new ChildProcessSupervisor({ command: process.execPath, args, owner: 'test', ...opts });
  started.push(c);
  return c;
}

/** True while `pid` exists in any state, zombie included. */
function pidExists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A node child that prints its readiness, then ignores SIGTERM and lives on. */
const STUBBORN = [
  '-e',
  "process.on('SIGTERM', () => console.error('ignoring SIGTERM')); console.log('ready'); setInterval(() => {}, 1000)",
];

async function ready(c: ChildProcessSupervisor): Promise<void> {
  await new Promise<void>((resolve) => c.proc.stdout?.once('data', () => resolve()));
}

beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  for (const c of started.splice(0)) await c.stop();
  await assertNoLeaks(before);
});

describe('ChildProcessSupervisor', { timeout: 20000 }, () => {
  test('supervisor.stop() sends SIGKILL after the kill timeout to a child that ignores SIGTERM, and leaves no zombie', async () => {
    const c = child(STUBBORN, { stdout: 'pipe', killTimeoutMs: 300 });
    await ready(c);
    const pid = c.pid!;
    assert.ok(
      liveChildren().some((x) => x.pid === pid && x.owner === 'test'),
      'registered for /api/debug/handles',
    );
    const t0 = performance.now();
    const exit = await c.stop();
    const ms = performance.now() - t0;
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(exit.stopped, true);
    assert.ok(ms >= 280 && ms < 2000, `took ${Math.round(ms)} ms`);
    assert.ok(!pidExists(pid) || !isZombie(pid), 'reaped');
    assert.ok(!liveChildren().some((x) => x.pid === pid), 'gone from the registry');
    assert.match(c.stderrTail().join('\n'), /ignoring SIGTERM/);
    assert.equal(await c.stop(), exit, 'stop() twice gives the same exit');
  });

  test('supervisor.stop() ends a child that honours SIGTERM at once', async () => {
    const c = child(['-e', "console.log('ready'); setInterval(() => {}, 1000)"], {
      stdout: 'pipe',
      killTimeoutMs: 5000,
    });
    await ready(c);
    const t0 = performance.now();
    const exit = await c.stop();
    assert.equal(exit.signal, 'SIGTERM');
    assert.ok(performance.now() - t0 < 1000);
  });

  test('supervisor.exited settles with the exit code and describeExit() carries the last stderr lines', async () => {
    const c = child(['-e', "for (let i = 0; i < 30; i++) console.error('line ' + i); process.exit(3)"], {
      stderrLines: 5,
    });
    const exit = await c.exited;
    assert.equal(exit.code, 3);
    assert.equal(exit.stopped, false);
    assert.deepEqual(c.stderrTail(), ['line 25', 'line 26', 'line 27', 'line 28', 'line 29']);
    assert.equal(
      c.describeExit('exec'),
      'exec exited with code 3: line 25 | line 26 | line 27 | line 28 | line 29',
    );
    assert.equal(c.running, false);
  });

  test('supervisor.stop() kills the whole process group of a shell, grandchildren included', async () => {
    const c = new ChildProcessSupervisor({
      command: 'sh',
      args: ['-c', 'sleep 30 & echo $!; wait'],
      owner: 'test',
      stdout: 'pipe',
    });
    started.push(c);
    const grandchild = await new Promise<number>((resolve) =>
      c.proc.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    assert.ok(pidExists(grandchild));
    await c.stop();
    // The grandchild is not ours to reap (init does), so wait for it to vanish.
    const deadline = performance.now() + 3000;
    while (pidExists(grandchild) && !isZombie(grandchild) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(!pidExists(grandchild) || isZombie(grandchild), 'the sleep in the background was killed too');
  });

  test('ChildProcessSupervisor.stopAll() resolves once every child has exited, stubborn ones SIGKILLed', async () => {
    const a = child(STUBBORN, { stdout: 'pipe', killTimeoutMs: 200 });
    const b = child(['-e', "console.log('ready'); setInterval(() => {}, 1000)"], { stdout: 'pipe' });
    await Promise.all([ready(a), ready(b)]);
    await ChildProcessSupervisor.stopAll();
    assert.equal(a.exit?.signal, 'SIGKILL');
    assert.equal(b.exit?.signal, 'SIGTERM');
  });

  test('supervisor.exited reports a program that cannot be started, without throwing', async () => {
    const c = new ChildProcessSupervisor({ command: '/nonexistent/ffmpeg', args: [], owner: 'test' });
    started.push(c);
    const exit = await c.exited;
    assert.equal((exit.spawnError as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
    assert.match(c.describeExit('ffmpeg'), /^ffmpeg could not be started: .*ENOENT/);
    await c.stop();
  });
});

describe('LineRing', () => {
  test('lineRing.push() returns whole lines across chunks and keeps the last N, bounded in length', () => {
    const ring = new LineRing(2);
    assert.deepEqual(ring.push('a\r\nb'), ['a']);
    assert.deepEqual(ring.push('c\n\nd\re'), ['bc', 'd']);
    assert.deepEqual(ring.lines(), ['bc', 'd']);
    assert.deepEqual(ring.flush(), ['e']);
    assert.deepEqual(ring.lines(), ['d', 'e']);
    const long = new LineRing(1);
    long.push(`${'x'.repeat(10_000)}\n`);
    assert.equal(long.lines()[0].length, 500);
  });
});
