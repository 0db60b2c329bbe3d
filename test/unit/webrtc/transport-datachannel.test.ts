/**
 * DataChannels over the transport's SCTP association: message boundaries under a burst, both
 * ways, and channel lifecycle. The client is werift's RTCPeerConnection.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DataChannel } from '../../../src/protocols/webrtc/transport/index.ts';
import { type Client, closeClient, connectClient, once, startServer, until } from './transport-client.ts';

const T = { timeout: 30_000 };
const BURST = 1000;
/**
 * werift's client wakes every pending sender on each SCTP flush (quadratic in the burst), so the
 * client-to-server burst is smaller; our side queues and hands werift one message at a time. The
 * client burst has no empty messages: werift sends those as zero chunks yet uses up a stream
 * sequence number, which stalls the ordered stream (we send them as RFC 8831 §6.6 says).
 */
const CLIENT_BURST = 300;

/** Message `i` of a burst: text and binary alternate, sizes vary from 0 to `max` (several SCTP fragments). */
function message(i: number, max = 4000, empties = true): string | Buffer {
  const size = empties && i % 97 === 0 ? 0 : ((i * 7919) % max) + 1;
  if (i % 2 === 0) {
    const b = Buffer.alloc(size, i & 0xff);
    if (size >= 4) b.writeUInt32BE(i, 0);
    return b;
  }
  return size === 0 ? '' : `${i}:`.padEnd(size, String.fromCharCode(97 + (i % 26)));
}

function assertBurst(got: (string | Buffer)[], count: number, max?: number, empties?: boolean): void {
  assert.equal(got.length, count, `expected ${count} separate messages, got ${got.length}`);
  for (let i = 0; i < count; i++) {
    const want = message(i, max, empties);
    const have = got[i];
    if (typeof want === 'string') {
      assert.equal(typeof have, 'string', `message ${i} should be text`);
      assert.equal(have, want, `message ${i} differs`);
    } else {
      assert.ok(Buffer.isBuffer(have), `message ${i} should be binary`);
      assert.ok(want.equals(have), `message ${i} differs: ${have.length} bytes, want ${want.length}`);
    }
  }
}

describe('DataChannel over WebRtcTransport', () => {
  test(
    `DataChannel.send() keeps ${BURST} messages of varying sizes sent in one tick separate and intact (server to client)`,
    T,
    async () => {
      const server = await startServer();
      let client: Client | undefined;
      try {
        client = await connectClient(server, 'udp');
        const got: (string | Buffer)[] = [];
        client.pc.onDataChannel.subscribe((ch) => {
          if (ch.label === 'burst') ch.onMessage.subscribe((m) => got.push(m));
        });
        const ch = client.transport.createDataChannel('burst');
        await once(ch, 'open', 3000, 'channel open');
        await until(
          () => client?.pc.sctpTransport?.channelByLabel('burst') !== undefined,
          3000,
          'client channel',
        );
        for (let i = 0; i < BURST; i++) ch.send(message(i));
        assert.equal(ch.counters.messagesOut, BURST);
        assert.ok(ch.bufferedAmount > 0, 'the burst is queued, not sent synchronously');
        await until(() => got.length >= BURST, 20_000, 'burst at the client');
        await new Promise((r) => setTimeout(r, 50)); // a merged or duplicated extra would show up here
        assertBurst(got, BURST);
        assert.equal(ch.bufferedAmount, 0);
      } finally {
        await closeClient(client);
        await server.close();
      }
    },
  );

  test(
    `transport "datachannel" delivers ${CLIENT_BURST} messages a client sends in one tick separately and intact (client to server)`,
    T,
    async () => {
      const server = await startServer();
      let client: Client | undefined;
      try {
        client = await connectClient(server, 'tcp');
        const [serverSide] = client.serverChannels;
        const got: (string | Buffer)[] = [];
        serverSide.on('message', (m) => got.push(m));
        for (let i = 0; i < CLIENT_BURST; i++) client.channel.send(message(i, 1200, false));
        await until(() => got.length >= CLIENT_BURST, 20_000, 'burst at the server');
        await new Promise((r) => setTimeout(r, 50));
        assertBurst(got, CLIENT_BURST, 1200, false);
        assert.equal(serverSide.counters.messagesIn, CLIENT_BURST);
      } finally {
        await closeClient(client);
        await server.close();
      }
    },
  );

  test(
    'DataChannel.send() throws InvalidStateError before the channel is open and BadRequestError over max-message-size',
    T,
    async () => {
      const server = await startServer();
      let client: Client | undefined;
      try {
        client = await connectClient(server, 'udp');
        const ch = client.transport.createDataChannel('limits');
        assert.equal(ch.readyState, 'connecting');
        assert.throws(() => ch.send('too early'), { name: 'InvalidStateError' });
        await once(ch, 'open', 3000, 'channel open');
        assert.throws(() => ch.send(Buffer.alloc(262_145)), { name: 'BadRequestError' });
        ch.send(Buffer.alloc(262_144)); // exactly the limit is fine
      } finally {
        await closeClient(client);
        await server.close();
      }
    },
  );

  test(
    'DataChannel.close() resets its stream: it emits close once and the client channel closes',
    T,
    async () => {
      const server = await startServer();
      let client: Client | undefined;
      try {
        client = await connectClient(server, 'udp');
        const [serverSide] = client.serverChannels;
        let closes = 0;
        serverSide.on('close', () => closes++);
        serverSide.close();
        serverSide.close();
        assert.equal(closes, 1);
        assert.equal(serverSide.readyState, 'closed');
        assert.throws(() => serverSide.send('x'), { name: 'InvalidStateError' });
        await until(() => client?.channel.readyState === 'closed', 3000, 'client channel closed');
      } finally {
        await closeClient(client);
        await server.close();
      }
    },
  );

  test('transport.close() closes its DataChannels before it emits close', T, async () => {
    const server = await startServer();
    let client: Client | undefined;
    try {
      client = await connectClient(server, 'udp');
      const order: string[] = [];
      const ours: DataChannel = client.transport.createDataChannel('mine');
      await once(ours, 'open', 3000, 'channel open');
      for (const ch of [...client.serverChannels, ours])
        ch.on('close', () => order.push(`channel ${ch.label}`));
      client.transport.on('close', () => order.push('transport'));
      client.transport.close();
      assert.deepEqual(order.sort(), ['channel client', 'channel mine', 'transport'].sort());
      assert.equal(order.at(-1), 'transport');
      assert.throws(() => client?.transport.createDataChannel('late'), { name: 'InvalidStateError' });
    } finally {
      await closeClient(client);
      await server.close();
    }
  });
});
