import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { maskSecrets } from '../../../src/core/mask.ts';
import { createLogging } from '../../../src/log/logger.ts';

test('maskSecrets() hides URL passwords and secret query parameters and keeps everything else', () => {
  const cases: [string, string][] = [
    ['rtsp://admin:pa55@cam/x?token=abc&ch=1', 'rtsp://admin:***@cam/x?token=***&ch=1'],
    ['ffmpeg:rtsp://u:p@h/x#video=h264', 'ffmpeg:rtsp://u:***@h/x#video=h264'],
    ['rtsp://cam/x', 'rtsp://cam/x'],
    [
      'connect rtsp://a:b@c:554/x failed; retry http://d:e@f/',
      'connect rtsp://a:***@c:554/x failed; retry http://d:***@f/',
    ],
    ['rtmp://h/app?key=live_123', 'rtmp://h/app?key=***'],
    [
      'http://cam/snap.jpg#header=Authorization: Bearer abc#interval=5',
      'http://cam/snap.jpg#header=Authorization: ***#interval=5',
    ],
  ];
  for (const [input, want] of cases) assert.equal(maskSecrets(input), want);
});

test('createLogging() masks secrets in every line and keeps recent lines in its ring', () => {
  let written = '';
  const sink = new Writable({
    write(chunk, _e, done) {
      written += chunk.toString();
      done();
    },
  });
  const logging = createLogging({ level: 'info', modules: { rtsp: 'debug' }, ringSize: 2 }, sink);
  logging.module('rtsp').debug({ url: 'rtsp://admin:hunter2@cam/x' }, 'connecting');
  logging.module('api').debug('hidden at info level');
  logging.root.info('one');
  logging.root.info('two');
  assert.doesNotMatch(written, /hunter2/);
  assert.match(written, /rtsp:\/\/admin:\*\*\*@cam\/x/);
  assert.doesNotMatch(written, /hidden at info level/);
  assert.equal(logging.ring.lines().length, 2);
  assert.match(logging.ring.lines()[1], /"msg":"two"/);
});
