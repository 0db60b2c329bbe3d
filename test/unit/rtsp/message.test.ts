import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors.ts';
import { authorize, parseChallenges, RtspAuthenticator } from '../../../src/protocols/rtsp/auth.ts';
import {
  interleavedHeader,
  RtspDecoder,
  serializeRequest,
  serializeResponse,
} from '../../../src/protocols/rtsp/message.ts';
import {
  formatRtpInfo,
  formatTransport,
  parseRtpInfo,
  parseSession,
  parseTransports,
} from '../../../src/protocols/rtsp/transport.ts';

const DESCRIBE = 'DESCRIBE rtsp://127.0.0.1:8554/demo RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n';
const SDP = 'v=0\r\ns=x\r\n';
const RESPONSE = `RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`;

test('RtspDecoder.push() yields requests, responses and interleaved frames split at any byte', () => {
  const frame = Buffer.concat([interleavedHeader(1, 3), Buffer.from([7, 8, 9])]);
  const all = Buffer.concat([Buffer.from(DESCRIBE), frame, Buffer.from(RESPONSE), Buffer.from('\r\n')]);
  for (let split = 1; split < all.length; split += 7) {
    const d = new RtspDecoder();
    const items = [...d.push(all.subarray(0, split)), ...d.push(all.subarray(split))];
    assert.equal(items.length, 3, `split at ${split}`);
    const [req, fr, res] = items;
    assert.ok(req.kind === 'request' && req.method === 'DESCRIBE' && req.headers.get('cseq') === '2');
    assert.ok(fr.kind === 'frame' && fr.channel === 1 && fr.data.equals(Buffer.from([7, 8, 9])));
    assert.ok(res.kind === 'response' && res.status === 200 && res.body.toString() === SDP);
    assert.equal(d.buffered, 0);
  }
});

test('RtspDecoder.push() accepts bare LF line ends from sloppy cameras', () => {
  const items = new RtspDecoder().push(
    Buffer.from('RTSP/1.0 401 Unauthorized\nCSeq: 1\nWWW-Authenticate: Basic realm="x"\n\n'),
  );
  assert.equal(items.length, 1);
  assert.ok(items[0].kind === 'response' && items[0].status === 401);
});

test('RtspDecoder.push() rejects a huge header block, a lying Content-Length and a malformed request line with ParseError', () => {
  const d = new RtspDecoder({ maxHeaderBytes: 1024, maxBodyBytes: 2048 });
  assert.throws(() => d.push(Buffer.from(`OPTIONS * RTSP/1.0\r\nX: ${'a'.repeat(2000)}`)), ParseError);
  assert.throws(
    () => new RtspDecoder().push(Buffer.from('ANNOUNCE x RTSP/1.0\r\nContent-Length: 99999999\r\n\r\n')),
    ParseError,
  );
  assert.throws(
    () => new RtspDecoder().push(Buffer.from('ANNOUNCE x RTSP/1.0\r\nContent-Length: -1\r\n\r\n')),
    ParseError,
  );
  assert.throws(() => new RtspDecoder().push(Buffer.from('hello world\r\n\r\n')), ParseError);
});

test('serializeRequest() and serializeResponse() round-trip through RtspDecoder', () => {
  const req = serializeRequest(
    'ANNOUNCE',
    'rtsp://h/x',
    [
      ['cseq', '3'],
      ['content-type', 'application/sdp'],
    ],
    Buffer.from(SDP),
  );
  const res = serializeResponse(200, 'OK', [
    ['cseq', '3'],
    ['session', 'abc;timeout=60'],
  ]);
  const items = new RtspDecoder().push(Buffer.concat([req, res]));
  assert.ok(
    items[0].kind === 'request' &&
      items[0].body.toString() === SDP &&
      items[0].headers.get('content-type') === 'application/sdp',
  );
  assert.ok(items[1].kind === 'response' && items[1].headers.get('session') === 'abc;timeout=60');
  assert.match(req.toString(), /\r\nCSeq: 3\r\n/);
});

test('RtspDecoder.push() throws nothing but ParseError on random and mutated input', () => {
  const seeds = [
    Buffer.from(DESCRIBE),
    Buffer.from(RESPONSE),
    Buffer.concat([interleavedHeader(0, 2), Buffer.from([1, 2])]),
  ];
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.uint8Array({ maxLength: 64 }),
      (seed, flips, tail) => {
        const buf = Buffer.concat([seeds[seed], Buffer.from(tail)]);
        for (const [pos, val] of flips) buf[pos % buf.length] = val;
        try {
          const d = new RtspDecoder({ maxHeaderBytes: 512, maxBodyBytes: 512 });
          d.push(buf.subarray(0, buf.length >> 1));
          d.push(buf.subarray(buf.length >> 1));
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
        }
      },
    ),
    { seed: 42, numRuns: 3000 },
  );
});

test('parseTransports() reads TCP interleaved and UDP client ports; formatTransport() writes them back', () => {
  const [tcp] = parseTransports('RTP/AVP/TCP;unicast;interleaved=2-3');
  assert.deepEqual(tcp, { protocol: 'tcp', multicast: false, interleaved: [2, 3] });
  const [udp] = parseTransports('RTP/AVP;unicast;client_port=5000-5001;mode="RECORD"');
  assert.deepEqual(udp, { protocol: 'udp', multicast: false, clientPort: [5000, 5001], mode: 'record' });
  assert.equal(
    formatTransport({ ...udp, serverPort: [6000, 6001], ssrc: 0xabc }),
    'RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=00000ABC;mode=record',
  );
  assert.throws(() => parseTransports('RAW/RAW/UDP;unicast'), ParseError);
  assert.throws(() => parseTransports('RTP/AVP/TCP;interleaved=999-1000'), ParseError);
});

test('parseSession() and parseRtpInfo() read what cameras send', () => {
  assert.deepEqual(parseSession('47112344;timeout=60'), { id: '47112344', timeout: 60 });
  assert.deepEqual(
    parseRtpInfo(formatRtpInfo([{ url: 'rtsp://h/x/trackID=0', seq: 7, rtptime: 4294967295 }])),
    [{ url: 'rtsp://h/x/trackID=0', seq: 7, rtptime: 4294967295 }],
  );
});

test('authorize() answers a Digest challenge that RtspAuthenticator.check() accepts, and rejects a wrong password', () => {
  const server = new RtspAuthenticator('admin', 's3cret');
  const challenges = parseChallenges(server.challenges().join(', '));
  assert.deepEqual(
    challenges.map((c) => c.scheme),
    ['digest', 'basic'],
  );
  const good = authorize(challenges[0], 'admin', 's3cret', 'DESCRIBE', 'rtsp://h/x');
  assert.equal(server.check(good, 'DESCRIBE'), true);
  assert.equal(
    server.check(authorize(challenges[0], 'admin', 'wrong', 'DESCRIBE', 'rtsp://h/x'), 'DESCRIBE'),
    false,
  );
  assert.equal(server.check(authorize(challenges[1], 'admin', 's3cret', 'DESCRIBE', 'x'), 'DESCRIBE'), true);
  assert.equal(server.check(undefined, 'DESCRIBE'), false);
  // RFC 2617 §3.5 example, with qop=auth: the response must match the RFC's value.
  const rfc = parseChallenges(
    'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  )[0];
  assert.equal(rfc.nonce, 'dcd98b7102dd2f0e8b11d0f600bfb0c093');
  assert.match(
    authorize(rfc, 'Mufasa', 'Circle Of Life', 'GET', '/dir/index.html'),
    /qop=auth, nc=00000001, cnonce="[0-9a-f]{16}", response="[0-9a-f]{32}", opaque="5ccc069c403ebaf9f0171e9517f40e41"/,
  );
});
