/**
 * The transport's pure and in-memory pieces: the certificate, candidates, DCEP, and the DTLS
 * session (with werift's DtlsClient over an in-memory link) including the close_notify record.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { DtlsClient } from 'werift';
import { ParseError } from '../../../src/core/errors.ts';
import {
  DTLS_SRTP_EXPORTER_LABEL,
  keyingMaterialLength,
  keyingMaterialToContexts,
} from '../../../src/protocols/webrtc/srtp/index.ts';
import {
  candidateValues,
  hostAddresses,
  parseAnnounced,
} from '../../../src/protocols/webrtc/transport/candidates.ts';
import {
  createCertificate,
  fingerprint,
  matchesFingerprint,
} from '../../../src/protocols/webrtc/transport/certificate.ts';
import {
  decodeMessage,
  encodeMessage,
  Ppid,
  parseOpen,
  serializeOpen,
} from '../../../src/protocols/webrtc/transport/dcep.ts';
import {
  closeNotifyRecord,
  DtlsSession,
  type SrtpKeys,
} from '../../../src/protocols/webrtc/transport/dtls.ts';
import { parseCandidate } from '../../../src/sdp/index.ts';
import { rtpPacket, startServer, until } from './transport-client.ts';

describe('certificate', () => {
  test('createCertificate() makes a self-signed ECDSA P-256 certificate whose fingerprint Node agrees with', () => {
    const c = createCertificate();
    const x = new X509Certificate(c.certPem);
    assert.equal(x.subject, 'CN=mediagate');
    assert.equal(x.verify(x.publicKey), true);
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(c.fingerprint.algorithm, 'sha-256');
    assert.equal(c.fingerprint.value, x.fingerprint256);
    assert.ok(c.der.equals(x.raw));
    assert.match(c.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  });

  test('matchesFingerprint() accepts any listed algorithm, ignores unknown ones and case', () => {
    const c = createCertificate();
    const sha1 = fingerprint(c.der, 'SHA-1') ?? '';
    assert.equal(matchesFingerprint(c.der, [{ algorithm: 'sha-1', value: sha1.toLowerCase() }]), true);
    assert.equal(matchesFingerprint(c.der, [{ algorithm: 'md9', value: 'AB' }, c.fingerprint]), true);
    assert.equal(matchesFingerprint(c.der, [{ algorithm: 'md9', value: 'AB' }]), false);
    assert.equal(
      matchesFingerprint(c.der, [{ algorithm: 'sha-256', value: createCertificate().fingerprint.value }]),
      false,
    );
    assert.equal(matchesFingerprint(c.der, []), false);
  });
});

describe('candidates', () => {
  test('candidateValues() writes UDP and passive TCP host candidates that parseCandidate() reads back, UDP ranked first', () => {
    const values = candidateValues([{ address: '192.0.2.7', udpPort: 8555, tcpPort: 8556 }], 'any');
    assert.deepEqual(values, [
      '1 1 udp 2130706431 192.0.2.7 8555 typ host',
      '2 1 tcp 2124414975 192.0.2.7 8556 typ host tcptype passive',
    ]);
    const [udp, tcp] = values.map((v) => parseCandidate(v));
    assert.ok(udp && tcp && udp.priority > tcp.priority);
    assert.deepEqual(tcp?.extensions, [['tcptype', 'passive']]);
    assert.equal(candidateValues([{ address: '192.0.2.7', udpPort: 1, tcpPort: 2 }], 'udp').length, 1);
    assert.match(
      candidateValues([{ address: '192.0.2.7', udpPort: 1, tcpPort: 2 }], 'tcp')[0],
      / tcp .* tcptype passive$/,
    );
  });

  test('parseAnnounced() reads ip:port, [ipv6]:port and a bare ip, and refuses names and bad ports', () => {
    assert.deepEqual(parseAnnounced('203.0.113.5:8555', 1, 2), {
      address: '203.0.113.5',
      udpPort: 8555,
      tcpPort: 8555,
    });
    assert.deepEqual(parseAnnounced('[2001:db8::1]:9000', 1, 2), {
      address: '2001:db8::1',
      udpPort: 9000,
      tcpPort: 9000,
    });
    assert.deepEqual(parseAnnounced('203.0.113.5', 1, 2), { address: '203.0.113.5', udpPort: 1, tcpPort: 2 });
    assert.deepEqual(parseAnnounced('2001:db8::2', 1, 2), { address: '2001:db8::2', udpPort: 1, tcpPort: 2 });
    for (const bad of ['example.com:8555', '203.0.113.5:0', '203.0.113.5:70000', '203.0.113.5:x', '']) {
      assert.equal(parseAnnounced(bad, 1, 2), undefined, bad);
    }
  });

  test('hostAddresses() returns the bound address itself, and only IPv4 addresses for 0.0.0.0', () => {
    assert.deepEqual(hostAddresses('127.0.0.1'), ['127.0.0.1']);
    const all = hostAddresses('0.0.0.0');
    assert.ok(all.length > 0);
    assert.ok(all.every((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)));
  });

  test('server.candidates() lists 127.0.0.1 when bound to it, then announced addresses, filtered by protocol', {
    timeout: 5000,
  }, async () => {
    const server = await startServer({ announcedAddresses: ['203.0.113.5:8555', 'junk'] });
    try {
      const { udpPort, tcpPort } = server.ports;
      assert.equal(udpPort, tcpPort, 'same number for UDP and TCP by default');
      const all = server.candidates('any').map((c) => parseCandidate(c));
      assert.deepEqual(
        all.map((c) => `${c?.transport} ${c?.address} ${c?.port}`),
        [
          `udp 127.0.0.1 ${udpPort}`,
          `tcp 127.0.0.1 ${tcpPort}`,
          'udp 203.0.113.5 8555',
          'tcp 203.0.113.5 8555',
        ],
      );
      assert.ok(server.candidates('udp').every((c) => c.includes(' udp ')));
      assert.ok(server.candidates('tcp').every((c) => c.endsWith('tcptype passive')));
    } finally {
      await server.close();
    }
  });
});

describe('DCEP', () => {
  test('parseOpen() reads what serializeOpen() writes, with UTF-8 label and protocol', () => {
    const open = { channelType: 0x80, priority: 256, reliability: 0, label: 'chät', protocol: 'json' };
    assert.deepEqual(parseOpen(serializeOpen(open)), open);
  });

  test('parseOpen() throws ParseError for a short message, a wrong type or lengths past the end', () => {
    const good = serializeOpen({ channelType: 0, priority: 0, reliability: 0, label: 'a', protocol: '' });
    assert.throws(() => parseOpen(good.subarray(0, 11)), ParseError);
    assert.throws(() => parseOpen(Buffer.concat([Buffer.from([0x02]), good.subarray(1)])), ParseError);
    const lying = Buffer.from(good);
    lying.writeUInt16BE(500, 8);
    assert.throws(() => parseOpen(lying), ParseError);
  });

  test('encodeMessage() and decodeMessage() keep text, binary and empty messages apart (RFC 8831 §6.6)', () => {
    for (const data of ['hi', '', Buffer.from([1, 2]), Buffer.alloc(0)]) {
      const { ppid, payload } = encodeMessage(data);
      assert.ok(payload.length > 0, 'SCTP cannot carry empty user data');
      assert.deepEqual(decodeMessage(ppid, payload), data);
    }
    assert.equal(encodeMessage('').ppid, Ppid.StringEmpty);
    assert.equal(decodeMessage(52, Buffer.from('x')), undefined);
  });
});

/** Our DtlsSession and werift's DtlsClient joined in memory (each packet delivered on a later turn). */
function dtlsPair(fingerprints?: { algorithm: string; value: string }[]) {
  const serverCert = createCertificate();
  const clientCert = createCertificate();
  const toServer: Buffer[] = [];
  const fromServer: Buffer[] = [];
  const events: { keys?: SrtpKeys; connected: boolean; closed?: Error; data: Buffer[] } = {
    connected: false,
    data: [],
  };
  const clientLink = {
    type: 'memory',
    address: { address: '', family: 'IPv4', port: 0 },
    closed: false,
    onData: (_: Buffer, __: unknown) => {},
    send: async (b: Buffer) => {
      setImmediate(() => session.receive(b));
      toServer.push(b);
    },
    close: async () => {},
  };
  const session: DtlsSession = new DtlsSession({
    certificate: serverCert,
    remoteFingerprints: fingerprints ?? [clientCert.fingerprint],
    srtpProfiles: ['SRTP_AEAD_AES_128_GCM', 'SRTP_AES128_CM_HMAC_SHA1_80'],
    send: (b) => {
      fromServer.push(b);
      setImmediate(() => clientLink.onData(b, ['', 0]));
    },
    onConnected: (keys) => {
      events.connected = true;
      events.keys = keys;
    },
    onData: (d) => events.data.push(d),
    onClosed: (err) => {
      events.closed = err;
    },
  });
  const client = new DtlsClient({
    // biome-ignore lint/suspicious/noExplicitAny: an in-memory werift Transport
    transport: clientLink as any,
    cert: clientCert.certPem,
    key: clientCert.keyPem,
    signatureHash: { hash: 4, signature: 3 },
    srtpProfiles: [1, 7],
    extendedMasterSecret: true,
  });
  return { session, client, events, fromServer, toServer };
}

describe('DtlsSession', () => {
  test('DtlsSession connects werift DtlsClient, checks its fingerprint, and exports SRTP keys both sides agree on', {
    timeout: 5000,
  }, async () => {
    const { session, client, events } = dtlsPair();
    try {
      await client.connect();
      await until(() => events.connected, 3000, 'server connected');
      assert.equal(events.keys?.profile, 'SRTP_AEAD_AES_128_GCM', "the server's preference wins");
      const profile = events.keys?.profile ?? 'SRTP_AEAD_AES_128_GCM';
      const material = client.exportKeyingMaterial(DTLS_SRTP_EXPORTER_LABEL, keyingMaterialLength(profile));
      const theirs = keyingMaterialToContexts(material, profile, true);
      const pkt = rtpPacket(96, 1, 1, 42, Buffer.from('payload'));
      assert.ok(
        theirs.remote.unprotectRtp(events.keys?.local.protectRtp(pkt) ?? Buffer.alloc(0)).equals(pkt),
      );
      await client.send(Buffer.from('sctp bytes'));
      await until(() => events.data.length === 1, 1000, 'application data');
      assert.equal(events.data[0].toString(), 'sctp bytes');
    } finally {
      session.close();
    }
  });

  test('DtlsSession.close() sends one close_notify alert record in epoch 1 with the next sequence number, which werift decrypts', {
    timeout: 5000,
  }, async () => {
    const { session, client, events, fromServer } = dtlsPair();
    let clientClosed = 0;
    client.onClose.subscribe(() => clientClosed++);
    await client.connect();
    await until(() => events.connected, 3000, 'server connected');
    session.send(Buffer.from('last data'));
    const lastData = fromServer.at(-1) ?? Buffer.alloc(0);
    assert.equal(lastData[0], 23, 'application data record');
    session.close();
    session.close();
    const alert = fromServer.at(-1) ?? Buffer.alloc(0);
    assert.equal(fromServer.at(-2), lastData, 'exactly one record more');
    assert.equal(alert[0], 21, 'content type alert');
    assert.equal(alert.readUInt16BE(1), 0xfefd, 'DTLS 1.2');
    assert.equal(alert.readUInt16BE(3), 1, 'epoch 1');
    assert.equal(
      alert.readUIntBE(5, 6),
      lastData.readUIntBE(5, 6) + 1,
      'sequence number follows the last record',
    );
    assert.equal(alert.readUInt16BE(11), alert.length - 13);
    assert.equal(alert.length - 13, 8 + 2 + 16, 'explicit nonce, sealed level+description, GCM tag');
    await until(() => clientClosed === 1, 1000, 'werift saw the alert');
    session.send(Buffer.from('after close'));
    assert.equal(fromServer.at(-1), alert, 'nothing leaves after the alert');
  });

  test("DtlsSession reports the peer's close_notify as closed", { timeout: 5000 }, async () => {
    const { session, client, events } = dtlsPair();
    try {
      await client.connect();
      await until(() => events.connected, 3000, 'server connected');
      session.receive(closeNotifyRecord(client));
      assert.match(String(events.closed?.message), /close_notify/);
    } finally {
      session.close();
    }
  });

  test('DtlsSession reports a certificate that does not match the SDP fingerprint', {
    timeout: 5000,
  }, async () => {
    const { session, client, events } = dtlsPair([createCertificate().fingerprint]);
    try {
      client.connect().catch(() => {});
      await until(() => events.closed !== undefined, 3000, 'fingerprint failure');
      assert.match(String(events.closed?.message), /does not match the SDP fingerprint/);
      assert.equal(events.connected, false);
    } finally {
      session.close();
    }
  });

  test('DtlsSession.receive() takes garbage and truncated records without throwing', () => {
    const { session } = dtlsPair();
    for (const junk of [Buffer.from([22]), Buffer.from([22, 0xfe, 0xfd, 0, 0]), Buffer.alloc(40, 0x17)]) {
      assert.doesNotThrow(() => session.receive(junk));
    }
    session.close();
    assert.equal(session.receive(Buffer.from([22])), false);
  });
});
