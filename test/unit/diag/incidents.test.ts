import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { IncidentStore } from '../../../src/diag/incidents.ts';
import type { Breach } from '../../../src/diag/rules.ts';

const root = mkdtempSync(join(tmpdir(), 'mediagate-incidents-'));
after(() => rmSync(root, { recursive: true, force: true }));

const breach = (rule: Breach['rule'] = 'event_loop_lag'): Breach => ({
  rule,
  message: 'event loop blocked: max 500 ms',
  values: { maxMs: 500 },
  streams: ['door'],
});

describe('IncidentStore', () => {
  test('store.record() writes the incident and its profiles, and list() returns it with the file names', async () => {
    const store = new IncidentStore(join(root, 'a', 'nested'), 5);
    const incident = await store.record(breach(), async () => ({
      cpuprofile: { nodes: [], startTime: 0, endTime: 1 },
      heapprofile: { head: {}, samples: [] },
    }));
    assert.match(incident.id, /^\d{8}T\d{9}Z-event_loop_lag$/);
    assert.deepEqual(incident.files, [`${incident.id}.cpuprofile`, `${incident.id}.heapprofile`]);
    const onDisk = readdirSync(store.dir).sort();
    assert.deepEqual(onDisk, [
      `${incident.id}.cpuprofile`,
      `${incident.id}.heapprofile`,
      `${incident.id}.json`,
    ]);
    const cpu = JSON.parse(readFileSync(join(store.dir, `${incident.id}.cpuprofile`), 'utf8'));
    assert.deepEqual(cpu, { nodes: [], startTime: 0, endTime: 1 });
    const [listed] = await store.list();
    assert.equal(listed.id, incident.id);
    assert.equal(listed.rule, 'event_loop_lag');
    assert.deepEqual(listed.streams, ['door']);
    assert.deepEqual(listed.files, incident.files);
  });

  test('store.record() notes a failed capture in the incident instead of throwing', async () => {
    const store = new IncidentStore(join(root, 'b'), 5);
    const incident = await store.record(breach(), async () => {
      throw new Error('profiler busy with a cpu profile');
    });
    assert.deepEqual(incident.files, []);
    assert.deepEqual(incident.notes, ['profiles not captured: profiler busy with a cpu profile']);
    assert.deepEqual((await store.list())[0].notes, incident.notes);
  });

  test('store.record() keeps max_incidents, removing the oldest with all their files and leaving other files alone', async () => {
    const store = new IncidentStore(join(root, 'c'), 3);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const at = new Date(Date.UTC(2024, 0, 1, 0, 0, i));
      const incident = await store.record(breach(), async () => ({ cpuprofile: { i } }), at);
      ids.push(incident.id);
    }
    writeFileSync(join(store.dir, 'notes.txt'), 'mine');
    await store.prune();
    const listed = (await store.list()).map((i) => i.id);
    assert.deepEqual(listed, ids.slice(2).reverse(), 'newest first, the two oldest gone');
    const names = readdirSync(store.dir);
    assert.equal(names.filter((n) => n.startsWith(ids[0])).length, 0);
    assert.ok(names.includes('notes.txt'));
  });

  test('store.record() gives distinct ids to incidents of the same rule in the same millisecond', async () => {
    const store = new IncidentStore(join(root, 'd'), 10);
    const at = new Date(Date.UTC(2024, 0, 1));
    const a = await store.record(breach(), undefined, at);
    const b = await store.record(breach(), undefined, at);
    const c = await store.record(breach('heap_growth'), undefined, at);
    assert.equal(new Set([a.id, b.id, c.id]).size, 3);
    assert.equal((await store.list()).length, 3);
  });

  test('store.resolveFile() finds incident files by exact name and refuses anything else', async () => {
    const store = new IncidentStore(join(root, 'e'), 5);
    const incident = await store.record(breach(), async () => ({ cpuprofile: {} }));
    writeFileSync(join(root, 'e', 'secret.json'), '{}');
    assert.equal(
      await store.resolveFile(`${incident.id}.cpuprofile`),
      join(store.dir, `${incident.id}.cpuprofile`),
    );
    for (const name of [
      '../secret.json',
      'secret.json',
      `../e/${incident.id}.json`,
      `${incident.id}.heapprofile`, // not captured
      `/etc/passwd`,
      `..%2F${incident.id}.json`,
      `${incident.id}.json/..`,
      '',
    ]) {
      assert.equal(await store.resolveFile(name), undefined, name);
    }
  });
});
