import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../../src/core/errors.ts';
import {
  formatCandidate,
  formatFmtpParams,
  getAttribute,
  parseCandidate,
  parseExtmap,
  parseFmtp,
  parseRtcpFb,
  parseRtpmap,
  parseSdp,
  parseSsrc,
  SDP_MAX_SIZE,
  serializeSdp,
  viewMedia,
  viewSession,
} from '../../../src/sdp/index.ts';

const crlf = (lines: string[]) => lines.map((l) => `${l}\r\n`).join('');

/** Canonical bodies: serializeSdp(parseSdp(x)) === x. One table feeds both directions. */
const ROUND_TRIP: [string, string[]][] = [
  ['minimal', ['v=0', 'o=- 0 0 IN IP4 0.0.0.0', 's=-', 't=0 0']],
  [
    'every session line type',
    [
      'v=0',
      'o=alice 2890844526 2890842807 IN IP4 10.47.16.5',
      's=SDP Seminar',
      'i=A Seminar on the session description protocol',
      'u=http://www.example.com/seminars/sdp.pdf',
      'e=j.doe@example.com (Jane Doe)',
      'p=+1 617 555-6011',
      'c=IN IP4 224.2.17.12/127',
      'b=CT:128',
      't=2873397496 2873404696',
      'r=7d 1h 0 25h',
      'z=2882844526 -1h 2898848070 0',
      'k=prompt',
      'a=recvonly',
      'm=audio 49170 RTP/AVP 0',
      'i=voice',
      'c=IN IP4 224.2.17.12/127',
      'b=AS:64',
      'k=prompt',
      'm=video 51372/2 RTP/AVP 99',
      'a=rtpmap:99 h263-1998/90000',
    ],
  ],
  [
    'IPv6 and flag attributes',
    [
      'v=0',
      'o=- 1 1 IN IP6 ::1',
      's=-',
      'c=IN IP6 ::1',
      't=0 0',
      'a=ice-lite',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'a=sctp-port:5000',
    ],
  ],
];

describe('parseSdp() and serializeSdp()', () => {
  for (const [name, lines] of ROUND_TRIP) {
    test(`serializeSdp() reproduces the ${name} description and parseSdp() reads it back`, () => {
      const text = crlf(lines);
      const sdp = parseSdp(text);
      assert.equal(serializeSdp(sdp), text);
      assert.deepEqual(parseSdp(serializeSdp(sdp)), sdp);
    });
  }

  test('parseSdp() reads every field of the RFC 8866 example', () => {
    const sdp = parseSdp(crlf(ROUND_TRIP[1][1]));
    assert.deepEqual(sdp.origin, {
      username: 'alice',
      sessionId: '2890844526',
      sessionVersion: '2890842807',
      netType: 'IN',
      addrType: 'IP4',
      address: '10.47.16.5',
    });
    assert.deepEqual(sdp.connection, { netType: 'IN', addrType: 'IP4', address: '224.2.17.12/127' });
    assert.deepEqual(sdp.timings, [{ start: '2873397496', stop: '2873404696', repeats: ['7d 1h 0 25h'] }]);
    assert.equal(sdp.medias[1].port, 51372);
    assert.equal(sdp.medias[1].portCount, 2);
    assert.deepEqual(sdp.medias[0].bandwidths, [{ type: 'AS', bandwidth: 64 }]);
    assert.equal(viewMedia(sdp.medias[1]).rtpmaps.get(99)?.encoding, 'H263-1998');
  });

  test('parseSdp() accepts LF, CR and CRLF line ends, blank lines and surrounding spaces', () => {
    const body = ['v=0', 'o=- 1 1 IN IP4 1.2.3.4', 's=x', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000'];
    const expected = parseSdp(crlf(body));
    assert.deepEqual(parseSdp(body.join('\n')), expected);
    assert.deepEqual(parseSdp(body.join('\r')), expected);
    assert.deepEqual(parseSdp(`\r\n\r\n  ${body.join('   \r\n\r\n\t')}  \n\n`), expected);
    assert.deepEqual(parseSdp(Buffer.from(body.join('\n'))), expected);
  });

  test('parseSdp() keeps unknown attributes in order at both levels', () => {
    const sdp = parseSdp(
      crlf(['v=0', 'a=zzz:1', 'a=tool:x', 'a=aaa', 'm=audio 0 RTP/AVP 0', 'a=b:2', 'a=x-foo', 'a=a:1']),
    );
    assert.deepEqual(sdp.attributes, [
      { key: 'zzz', value: '1' },
      { key: 'tool', value: 'x' },
      { key: 'aaa' },
    ]);
    assert.deepEqual(sdp.medias[0].attributes, [
      { key: 'b', value: '2' },
      { key: 'x-foo' },
      { key: 'a', value: '1' },
    ]);
  });

  test('parseSdp() skips unknown line types and lines without "="', () => {
    const sdp = parseSdp('v=0\nContent-Length: 12\ny=whatever\nq\n=\nm=video 0 RTP/AVP 96\nw=1\n');
    assert.equal(sdp.medias.length, 1);
    assert.deepEqual(sdp.medias[0].attributes, []);
  });

  test('parseSdp() accepts a body with only m= lines and defaults the origin', () => {
    const sdp = parseSdp('m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000');
    assert.equal(sdp.origin.address, '0.0.0.0');
    assert.equal(sdp.medias[0].kind, 'video');
  });

  test('parseSdp() fills a short o= line with defaults', () => {
    assert.deepEqual(parseSdp('v=0\no=- 42\n').origin, {
      username: '-',
      sessionId: '42',
      sessionVersion: '0',
      netType: 'IN',
      addrType: 'IP4',
      address: '0.0.0.0',
    });
  });

  test('parseSdp() keeps an m= line with port 0 and non-numeric formats', () => {
    const sdp = parseSdp('v=0\nm=application/TP-LINK 0 RTP/AVP smart/1/90000\n');
    assert.deepEqual(sdp.medias[0].formats, ['smart/1/90000']);
    assert.equal(sdp.medias[0].port, 0);
    assert.deepEqual(viewMedia(sdp.medias[0]).payloadTypes, []);
  });

  test('parseSdp() throws ParseError for text without v= or m= lines', () => {
    for (const bad of [
      '',
      '\r\n',
      'hello world',
      'RTSP/1.0 200 OK\r\nCSeq: 1\r\n',
      'a=rtpmap:96 H264/90000',
    ]) {
      assert.throws(() => parseSdp(bad), ParseError, JSON.stringify(bad));
    }
  });

  test('parseSdp() throws ParseError for an m= line without port or protocol, with the offset', () => {
    assert.throws(
      () => parseSdp('v=0\nm=video\n'),
      (err: unknown) => err instanceof ParseError && err.offset === 4,
    );
    assert.throws(() => parseSdp('v=0\r\nm=video x RTP/AVP 96\r\n'), ParseError);
    assert.throws(() => parseSdp('v=0\nm=video 70000 RTP/AVP 96\n'), ParseError);
  });

  test('parseSdp() throws ParseError for input over SDP_MAX_SIZE', () => {
    assert.throws(() => parseSdp(`v=0\n${'a=x\n'.repeat(SDP_MAX_SIZE / 4)}`), ParseError);
  });

  test('parseSdp() does not mutate a Buffer input', () => {
    const buf = Buffer.from('v=0\r\nm=video 0 RTP/AVP 96\r\n');
    const copy = Buffer.from(buf);
    parseSdp(buf);
    assert.deepEqual(buf, copy);
  });
});

describe('attribute parsers', () => {
  test('parseRtpmap() upper-cases the name and tolerates spaces and a trailing slash', () => {
    assert.deepEqual(parseRtpmap('96 H264/90000'), { payloadType: 96, encoding: 'H264', clockRate: 90000 });
    assert.deepEqual(parseRtpmap(' 96   h264 / 90000 '), {
      payloadType: 96,
      encoding: 'H264',
      clockRate: 90000,
    });
    assert.deepEqual(parseRtpmap('96 H264/90000/'), { payloadType: 96, encoding: 'H264', clockRate: 90000 });
    assert.deepEqual(parseRtpmap('111 opus/48000/2'), {
      payloadType: 111,
      encoding: 'OPUS',
      clockRate: 48000,
      channels: 2,
    });
    assert.deepEqual(parseRtpmap('97 mpeg4-generic/16000/1'), {
      payloadType: 97,
      encoding: 'MPEG4-GENERIC',
      clockRate: 16000,
      channels: 1,
    });
  });

  test('parseRtpmap() returns undefined for malformed values', () => {
    for (const bad of ['', '96', '96 H264', 'x H264/90000', '200 H264/90000', '96 H264/0', '96 H264/abc']) {
      assert.equal(parseRtpmap(bad), undefined, bad);
    }
  });

  test('parseFmtp() lower-cases keys, keeps "=" inside values and skips empty parts', () => {
    assert.deepEqual(
      parseFmtp('96 packetization-mode=1; Profile-Level-Id=42e01f;sprop-parameter-sets=Z0I=,aM4=;'),
      {
        payloadType: 96,
        params: {
          'packetization-mode': '1',
          'profile-level-id': '42e01f',
          'sprop-parameter-sets': 'Z0I=,aM4=',
        },
      },
    );
    assert.deepEqual(parseFmtp('101 0-15'), { payloadType: 101, params: { '0-15': '' } });
    assert.deepEqual(parseFmtp('96;mode=AAC-hbr'), { payloadType: 96, params: { mode: 'AAC-hbr' } });
    assert.deepEqual(parseFmtp('96'), { payloadType: 96, params: {} });
    assert.equal(parseFmtp('x a=b'), undefined);
  });

  test('formatFmtpParams() joins parameters with ";" in insertion order', () => {
    assert.equal(
      formatFmtpParams({ 'packetization-mode': '1', 'profile-level-id': '42e01f', flag: '' }),
      'packetization-mode=1;profile-level-id=42e01f;flag',
    );
  });

  test('parseCandidate() reads a relay candidate and formatCandidate() writes it back', () => {
    const value = '3 1 UDP 41885439 198.51.100.9 3478 typ relay raddr 203.0.113.7 rport 54321 generation 0';
    const c = parseCandidate(`candidate:${value}`);
    assert.equal(c?.transport, 'udp');
    assert.equal(c?.type, 'relay');
    assert.equal(c?.relatedPort, 54321);
    assert.equal(formatCandidate(c!), value.replace('UDP', 'udp'));
    assert.equal(parseCandidate('1 1 udp 1 1.2.3.4 5 host'), undefined);
    assert.equal(parseCandidate('1 1 udp x 1.2.3.4 5 typ host'), undefined);
    assert.equal(parseCandidate('1 1 udp 1 1.2.3.4 99999 typ host'), undefined);
  });

  test('parseExtmap() reads the id, an optional direction and extension attributes', () => {
    assert.deepEqual(parseExtmap('3/recvonly urn:x foo bar'), {
      id: 3,
      direction: 'recvonly',
      uri: 'urn:x',
      attributes: 'foo bar',
    });
    assert.equal(parseExtmap('0 urn:x'), undefined);
    assert.equal(parseExtmap('3/sideways urn:x'), undefined);
  });

  test('parseRtcpFb() accepts "*" and numeric payload types', () => {
    assert.deepEqual(parseRtcpFb('* transport-cc'), { payloadType: '*', type: 'transport-cc' });
    assert.deepEqual(parseRtcpFb('96 ccm fir'), { payloadType: 96, type: 'ccm', parameter: 'fir' });
    assert.equal(parseRtcpFb('96'), undefined);
  });

  test('parseSsrc() splits the attribute at the first colon only', () => {
    assert.deepEqual(parseSsrc('1 msid:a b'), { ssrc: 1, attribute: 'msid', value: 'a b' });
    assert.deepEqual(parseSsrc('4294967295 cname:x:y'), {
      ssrc: 4294967295,
      attribute: 'cname',
      value: 'x:y',
    });
    assert.equal(parseSsrc('4294967296 cname:x'), undefined);
  });

  test('getAttribute() matches keys case-insensitively and returns "" for flags', () => {
    const attrs = [{ key: 'Control', value: ' trackID=1 ' }, { key: 'rtcp-mux' }];
    assert.equal(getAttribute(attrs, 'control'), 'trackID=1');
    assert.equal(getAttribute(attrs, 'RTCP-MUX'), '');
    assert.equal(getAttribute(attrs, 'mid'), undefined);
  });

  test('viewMedia() falls back to session-level ICE, fingerprint, setup and direction', () => {
    const sdp = parseSdp(
      crlf([
        'v=0',
        'a=ice-lite',
        'a=ice-ufrag:u',
        'a=ice-pwd:p',
        'a=fingerprint:SHA-256 ab:cd',
        'a=setup:passive',
        'a=sendonly',
        'm=video 9 UDP/TLS/RTP/SAVPF 96',
        'a=mid:v',
        'm=audio 9 UDP/TLS/RTP/SAVPF 111',
        'a=ice-ufrag:u2',
        'a=setup:active',
        'a=inactive',
      ]),
    );
    const session = viewSession(sdp);
    assert.equal(session.iceLite, true);
    const [v, a] = sdp.medias.map((m) => viewMedia(m, session));
    assert.deepEqual([v.iceUfrag, v.icePwd, v.setup, v.direction], ['u', 'p', 'passive', 'sendonly']);
    assert.deepEqual(v.fingerprints, [{ algorithm: 'sha-256', value: 'AB:CD' }]);
    assert.deepEqual([a.iceUfrag, a.icePwd, a.setup, a.direction], ['u2', 'p', 'active', 'inactive']);
  });
});
