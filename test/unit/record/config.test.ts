import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { ConfigError, loadConfig, parseAge, parseSize } from '../../../src/config/load.ts';
import { tempDir } from './support.ts';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

function load(yaml: string) {
  const path = join(tmp.dir, 'mediagate.yaml');
  writeFileSync(path, yaml);
  return loadConfig([path]);
}

test('loadConfig() defaults record: to ./recordings, 60 s segments, 7 days and no stream', () => {
  const { record } = load('streams: {}\n');
  assert.deepEqual(record, {
    path: resolve('recordings'),
    segmentSeconds: 60,
    retention: { maxAgeMs: 7 * 86400_000, maxBytes: undefined },
    streams: {},
  });
});

test('loadConfig() reads record: with a list of streams or a map of per-stream overrides', () => {
  const list = load(
    'record:\n  path: /srv/rec\n  segment: 10\n  retention: { age: 12h, size: 10GB }\n  streams: [demo, door]\n',
  );
  assert.deepEqual(list.record, {
    path: '/srv/rec',
    segmentSeconds: 10,
    retention: { maxAgeMs: 12 * 3600_000, maxBytes: 10e9 },
    streams: { demo: { retention: {} }, door: { retention: {} } },
  });
  const map = load(
    'record:\n  retention: { age: 0 }\n  streams:\n    demo:\n    door: { segment: 60, retention: { age: 30d, size: 1GiB } }\n',
  );
  assert.deepEqual(map.record.retention, { maxAgeMs: undefined, maxBytes: undefined }, 'age 0: kept forever');
  assert.deepEqual(map.record.streams, {
    demo: { segmentSeconds: undefined, retention: { maxAgeMs: undefined, maxBytes: undefined } },
    door: { segmentSeconds: 60, retention: { maxAgeMs: 30 * 86400_000, maxBytes: 2 ** 30 } },
  });
});

test('loadConfig() rejects a bad record: value with the file, line, key and what is expected', () => {
  assert.throws(
    () => load('record:\n  retention:\n    age: 7y\n'),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(
        err.message,
        /mediagate\.yaml:3: record\.retention\.age: must be seconds or an age such as "90s"/,
      );
      return true;
    },
  );
  assert.throws(() => load('record:\n  segment: 0\n'), /record\.segment: must be >= 1/);
  assert.throws(
    () => load('record:\n  streams: { door: { size: 1 } }\n'),
    /record\.streams\.door\.size: unknown key "size"/,
  );
  assert.throws(() => load('record:\n  streams: 5\n'), /record\.streams: must be array,object,null/);
});

test('parseAge() and parseSize() read units, a plain number being seconds or bytes', () => {
  assert.equal(parseAge(90), 90_000);
  assert.equal(parseAge('1.5h'), 5_400_000);
  assert.equal(parseAge('2w'), 14 * 86400_000);
  assert.equal(parseSize(1234), 1234);
  assert.equal(parseSize('500MB'), 500e6);
  assert.equal(parseSize('1.5 TiB'), 1.5 * 2 ** 40);
  assert.equal(parseSize('64k'), 64_000);
  assert.throws(() => parseAge('soon'), ConfigError);
  assert.throws(() => parseSize('lots'), ConfigError);
});
