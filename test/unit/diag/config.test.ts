import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { DEFAULTS } from '../../../src/config/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'mediagate-diag-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(text: string) {
  const path = join(dir, 'mediagate.yaml');
  writeFileSync(path, text);
  return loadConfig([path]);
}

test('loadConfig() fills the diag: defaults, with the incident folder under the working directory', () => {
  const { diag } = load('streams:\n');
  assert.deepEqual(diag, { ...DEFAULTS.diag, incidentDir: resolve('.diag/incidents') });
  assert.equal(diag.eventLoopLagP99Ms, 200);
  assert.equal(diag.maxIncidents, 20);
});

test('loadConfig() converts the diag: seconds and megabytes to ms and bytes', () => {
  const { diag } = load(
    'diag:\n  interval: 0.5\n  heap_growth_mb: 64\n  heap_window: 120\n  source_stall_seconds: 4\n  incident_dir: /var/tmp/inc\n  max_incidents: 3\n  consumer_drop_rate: 0.25\n',
  );
  assert.equal(diag.intervalMs, 500);
  assert.equal(diag.heapGrowthBytes, 64 * 1024 * 1024);
  assert.equal(diag.heapWindowMs, 120_000);
  assert.equal(diag.sourceStallMs, 4000);
  assert.equal(diag.incidentDir, '/var/tmp/inc');
  assert.equal(diag.maxIncidents, 3);
  assert.equal(diag.consumerDropRate, 0.25);
});

test('loadConfig() rejects bad diag: values naming the key', () => {
  assert.throws(
    () => load('diag:\n  consumer_drop_rate: 2\n'),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /:2: diag\.consumer_drop_rate: must be <= 1/);
      return true;
    },
  );
  assert.throws(() => load('diag:\n  max_incident: 3\n'), /diag\.max_incident: unknown key "max_incident"/);
  assert.throws(() => load('diag:\n  interval: 0\n'), /diag\.interval: must be >= 0.1/);
});
