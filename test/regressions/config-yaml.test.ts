/**
 * Regression found by the fuzz suite (target `config`): yaml's `toJS()` throws a ReferenceError
 * for an alias whose anchor comes later or not at all, and for an alias bomb ("billion laughs");
 * `parseConfigText()` let it escape, so `mediagate -c bad.yaml` died with a stack trace instead of
 * naming the file. Now it is a ConfigError like every other bad config.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfigText } from '../../src/config/load.ts';

test('parseConfigText() with an alias before its anchor, an unknown alias or an alias bomb throws ConfigError naming the file', () => {
  const bomb = [
    'a: &a [x, x, x, x, x, x, x, x, x, x]',
    ...'bcdefghij'
      .split('')
      .map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(', ')}]`),
  ].join('\n');
  for (const text of ['api: *late\nx: &late {listen: ":1"}\n', 'streams: *nowhere\n', bomb]) {
    assert.throws(
      () => parseConfigText(text, '/etc/mediagate.yaml', {}),
      (err: unknown) =>
        err instanceof ConfigError && /^\/etc\/mediagate\.yaml: invalid YAML: /.test(err.message),
      text.slice(0, 40),
    );
  }
});

test('parseConfigText() still resolves an ordinary anchor and alias', () => {
  const value = parseConfigText(
    'x-cams: &cams [rtsp://h/a, rtsp://h/b]\nstreams:\n  door: *cams\n',
    'ok.yaml',
    {},
  );
  assert.deepEqual((value.streams as Record<string, string[]>).door, ['rtsp://h/a', 'rtsp://h/b']);
});
