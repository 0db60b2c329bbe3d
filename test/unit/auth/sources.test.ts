import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkApiSource, isLocalHost } from '../../../src/auth/sources.ts';
import { BadRequestError } from '../../../src/core/errors.ts';

const ports = () => new Set([8554, 1984]);
const open = { requireFileRoot: false, localPorts: ports };

describe('checkApiSource()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mediagate-sources-'));
  const root = join(dir, 'media');
  mkdirSync(root);
  writeFileSync(join(root, 'clip.mp4'), 'x');
  writeFileSync(join(dir, 'secret.mp4'), 'x');
  symlinkSync(join(dir, 'secret.mp4'), join(root, 'link.mp4'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('checkApiSource() refuses a URL that points at a port of this gateway on this machine, also nested', async () => {
    for (const url of [
      'rtsp://127.0.0.1:8554/demo',
      'rtsp://user:pass@localhost:8554/demo',
      'rtsp://[::1]:8554/demo',
      'rtsp://0.0.0.0:8554/demo',
      'rtsp://127.1.2.3:8554/demo',
      `rtsp://${hostname()}:8554/demo`,
      'http://127.0.0.1:1984/api/stream.mp4?src=demo',
      'ffmpeg:rtsp://127.0.0.1:8554/demo#video=h264',
    ]) {
      await assert.rejects(
        checkApiSource(url, open),
        (err: Error) => err instanceof BadRequestError && /points at this gateway/.test(err.message),
        url,
      );
    }
  });

  test('checkApiSource() accepts other ports, other hosts and the default port when it is not ours', async () => {
    for (const url of [
      'rtsp://127.0.0.1:554/demo',
      'rtsp://127.0.0.1/demo',
      'rtsp://192.0.2.10:8554/cam',
      'rtsp://camera.example:8554/x',
      'fake://x',
    ]) {
      await checkApiSource(url, open);
    }
    await assert.rejects(
      checkApiSource('rtsp://127.0.0.1/demo', { ...open, localPorts: () => new Set([554]) }),
      /points at this gateway \(127\.0\.0\.1:554\)/,
    );
  });

  test('checkApiSource() keeps file: sources inside api.file_root, refusing ../ and symlinks out of it', async () => {
    const strict = { requireFileRoot: true, fileRoot: root, localPorts: ports };
    await checkApiSource(`file:${join(root, 'clip.mp4')}`, strict);
    await checkApiSource(`file:${join(root, 'not-yet.mp4')}`, strict);
    await checkApiSource(`file://${join(root, 'clip.mp4')}#loop`, strict);
    for (const url of [
      `file:${join(root, '..', 'secret.mp4')}`,
      `file:${root}/../secret.mp4`,
      `file:${join(root, 'link.mp4')}`,
      `file:${root}-other/x.mp4`,
      'file:/etc/passwd',
      'file:relative.mp4',
    ]) {
      await assert.rejects(checkApiSource(url, strict), /outside api\.file_root/, url);
    }
  });

  test('checkApiSource() refuses file: without a root only when requireFileRoot is set', async () => {
    await assert.rejects(
      checkApiSource('file:/x.mp4', { requireFileRoot: true, localPorts: ports }),
      /api\.file_root is set/,
    );
    await checkApiSource('file:/x.mp4', open);
  });

  test('isLocalHost() knows loopback, any-address and names of this machine', () => {
    for (const h of [
      'localhost',
      'LOCALHOST',
      'a.localhost',
      '127.0.0.1',
      '[::1]',
      '::',
      '0.0.0.0',
      hostname(),
    ])
      assert.equal(isLocalHost(h), true, h);
    for (const h of ['192.0.2.1', 'example.com', '[2001:db8::1]']) assert.equal(isLocalHost(h), false, h);
  });
});
