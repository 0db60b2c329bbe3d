/**
 * RtmpConnection on both ends of a local TCP connection: the handshake, messages both ways,
 * Ping Requests answered, Acknowledgements every Window Ack Size bytes, a Set Peer Bandwidth
 * answered with a Window Ack Size, and `close` emitted once on either side.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { RtmpConnection } from '../../../src/protocols/rtmp/connection.ts';
import {
  setPeerBandwidthMessage,
  userControlMessage,
  windowAckSizeMessage,
} from '../../../src/protocols/rtmp/control.ts';
import { MessageType, type RtmpMessage, UserControlEvent } from '../../../src/protocols/rtmp/types.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { waitUntil } from './helpers.ts';

let before: ResourceCounts;
let server: Server;
const open: RtmpConnection[] = [];

beforeEach(() => {
  before = activeResources();
});

afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await new Promise((resolve) => server.close(resolve));
  await assertNoLeaks(before);
});

/** A connected pair: [client, server], both past the handshake. */
async function pair(): Promise<[RtmpConnection, RtmpConnection]> {
  const accepted = new Promise<Socket>((resolve) => {
    server = createServer(resolve);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  const socket = tcpConnect({ host: '127.0.0.1', port: typeof a === 'object' && a ? a.port : 0 });
  await new Promise((resolve) => socket.once('connect', resolve));
  const client = new RtmpConnection(socket, 'client');
  const srv = new RtmpConnection(await accepted, 'server');
  open.push(client, srv);
  await waitUntil(() => client.ready && srv.ready, 2000, 'the handshake');
  return [client, srv];
}

function collect(conn: RtmpConnection): RtmpMessage[] {
  const list: RtmpMessage[] = [];
  conn.on('message', (m) => list.push(m));
  return list;
}

describe('RtmpConnection', { timeout: 10000 }, () => {
  test('connection.send() delivers messages both ways after the handshake, with a larger chunk size', async () => {
    const [client, srv] = await pair();
    const atServer = collect(srv);
    const atClient = collect(client);
    client.setChunkSize(4096);
    const big = Buffer.alloc(20000, 7);
    client.send({ csid: 6, type: MessageType.VIDEO, streamId: 1, timestamp: 40, body: big });
    srv.send({ csid: 3, type: MessageType.COMMAND_AMF0, streamId: 0, timestamp: 0, body: Buffer.from([5]) });
    await waitUntil(() => atServer.length === 1 && atClient.length === 1, 2000, 'both messages');
    assert.deepEqual(atServer[0].body, big);
    assert.equal(atServer[0].timestamp, 40);
    assert.deepEqual(atClient[0].body, Buffer.from([5]));
  });

  test('connection answers a Ping Request with a Ping Response carrying its timestamp', async () => {
    const [client, srv] = await pair();
    const events: [number, number][] = [];
    srv.on('control', (e) => events.push([e.event, e.value]));
    srv.send(userControlMessage(UserControlEvent.PING_REQUEST, 123456));
    await waitUntil(() => events.length > 0, 2000, 'the ping response');
    assert.deepEqual(events, [[UserControlEvent.PING_RESPONSE, 123456]]);
    assert.equal(client.closed, false);
  });

  test('connection acknowledges every Window Ack Size bytes and answers Set Peer Bandwidth with a Window Ack Size', async () => {
    const [client, srv] = await pair();
    srv.send(windowAckSizeMessage(5000));
    srv.send(setPeerBandwidthMessage(7777, 2));
    await waitUntil(() => srv.counters.messagesIn >= 1, 2000, 'the Window Ack Size answer');
    for (let i = 0; i < 4; i++) {
      srv.send({ csid: 6, type: MessageType.VIDEO, streamId: 1, timestamp: i, body: Buffer.alloc(3000, i) });
    }
    // The client read over 12000 bytes: it acknowledged at least twice, the last count over 10000.
    await waitUntil(() => srv.counters.peerAcknowledged > 10000, 2000, 'the acknowledgements');
    assert.ok(srv.counters.peerAcknowledged <= client.counters.bytesIn);
  });

  test('connection.close() emits close once on each side', async () => {
    const [client, srv] = await pair();
    let clientCloses = 0;
    let serverCloses = 0;
    client.on('close', () => clientCloses++);
    srv.on('close', () => serverCloses++);
    client.close();
    client.close();
    await waitUntil(() => serverCloses === 1, 2000, 'the server side to close');
    assert.equal(clientCloses, 1);
    assert.equal(srv.closed, true);
  });
});
