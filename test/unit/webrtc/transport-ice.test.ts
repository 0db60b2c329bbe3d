/**
 * The shared ports under hostile and odd input: STUN with an unknown username, bad integrity or no
 * integrity, garbage, unroutable packets, lying RFC 4571 lengths, silent TCP connections; ICE
 * consent freshness; and handle accounting over many transports.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, test } from 'node:test';
import { frame } from '../../../src/protocols/webrtc/framing.ts';
import { bindingRequest, StunClass, StunMessage } from '../../../src/protocols/webrtc/stun/index.ts';
import type { WebRtcServer, WebRtcTransport } from '../../../src/protocols/webrtc/transport/index.ts';
import { activeResources, assertNoLeaks } from '../../helpers/leaks.ts';
import {
  type Client,
  closeClient,
  connectClient,
  once,
  rtpPacket,
  startServer,
  until,
} from './transport-client.ts';

const T = { timeout: 20_000 };

function request(username: string, pwd: string, useCandidate = false): Buffer {
  return bindingRequest({ username, remotePwd: pwd, priority: 1, iceControlling: 1n, useCandidate });
}

/** A UDP socket on 127.0.0.1 that records what it receives. */
async function rawUdp(): Promise<{
  sock: dgram.Socket;
  got: Buffer[];
  send(b: Buffer, port: number): void;
  close(): Promise<void>;
}> {
  const sock = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return {
    sock,
    got,
    send: (b, port) => sock.send(b, port, '127.0.0.1'),
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

function errorCodeOf(buf: Buffer | undefined): number | undefined {
  if (!buf) return undefined;
  const msg = StunMessage.parse(buf);
  assert.equal(msg.cls, StunClass.ErrorResponse);
  return msg.errorCode?.code;
}

/** DataChannel echo and one RTP packet each way still work. */
async function assertSessionWorks(client: Client): Promise<void> {
  const [serverSide] = client.serverChannels;
  const echo = (m: Buffer | string) => serverSide.send(`echo ${m}`);
  serverSide.on('message', echo);
  const reply = new Promise<string>((resolve) =>
    client.channel.onMessage.subscribe((m) => resolve(m.toString())),
  );
  client.channel.send('still there?');
  const got = await Promise.race([reply, new Promise<string>((r) => setTimeout(() => r('timeout'), 3000))]);
  serverSide.off('message', echo);
  assert.equal(got, 'echo still there?');
  const rtp = new Promise<boolean>((resolve) =>
    client.pc.dtlsTransports[0].onRtp.subscribe(() => resolve(true)),
  );
  client.transport.sendRtp(rtpPacket(client.vp8, 100, 1, 0x77, Buffer.from('x')));
  assert.equal(
    await Promise.race([rtp, new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]),
    true,
  );
  assert.equal(client.transport.state, 'connected');
}

describe('WebRtcServer under bad input', () => {
  test(
    'server drops and counts STUN with an unknown username, bad or missing integrity, garbage and unroutable packets while a UDP session keeps working',
    T,
    async () => {
      const server = await startServer();
      let client: Client | undefined;
      const raw = await rawUdp();
      try {
        client = await connectClient(server, 'udp');
        const { transport: t } = client;
        const port = server.ports.udpPort;
        const c0 = { ...server.counters };

        raw.send(request('nobody:x', 'whatever-password-here'), port);
        raw.send(request(`${t.localUfrag}:${t.remoteUfrag}`, 'wrong-password-of-22+ch'), port);
        const noIntegrity = StunMessage.create(0x001, StunClass.Request);
        noIntegrity.addText(0x0006, `${t.localUfrag}:${t.remoteUfrag}`);
        raw.send(noIntegrity.serialize({ fingerprint: true }), port);
        await until(() => raw.got.length >= 3, 2000, 'three error responses');
        assert.deepEqual(raw.got.map(errorCodeOf).sort(), [400, 401, 401]);

        raw.send(
          Buffer.from([
            0x01, 0x01, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
          ]),
          port,
        ); // bad cookie
        raw.send(Buffer.from([0x00, 0x01]), port); // short
        raw.send(Buffer.from([0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), port); // DTLS from a stranger
        raw.send(rtpPacket(96, 1, 1, 1, Buffer.alloc(20)), port); // SRTP from a stranger
        raw.send(Buffer.from([0x50, 1, 2, 3]), port); // no RFC 7983 range
        raw.send(Buffer.alloc(0), port);
        await until(() => server.counters.udpIn - c0.udpIn >= 9, 2000, 'all datagrams counted');
        const d = (k: keyof typeof c0) => server.counters[k] - c0[k];
        assert.equal(d('stunUnknownUsername'), 1);
        assert.equal(d('stunRejected'), 2);
        assert.equal(d('stunMalformed'), 2);
        assert.equal(d('unrouted'), 4);
        assert.equal(raw.got.length, 3, 'garbage gets no answer');

        // A second authenticated path (no USE-CANDIDATE) does not move the selected one; forged SRTP on it is counted.
        const selected = t.selected;
        raw.send(request(`${t.localUfrag}:${t.remoteUfrag}`, t.localPwd), port);
        await until(() => raw.got.length >= 4, 2000, 'success response');
        assert.equal(StunMessage.parse(raw.got[3]).cls, StunClass.SuccessResponse);
        assert.equal(StunMessage.parse(raw.got[3]).xorMappedAddress?.port, raw.sock.address().port);
        assert.deepEqual(t.selected, selected);
        const srtpErrors = t.counters.srtpErrors;
        raw.send(rtpPacket(96, 1, 1, 1, Buffer.alloc(40, 7)), port);
        await until(() => t.counters.srtpErrors === srtpErrors + 1, 2000, 'forged SRTP counted');

        await assertSessionWorks(client);
      } finally {
        await raw.close();
        await closeClient(client);
        await server.close();
      }
    },
  );

  test(
    'server closes TCP connections that lie in their RFC 4571 length or send no valid STUN in time, while a TCP session keeps working',
    T,
    async () => {
      const server = await startServer({ tcpStunTimeoutMs: 300, sweepIntervalMs: 50 });
      let client: Client | undefined;
      const sockets: net.Socket[] = [];
      const connect = async () => {
        const s = net.connect(server.ports.tcpPort, '127.0.0.1');
        s.on('error', () => {});
        sockets.push(s);
        await once(s, 'connect', 2000);
        return s;
      };
      try {
        client = await connectClient(server, 'tcp');
        const { transport: t } = client;
        const c0 = { ...server.counters };

        const liar = await connect();
        liar.write(Buffer.from([0xff, 0xff, 0x00, 0x01, 0x02])); // 65535 > maxTcpFrameSize
        const stalled = await connect();
        stalled.write(Buffer.from([0x00, 0x64, 0x00, 0x01])); // 100 bytes promised, 2 sent
        const stranger = await connect();
        const answers: Buffer[] = [];
        stranger.on('data', (d) => answers.push(d));
        stranger.write(frame(request('nobody:x', 'whatever-password-here')));
        stranger.write(frame(Buffer.from([0x17, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]))); // DTLS before STUN

        await once(liar, 'close', 1000, 'liar closed');
        await Promise.all([
          once(stalled, 'close', 2000, 'stalled closed'),
          once(stranger, 'close', 2000, 'stranger closed'),
        ]);
        const answer = Buffer.concat(answers);
        assert.equal(answer.readUInt16BE(0), answer.length - 2, 'one framed response');
        assert.equal(errorCodeOf(answer.subarray(2)), 401);
        const d = (k: keyof typeof c0) => server.counters[k] - c0[k];
        assert.equal(d('tcpAccepted'), 3);
        assert.equal(d('tcpRejected'), 3);
        assert.equal(d('stunUnknownUsername'), 1);
        assert.equal(d('unrouted'), 1);
        assert.equal(t.selected?.protocol, 'tcp');
        await assertSessionWorks(client);
      } finally {
        for (const s of sockets) s.destroy();
        await closeClient(client);
        await server.close();
      }
    },
  );

  test('server refuses STUN over a protocol the transport does not allow', T, async () => {
    const server = await startServer();
    const raw = await rawUdp();
    try {
      const t = server.createTransport({
        remoteUfrag: 'peer',
        remotePwd: 'p'.repeat(22),
        remoteFingerprints: [],
        transports: 'tcp',
      });
      raw.send(request(`${t.localUfrag}:peer`, t.localPwd), server.ports.udpPort);
      await until(() => raw.got.length === 1, 2000, 'error response');
      assert.equal(errorCodeOf(raw.got[0]), 401);
      assert.equal(t.state, 'new');
      assert.equal(server.counters.stunRejected, 1);
    } finally {
      await raw.close();
      await server.close();
    }
  });
});

describe('ICE consent and timeouts', () => {
  test(
    'transport stays alive while valid STUN requests arrive and closes with a TimeoutError consentTimeoutMs after the last',
    T,
    async () => {
      const server = await startServer({
        consentTimeoutMs: 500,
        connectTimeoutMs: 60_000,
        sweepIntervalMs: 50,
      });
      const raw = await rawUdp();
      try {
        const t = server.createTransport({
          remoteUfrag: 'peer',
          remotePwd: 'p'.repeat(22),
          remoteFingerprints: [],
          transports: 'udp',
        });
        let reason: Error | undefined;
        let closes = 0;
        t.on('close', (r) => {
          closes++;
          reason = r;
        });
        for (let i = 0; i < 8; i++) {
          raw.send(request(`${t.localUfrag}:peer`, t.localPwd, true), server.ports.udpPort);
          await new Promise((r) => setTimeout(r, 150));
        }
        assert.equal(t.state, 'connecting');
        assert.deepEqual(t.selected, {
          protocol: 'udp',
          address: '127.0.0.1',
          port: raw.sock.address().port,
        });
        assert.equal(t.counters.stunIn, 8);
        const stopped = Date.now();
        await until(() => t.state === 'closed', 2000, 'consent expiry');
        assert.ok(Date.now() - stopped >= 300, 'not before the consent timeout');
        assert.equal(closes, 1);
        assert.equal((reason as { code?: string } | undefined)?.code, 'TIMEOUT');
        assert.match(String(reason?.message), /consent/);
        assert.equal(server.transportCount, 0);
        // its route is gone: DTLS from that address is now unrouted
        const unrouted = server.counters.unrouted;
        raw.send(Buffer.from([0x16, 0xfe, 0xfd, 0, 1]), server.ports.udpPort);
        await until(() => server.counters.unrouted === unrouted + 1, 2000, 'unrouted');
      } finally {
        await raw.close();
        await server.close();
      }
    },
  );

  test(
    'transport closes with a TimeoutError when ICE works but DTLS does not finish within connectTimeoutMs',
    T,
    async () => {
      const server = await startServer({ connectTimeoutMs: 400, sweepIntervalMs: 50 });
      const raw = await rawUdp();
      try {
        const t = server.createTransport({
          remoteUfrag: 'peer',
          remotePwd: 'p'.repeat(22),
          remoteFingerprints: [],
          transports: 'any',
        });
        raw.send(request(`${t.localUfrag}:peer`, t.localPwd, true), server.ports.udpPort);
        const [reason] = await once<[Error]>(t, 'close', 2000, 'connect timeout');
        assert.match(reason.message, /not connected/);
      } finally {
        await raw.close();
        await server.close();
      }
    },
  );
});

describe('WebRtcServer handle accounting', () => {
  test(
    'server.createTransport() and transport.close() 100 times return handles to the starting count',
    T,
    async () => {
      const server = await startServer();
      const raw = await rawUdp();
      try {
        const before = activeResources();
        const transports: WebRtcTransport[] = [];
        for (let i = 0; i < 100; i++) {
          transports.push(
            server.createTransport({
              remoteUfrag: `peer${i}`,
              remotePwd: 'p'.repeat(22),
              remoteFingerprints: [],
              transports: 'any',
            }),
          );
        }
        assert.equal(server.transportCount, 100);
        for (const t of transports.slice(0, 10))
          raw.send(request(`${t.localUfrag}:${t.remoteUfrag}`, t.localPwd, true), server.ports.udpPort);
        await until(() => raw.got.length === 10, 2000, 'ten success responses');
        for (const t of transports) t.close();
        for (const t of transports) t.close();
        assert.equal(server.transportCount, 0);
        await assertNoLeaks(before, 3000);
      } finally {
        await raw.close();
        await server.close();
      }
    },
  );

  test(
    'server.stopAccepting() refuses new transports and TCP connections; server.close() after it frees everything',
    T,
    async () => {
      const before = activeResources();
      const server: WebRtcServer = await startServer();
      server.stopAccepting();
      assert.throws(
        () =>
          server.createTransport({
            remoteUfrag: 'p',
            remotePwd: 'p'.repeat(22),
            remoteFingerprints: [],
            transports: 'any',
          }),
        { name: 'InvalidStateError' },
      );
      const s = net.connect(server.ports.tcpPort, '127.0.0.1');
      const refused = await new Promise<boolean>((resolve) => {
        s.on('error', () => resolve(true));
        s.on('close', () => resolve(true));
        s.on('connect', () => resolve(false));
      });
      s.destroy();
      assert.equal(refused, true);
      await server.close();
      await server.close();
      await assertNoLeaks(before, 3000);
    },
  );
});
