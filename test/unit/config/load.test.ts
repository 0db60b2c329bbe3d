import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig, parseConfigText, parseListen } from '../../../src/config/load.ts';
import { ConfigWriter } from '../../../src/config/writeback.ts';
import { silentLogger } from '../../../src/log/logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'mediagate-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('loadConfig() reads go2rtc-style streams (a URL or a list) and fills the go2rtc defaults', () => {
  const path = file(
    'a.yaml',
    'streams:\n  cam1: rtsp://1.2.3.4/x\n  cam2:\n    - rtsp://1.2.3.4/y\n    - ffmpeg:cam2#audio=opus\n  empty:\n',
  );
  const config = loadConfig([path]);
  assert.deepEqual(config.streams, {
    cam1: ['rtsp://1.2.3.4/x'],
    cam2: ['rtsp://1.2.3.4/y', 'ffmpeg:cam2#audio=opus'],
    empty: [],
  });
  assert.equal(config.api.listen, ':1984');
  assert.equal(config.rtsp.listen, ':8554');
  assert.equal(config.webrtc.listen, ':8555');
  assert.equal(config.demo, true);
});

test('loadConfig() merges several files with the later one winning', () => {
  const a = file(
    'm1.yaml',
    'api:\n  listen: ":1000"\nstreams:\n  a: file:a.mp4\n  b: file:b.mp4\nlog:\n  level: debug\n',
  );
  const b = file(
    'm2.yaml',
    'api:\n  listen: "127.0.0.1:2000"\nstreams:\n  b: file:c.mp4\nlog:\n  rtsp: trace\n',
  );
  const config = loadConfig([a, b]);
  assert.equal(config.api.listen, '127.0.0.1:2000');
  assert.deepEqual(config.streams, { a: ['file:a.mp4'], b: ['file:c.mp4'] });
  assert.equal(config.log.level, 'debug');
  assert.deepEqual(config.log.modules, { rtsp: 'trace' });
  assert.deepEqual(config.files, [a, b]);
});

test('parseConfigText() expands ${ENV} and ${ENV:default} in values', () => {
  const raw = parseConfigText('streams:\n  cam: rtsp://${CAM_USER}:${CAM_PASS:secret}@h/x\n', 'x.yaml', {
    CAM_USER: 'admin',
  });
  assert.deepEqual(raw.streams, { cam: 'rtsp://admin:secret@h/x' });
  assert.throws(() => parseConfigText('streams:\n  cam: ${NOPE}\n', 'x.yaml', {}), /\$\{NOPE\} is not set/);
});

test('parseConfigText() names the file, line and key of a bad value and what was expected', () => {
  const text = 'streams:\n  cam: rtsp://x\napi:\n  listen: 1984\n';
  assert.throws(
    () => parseConfigText(text, 'bad.yaml'),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        'bad.yaml:4: api.listen: must be "[host]:port" such as ":1984" or "127.0.0.1:1984", or "" to disable',
      );
      return true;
    },
  );
  assert.throws(
    () => parseConfigText('rtsp:\n  listen: ":8554"\n  pasword: x\n', 'typo.yaml'),
    /typo.yaml:3: rtsp.pasword: unknown key "pasword"/,
  );
  assert.throws(
    () => parseConfigText('log:\n  level: loud\n', 'l.yaml'),
    /l.yaml:2: log.level: must be one of trace, debug/,
  );
  assert.throws(
    () => parseConfigText('streams:\n  cam:\n    x: 1\n', 's.yaml'),
    /s.yaml:3: streams.cam: must be a source URL/,
  );
  assert.throws(() => parseConfigText('streams: [\n', 'y.yaml'), /y.yaml:2:1: invalid YAML/);
});

test('loadConfig() reports a missing file with its path', () => {
  assert.throws(() => loadConfig([join(dir, 'missing.yaml')]), /missing.yaml: cannot read config file/);
});

test('parseListen() reads ":port", "host:port", "[v6]:port" and "" (disabled)', () => {
  assert.deepEqual(parseListen(':1984'), { host: undefined, port: 1984 });
  assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListen('[::1]:8554'), { host: '::1', port: 8554 });
  assert.equal(parseListen(''), undefined);
});

test('ConfigWriter.update() changes the streams section and keeps the comments and other sections', async () => {
  const path = file(
    'w.yaml',
    '# my gateway\napi:\n  listen: ":1984" # keep me\nstreams:\n  old: rtsp://a/b # camera 1\n',
  );
  const writer = new ConfigWriter(path, silentLogger());
  await writer.update('cam', ['rtsp://c/d', 'ffmpeg:cam#video=h264']);
  await writer.update('old', undefined);
  await writer.flush();
  const text = readFileSync(path, 'utf8');
  assert.match(text, /# my gateway/);
  assert.match(text, /# keep me/);
  assert.doesNotMatch(text, /old:/);
  assert.deepEqual(loadConfig([path]).streams, { cam: ['rtsp://c/d', 'ffmpeg:cam#video=h264'] });
});
