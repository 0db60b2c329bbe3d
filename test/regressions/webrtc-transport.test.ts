/**
 * Regressions of the WebRTC transport's crash classes: a server closed while TCP sessions are live
 * (mediasoup #1388: the DTLS close alert written through a freed TCP connection), UDP sockets and
 * timers left behind by sessions that came and went, and DataChannel messages merged when several
 * are sent at once (implementations that ignore the SCTP end-of-record flag, openwebrtc #703).
 * The client is werift's RTCPeerConnection, on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { activeResources, assertNoLeaks } from '../helpers/leaks.ts';
import {
  type Client,
  closeClient,
  connectClient,
  startServer,
  until,
} from '../unit/webrtc/transport-client.ts';

const T = { timeout: 30_000 };

describe('WebRTC transport regressions', () => {
  test(
    'server.close() with two live TCP sessions closes the transports before their connections: both clients get the close alert, nothing throws, nothing is left (mediasoup #1388, fixed by #1390)',
    T,
    async () => {
      const before = activeResources();
      const server = await startServer();
      const clients: Client[] = [];
      try {
        clients.push(await connectClient(server, 'tcp'), await connectClient(server, 'tcp'));
        const closes = clients.map(() => 0);
        for (const [i, c] of clients.entries()) {
          c.transport.on('close', () => closes[i]++);
          c.serverChannels[0].send('live'); // a writer in flight when the server goes
        }
        await Promise.all([server.close(), server.close()]);
        assert.deepEqual(closes, [1, 1]);
        for (const c of clients)
          await until(() => c.pc.dtlsTransports[0].state === 'closed', 1000, 'the close alert');
        assert.equal(server.transportCount, 0);
      } finally {
        for (const c of clients) await closeClient(c);
        await server.close();
      }
      await assertNoLeaks(before, 3000);
    },
  );

  test(
    '50 transports created and closed, and a UDP session connected and closed, leave no UDPWrap, TCPWrap or Timeout once the server closes',
    T,
    async () => {
      const before = activeResources();
      const server = await startServer();
      const listening = activeResources();
      let client: Client | undefined;
      try {
        for (let i = 0; i < 50; i++) {
          const t = server.createTransport({
            remoteUfrag: `u${i}`,
            remotePwd: 'p'.repeat(22),
            remoteFingerprints: [{ algorithm: 'sha-256', value: '00' }],
            transports: 'udp',
          });
          t.close();
          t.close();
        }
        client = await connectClient(server, 'udp');
        client.transport.close();
        await closeClient(client);
        client = undefined;
        assert.equal(server.transportCount, 0);
        // With the server still listening, the sessions' own handles are gone already.
        await assertNoLeaks(listening, 3000);
      } finally {
        await closeClient(client);
        await server.close();
      }
      await assertNoLeaks(before, 3000);
    },
  );

  test(
    'DataChannel messages sent at once from both sides, 200 each way, arrive separate, whole and in order',
    T,
    async () => {
      const server = await startServer();
      let client: Client | undefined;
      try {
        client = await connectClient(server, 'udp');
        const serverSide = client.serverChannels[0];
        const atServer: (string | Buffer)[] = [];
        const atClient: (string | Buffer)[] = [];
        serverSide.on('message', (m) => atServer.push(m));
        client.channel.onMessage.subscribe((m) => atClient.push(m));
        const msg = (i: number, side: string) =>
          i % 2 ? `${side}${i}`.padEnd(1 + ((i * 37) % 1500), '.') : Buffer.alloc(1 + ((i * 53) % 3000), i);
        for (let i = 0; i < 200; i++) {
          serverSide.send(msg(i, 's'));
          client.channel.send(msg(i, 'c'));
        }
        await until(() => atServer.length >= 200 && atClient.length >= 200, 20_000, 'both bursts');
        await new Promise((r) => setTimeout(r, 50)); // an extra (split) message would show up here
        assert.equal(atServer.length, 200);
        assert.equal(atClient.length, 200);
        for (let i = 0; i < 200; i++) {
          assert.deepEqual(atServer[i], msg(i, 'c'), `message ${i} at the server`);
          assert.deepEqual(atClient[i], msg(i, 's'), `message ${i} at the client`);
        }
      } finally {
        await closeClient(client);
        await server.close();
      }
    },
  );
});
