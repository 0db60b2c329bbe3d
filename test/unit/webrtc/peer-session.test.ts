import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  InvalidStateError,
  NotFoundError,
  TimeoutError,
  UnavailableError,
} from '../../../src/core/errors.ts';
import type { StreamRegistry } from '../../../src/core/registry.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { PeerSessions } from '../../../src/protocols/webrtc/peer/sessions.ts';
import type { FakeDriver } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { chromiumOffer, FakeFactory, fakeRegistry } from './peer-fakes.ts';

let before: ResourceCounts;
let registry: StreamRegistry;
let drivers: FakeDriver[];
let factory: FakeFactory;
let sessions: PeerSessions;

beforeEach(async () => {
  before = activeResources();
  ({ registry, drivers } = fakeRegistry());
  await registry.create('cam', ['fake:cam']);
  factory = new FakeFactory();
  sessions = new PeerSessions({ registry, factory, policy: 'any', log: silentLogger() });
});
afterEach(async () => {
  sessions.closeAll();
  registry.close();
  await assertNoLeaks(before);
});

async function view() {
  const { session } = await sessions.answer({ sdp: chromiumOffer(), src: 'cam' });
  const transport = factory.last;
  transport.emit('connected');
  const closes: (Error | undefined)[] = [];
  session.on('close', (err) => closes.push(err));
  return { session, transport, closes, viewer: session.endpoint };
}

describe('WebRTC sessions', () => {
  test('peerSession.close() closes the viewer before the transport and emits close once however often it is called', async () => {
    const { session, transport, closes, viewer } = await view();
    const order: string[] = [];
    viewer.on('close', () => order.push(`viewer (transport closed: ${transport.closed})`));
    transport.on('close', () => order.push('transport'));
    session.close();
    session.close();
    transport.close();
    viewer.close();
    assert.deepEqual(order, ['viewer (transport closed: false)', 'transport']);
    assert.equal(closes.length, 1);
    assert.equal(sessions.size, 0);
    assert.equal(registry.require('cam').consumers.length, 0);
  });

  test('peerSession closes once when the browser close alert and the stream removal race (regression: go2rtc #1330 "close of closed channel")', async () => {
    // Browser first: the stream is deleted from inside the transport's close event.
    const a = await view();
    a.transport.on('close', () => void registry.delete('cam'));
    a.viewer.on('close', () => a.transport.peerGone());
    a.transport.peerGone();
    await sleep(0);
    assert.equal(a.closes.length, 1);
    assert.match(a.closes[0]?.message ?? '', /close_notify/);
    assert.equal(registry.get('cam'), undefined);

    // Server first: deleting the stream closes the viewer, whose close makes the browser go too.
    await registry.create('cam', ['fake:cam']);
    const b = await view();
    b.viewer.on('close', () => b.transport.peerGone());
    const c = await view();
    await Promise.all(
      [
        registry.delete('cam'),
        Promise.resolve().then(() => c.transport.peerGone()),
        Promise.resolve().then(() => sessions.close(c.session.id)),
      ].map((p) => p.catch((e) => e)),
    );
    for (const s of [b, c]) {
      assert.equal(s.closes.length, 1);
      assert.equal(s.viewer.closed, true);
      assert.equal(s.transport.closed, true);
    }
    assert.equal(sessions.size, 0);
  });

  test('a vanished browser (consent timeout) frees the session: the viewer leaves the stream and the source stops', async () => {
    const { transport, closes } = await view();
    assert.equal(registry.require('cam').consumers.length, 1);
    transport.close(new TimeoutError('no ICE consent for 30000 ms'));
    assert.equal(closes.length, 1);
    assert.equal(registry.require('cam').consumers.length, 0);
    await sleep(80); // idle_timeout 50 ms
    assert.equal(drivers[0].last.closed, true, 'no reader left: the source stopped');
  });

  test('sessions.answer() closes the half-made viewer when the signaling goes away during negotiation', async () => {
    let release = () => {};
    drivers[0].gate = new Promise((r) => {
      release = r;
    });
    const aborter = new AbortController();
    const pending = sessions.answer({ sdp: chromiumOffer(), src: 'cam', signal: aborter.signal });
    await sleep(5);
    aborter.abort();
    release();
    await assert.rejects(pending, InvalidStateError);
    assert.equal(factory.transports.length, 0, 'no transport was made');
    assert.equal(registry.require('cam').consumers.length, 0);
    assert.equal(sessions.size, 0);
  });

  test('sessions.answer() refuses with UnavailableError (503) beyond maxSessions and accepts again after a close', async () => {
    const capped = new PeerSessions({
      registry,
      factory,
      policy: 'any',
      log: silentLogger(),
      maxSessions: 2,
    });
    const a = await capped.answer({ sdp: chromiumOffer(), src: 'cam' });
    await capped.answer({ sdp: chromiumOffer(), src: 'cam' });
    await assert.rejects(capped.answer({ sdp: chromiumOffer(), src: 'cam' }), (err: Error) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, /too many WebRTC sessions \(2\)/);
      return true;
    });
    capped.close(a.session.id);
    await capped.answer({ sdp: chromiumOffer(), src: 'cam' });
    assert.equal(capped.size, 2);
    capped.closeAll();
  });

  test('sessions.answer() limits candidates by ?transport= within the configured policy', async () => {
    const udpOnly = new PeerSessions({ registry, factory, policy: 'udp', log: silentLogger() });
    const { answer } = await udpOnly.answer({ sdp: chromiumOffer(), src: 'cam' });
    assert.deepEqual(factory.policies, ['udp']);
    assert.doesNotMatch(answer, / tcp /);
    await assert.rejects(
      udpOnly.answer({ sdp: chromiumOffer(), src: 'cam', transport: 'tcp' }),
      /transport tcp is disabled by config/,
    );
    const tcp = await sessions.answer({ sdp: chromiumOffer(), src: 'cam', transport: 'tcp' });
    assert.match(tcp.answer, /a=candidate:\S+ 1 tcp .* tcptype passive/);
    assert.doesNotMatch(tcp.answer, / udp /);
    await assert.rejects(
      sessions.answer({ sdp: chromiumOffer(), src: 'cam', transport: 'sctp' }),
      /invalid \?transport=sctp/,
    );
    udpOnly.closeAll();
  });

  test('sessions.answer() writes a stream name with spaces and slashes as an a=msid token (RFC 8830)', async () => {
    await registry.create('front door/hd', ['fake:x']);
    const { answer } = await sessions.answer({ sdp: chromiumOffer(), src: 'front door/hd' });
    assert.match(answer, /\r\na=msid:front-door-hd video-0\r\n/);
    assert.match(answer, /\r\na=ssrc:\d+ msid:front-door-hd audio-1\r\n/);
  });

  test('sessions.closeAll() closes every session, publishers included, and refuses new offers', async () => {
    const a = await view();
    const pub = await sessions.answer({
      sdp: chromiumOffer('sendonly').replace('a=recvonly', 'a=sendonly'),
      dst: 'live',
    });
    assert.equal(sessions.size, 2);
    assert.equal(registry.require('live').info().producers.length, 1);
    sessions.closeAll();
    assert.equal(a.closes.length, 1);
    assert.equal(pub.session.closed, true);
    assert.equal(sessions.size, 0);
    assert.equal(registry.require('live').info().producers.length, 0);
    await assert.rejects(sessions.answer({ sdp: chromiumOffer(), src: 'cam' }), /shutting down/);
    assert.throws(() => sessions.close(a.session.id), NotFoundError);
  });
});
