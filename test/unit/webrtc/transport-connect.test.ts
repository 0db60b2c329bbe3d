/**
 * WebRtcServer / WebRtcTransport against werift's RTCPeerConnection as the client: ICE-lite over
 * the shared UDP and TCP ports, DTLS, SRTP both ways, DataChannels, and the DTLS close alert.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, test } from 'node:test';
import { RtcpRrPacket, RtpHeader } from 'werift';
import { activeResources, assertNoLeaks } from '../../helpers/leaks.ts';
import {
  type Client,
  closeClient,
  connectClient,
  once,
  rtcpReceiverReport,
  rtpPacket,
  startServer,
  until,
} from './transport-client.ts';

const T = { timeout: 20_000 };

async function exchangeMedia(client: Client): Promise<void> {
  const { pc, transport, vp8 } = client;
  const dtls = pc.dtlsTransports[0];
  // server -> client: RTP and RTCP arrive decrypted
  const gotRtp = new Promise<{ ssrc: number; payload: string }>((resolve) => {
    dtls.onRtp.subscribe((rtp) => {
      if (rtp.header.ssrc === 0x1234) resolve({ ssrc: rtp.header.ssrc, payload: rtp.payload.toString() });
    });
  });
  const gotRtcp = new Promise<number>((resolve) => {
    dtls.onRtcp.subscribe((rtcp) => {
      if (rtcp instanceof RtcpRrPacket && rtcp.ssrc === 0x6666) resolve(rtcp.ssrc);
    });
  });
  transport.sendRtp(rtpPacket(vp8, 1, 3000, 0x1234, Buffer.from('frame from server')));
  transport.sendRtcp(rtcpReceiverReport(0x6666));
  assert.deepEqual(await withTimeout(gotRtp, 3000, 'rtp at client'), {
    ssrc: 0x1234,
    payload: 'frame from server',
  });
  assert.equal(await withTimeout(gotRtcp, 3000, 'rtcp at client'), 0x6666);

  // client -> server
  const serverRtp = new Promise<Buffer>((resolve) => {
    transport.on('rtp', (p) => {
      if (p.readUInt32BE(8) === 0xabcd) resolve(p);
    });
  });
  const serverRtcp = new Promise<Buffer>((resolve) => {
    transport.on('rtcp', (p) => {
      if (p[1] === 201 && p.readUInt32BE(4) === 0x5555) resolve(p);
    });
  });
  await dtls.sendRtp(
    Buffer.from('frame from client'),
    new RtpHeader({ payloadType: vp8, sequenceNumber: 7, timestamp: 90, ssrc: 0xabcd }),
  );
  await dtls.sendRtcp([new RtcpRrPacket({ ssrc: 0x5555 })]);
  const rtp = await withTimeout(serverRtp, 3000, 'rtp at server');
  assert.equal(rtp[1] & 0x7f, vp8);
  assert.equal(rtp.readUInt16BE(2), 7);
  assert.equal(rtp.subarray(12).toString(), 'frame from client');
  await withTimeout(serverRtcp, 3000, 'rtcp at server');
  assert.ok(transport.counters.rtpIn >= 1 && transport.counters.rtpOut >= 1);
  assert.equal(transport.counters.srtpErrors, 0);
}

async function echoOverDataChannel(client: Client): Promise<void> {
  const [serverSide] = client.serverChannels;
  assert.equal(serverSide.label, 'client');
  assert.equal(serverSide.readyState, 'open');
  serverSide.on('message', (m) => serverSide.send(`echo ${m}`));
  const reply = new Promise<string>((resolve) =>
    client.channel.onMessage.subscribe((m) => resolve(m.toString())),
  );
  client.channel.send('hello');
  assert.equal(await withTimeout(reply, 3000, 'datachannel echo'), 'echo hello');
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

describe('WebRtcServer with a werift client', () => {
  for (const protocol of ['udp', 'tcp'] as const) {
    test(
      `server.createTransport() connects a client over ${protocol.toUpperCase()}: ICE-lite, DTLS, SRTP both ways`,
      T,
      async () => {
        const before = activeResources();
        const server = await startServer();
        let client: Client | undefined;
        try {
          client = await connectClient(server, protocol);
          const { transport } = client;
          assert.equal(transport.state, 'connected');
          assert.equal(transport.selected?.protocol, protocol);
          assert.equal(transport.selected?.address, '127.0.0.1');
          assert.equal(transport.srtpProfile, 'SRTP_AEAD_AES_128_GCM');
          assert.equal(server.transportCount, 1);
          await exchangeMedia(client);
          if (protocol === 'tcp') assert.equal(typeof transport.backlogBytes(), 'number');
        } finally {
          await closeClient(client);
          await server.close();
        }
        await assertNoLeaks(before, 3000);
      },
    );
  }

  test(
    'server.createTransport() negotiates SRTP_AES128_CM_HMAC_SHA1_80 when it is the only profile offered',
    T,
    async () => {
      const server = await startServer({ srtpProfiles: ['SRTP_AES128_CM_HMAC_SHA1_80'] });
      let client: Client | undefined;
      try {
        client = await connectClient(server, 'udp');
        assert.equal(client.transport.srtpProfile, 'SRTP_AES128_CM_HMAC_SHA1_80');
        await exchangeMedia(client);
      } finally {
        await closeClient(client);
        await server.close();
      }
    },
  );

  test('transport.sendRtp() drops and counts packets before the transport is connected', T, async () => {
    const server = await startServer();
    try {
      const t = server.createTransport({
        remoteUfrag: 'abcd',
        remotePwd: 'x'.repeat(22),
        remoteFingerprints: [],
        transports: 'any',
      });
      t.sendRtp(rtpPacket(96, 1, 1, 1, Buffer.alloc(10)));
      t.sendRtcp(rtcpReceiverReport(1));
      assert.equal(t.counters.dropped, 2);
      assert.equal(t.counters.rtpOut, 0);
      assert.equal(t.backlogBytes(), 0);
    } finally {
      await server.close();
    }
  });

  for (const protocol of ['udp', 'tcp'] as const) {
    test(
      `transport.close() sends a DTLS close_notify that the client sees at once over ${protocol.toUpperCase()}`,
      T,
      async () => {
        const server = await startServer();
        let client: Client | undefined;
        try {
          client = await connectClient(server, protocol);
          const { pc, transport } = client;
          let closes = 0;
          let reason: Error | undefined | null = null;
          transport.on('close', (r) => {
            closes++;
            reason = r;
          });
          const started = Date.now();
          transport.close();
          transport.close();
          await until(() => pc.dtlsTransports[0].state === 'closed', 1000, 'client DTLS closed by the alert');
          assert.ok(Date.now() - started < 1000);
          assert.equal(closes, 1);
          assert.equal(reason, undefined);
          assert.equal(transport.state, 'closed');
          assert.equal(server.transportCount, 0);
          transport.sendRtp(rtpPacket(96, 1, 1, 1, Buffer.alloc(4)));
          assert.equal(transport.counters.dropped, 1);
        } finally {
          await closeClient(client);
          await server.close();
        }
      },
    );
  }

  test(
    'server.close() with live UDP and TCP sessions sends every close alert before any socket closes, and does not throw (mediasoup #1388)',
    T,
    async () => {
      const before = activeResources();
      const server = await startServer();
      const clients: Client[] = [];
      const violations: string[] = [];
      const tcpWrite = net.Socket.prototype.write;
      const udpSend = dgram.Socket.prototype.send;
      try {
        clients.push(await connectClient(server, 'udp'), await connectClient(server, 'tcp'));
        const [udpClient, tcpClient] = clients;
        for (const c of clients) c.transport.createDataChannel('live').on('open', () => {});
        // Regression guard: every write the server makes must go to a socket that is still open.
        net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
          if ((this as net.Socket & { server?: unknown }).server && (this.destroyed || this.writableEnded)) {
            violations.push('tcp write after end/destroy');
          }
          return (tcpWrite as (...a: unknown[]) => boolean).apply(this, args);
        } as typeof tcpWrite;
        dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
          try {
            return (udpSend as (...a: unknown[]) => void).apply(this, args);
          } catch (err) {
            violations.push(`udp send on a closed socket: ${(err as Error).message}`);
            throw err;
          }
        } as typeof udpSend;
        const closeEvents: (Error | undefined)[] = [];
        for (const c of clients) c.transport.on('close', (r) => closeEvents.push(r));
        const first = server.close();
        const second = server.close();
        assert.equal(first, second);
        await first;
        assert.deepEqual(violations, []);
        assert.equal(closeEvents.length, 2);
        assert.equal(server.transportCount, 0);
        await until(
          () => udpClient.pc.dtlsTransports[0].state === 'closed',
          1000,
          'UDP client saw the alert',
        );
        await until(
          () => tcpClient.pc.dtlsTransports[0].state === 'closed',
          1000,
          'TCP client saw the alert',
        );
        await server.close(); // a no-op
      } finally {
        net.Socket.prototype.write = tcpWrite;
        dgram.Socket.prototype.send = udpSend;
        for (const c of clients) await closeClient(c);
        await server.close();
      }
      await assertNoLeaks(before, 3000);
    },
  );

  test('transport "datachannel" and DataChannel.send() carry a client message and the reply', T, async () => {
    const server = await startServer();
    let client: Client | undefined;
    try {
      client = await connectClient(server, 'udp');
      await echoOverDataChannel(client);
    } finally {
      await closeClient(client);
      await server.close();
    }
  });

  test('transport.createDataChannel() opens a channel the client receives', T, async () => {
    const server = await startServer();
    let client: Client | undefined;
    try {
      client = await connectClient(server, 'tcp');
      const opened = new Promise<{ label: string }>((resolve) =>
        client?.pc.onDataChannel.subscribe((ch) => resolve(ch)),
      );
      const ch = client.transport.createDataChannel('from-server');
      await once(ch, 'open', 3000, 'server channel open');
      assert.equal(ch.readyState, 'open');
      assert.equal(ch.id % 2, 1, 'the DTLS server uses odd stream ids');
      assert.equal((await withTimeout(opened, 3000, 'client datachannel')).label, 'from-server');
    } finally {
      await closeClient(client);
      await server.close();
    }
  });
});
