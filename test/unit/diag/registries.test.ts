import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { childrenStarted, liveChildren, trackChild } from '../../../src/diag/children.ts';
import { describeHandles, labelHandle } from '../../../src/diag/handles.ts';
import { sessionClosed, sessionCounts, sessionOpened } from '../../../src/diag/sessions.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

let before: ResourceCounts;
beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  await assertNoLeaks(before);
});

describe('children, sessions and handles', { timeout: 10000 }, () => {
  test('trackChild() lists a child process with its owner until it exits', async () => {
    const proc = trackChild(
      spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300)'], { stdio: 'ignore' }),
      'ffmpeg:door',
    );
    const mine = () => liveChildren().filter((c) => c.pid === proc.pid);
    assert.equal(mine().length, 1);
    assert.equal(mine()[0].owner, 'ffmpeg:door');
    assert.match(mine()[0].command, /setTimeout/);
    assert.ok(describeHandles().children.some((c) => c.pid === proc.pid && c.owner === 'ffmpeg:door'));
    assert.ok(childrenStarted()['ffmpeg:door'] >= 1);
    await once(proc, 'exit');
    assert.equal(mine().length, 0);
  });

  test('trackChild() forgets a child that failed to spawn and leaves its error to the owner', async () => {
    const proc = trackChild(spawn('/nonexistent/mediagate-test'), 'exec:x');
    const [err] = (await once(proc, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ENOENT');
    await once(proc, 'close');
    assert.equal(liveChildren().filter((c) => c.owner === 'exec:x').length, 0);
  });

  test('sessionOpened() and sessionClosed() count open and total sessions per protocol, never below 0', () => {
    sessionOpened('proto-a');
    sessionOpened('proto-a');
    sessionClosed('proto-a');
    sessionClosed('proto-a');
    sessionClosed('proto-a');
    sessionClosed('never-opened');
    assert.deepEqual(sessionCounts()['proto-a'], { open: 0, total: 2 });
    assert.equal(sessionCounts()['never-opened'], undefined);
  });

  test('describeHandles() names a labelled server and the sockets it accepted', async () => {
    const server = createServer((s) => s.pause());
    labelHandle(server, 'rtsp');
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const client = connect(port, '127.0.0.1');
    await once(server, 'connection');
    const report = describeHandles();
    assert.ok(report.servers.some((s) => s.owner === 'rtsp' && s.address === `127.0.0.1:${port}`));
    const accepted = report.sockets.find((s) => s.owner === 'rtsp');
    assert.equal(accepted?.listener, `127.0.0.1:${port}`);
    assert.equal(accepted?.local, `127.0.0.1:${port}`);
    assert.ok(report.counts.TCPServerWrap >= 1);
    client.destroy();
    server.close();
    await once(server, 'close');
  });
});
