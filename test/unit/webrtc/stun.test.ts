import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError, ParseError } from '../../../src/core/errors.ts';
import {
  appendFingerprint,
  bindingError,
  bindingRequest,
  bindingSuccess,
  bytesToIp,
  checkBindingRequest,
  crc32,
  decodeAddress,
  decodeErrorCode,
  encodeAddress,
  encodeErrorCode,
  ipToBytes,
  isStun,
  longTermKey,
  MAGIC_COOKIE,
  messageType,
  StunAttr,
  StunClass,
  StunMessage,
  StunMethod,
  splitMessageType,
  verifyFingerprint,
  verifyMessageIntegrity,
} from '../../../src/protocols/webrtc/stun/index.ts';
import { RFC5769 } from './stun-vectors.ts';

const PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';
const TID = Buffer.from('b7e7a701bc34d686fa87dfae', 'hex');

describe('RFC 5769 test vectors', () => {
  test('StunMessage.parse() reads the sample request (2.1) and its integrity and fingerprint verify', () => {
    const msg = StunMessage.parse(RFC5769.request);
    assert.equal(msg.method, StunMethod.Binding);
    assert.equal(msg.cls, StunClass.Request);
    assert.deepEqual(msg.transactionId, TID);
    assert.deepEqual(
      msg.attributes.map((a) => a.type),
      [
        StunAttr.Software,
        StunAttr.Priority,
        StunAttr.IceControlled,
        StunAttr.Username,
        StunAttr.MessageIntegrity,
        StunAttr.Fingerprint,
      ],
    );
    assert.equal(msg.text(StunAttr.Software), 'STUN test client');
    assert.equal(msg.username, 'evtj:h6vY');
    assert.equal(msg.priority, 0x6e0001ff);
    assert.equal(msg.iceControlled, 0x932ff9b151263b36n);
    assert.equal(msg.iceControlling, undefined);
    assert.equal(msg.useCandidate, false);
    assert.equal(verifyMessageIntegrity(RFC5769.request, PASSWORD), true);
    assert.equal(verifyMessageIntegrity(RFC5769.request, 'wrong'), false);
    assert.equal(verifyFingerprint(RFC5769.request), true);
  });

  test('StunMessage.parse() reads the IPv4 response (2.2) with its XOR-MAPPED-ADDRESS', () => {
    const msg = StunMessage.parse(RFC5769.responseIpv4);
    assert.equal(msg.cls, StunClass.SuccessResponse);
    assert.equal(msg.text(StunAttr.Software), 'test vector');
    assert.deepEqual(msg.xorMappedAddress, { family: 4, address: '192.0.2.1', port: 32853 });
    assert.equal(verifyMessageIntegrity(RFC5769.responseIpv4, PASSWORD), true);
    assert.equal(verifyFingerprint(RFC5769.responseIpv4), true);
  });

  test('StunMessage.parse() reads the IPv6 response (2.3) with its XOR-MAPPED-ADDRESS', () => {
    const msg = StunMessage.parse(RFC5769.responseIpv6);
    assert.deepEqual(msg.xorMappedAddress, {
      family: 6,
      address: '2001:db8:1234:5678:11:2233:4455:6677',
      port: 32853,
    });
    assert.equal(verifyMessageIntegrity(RFC5769.responseIpv6, PASSWORD), true);
    assert.equal(verifyFingerprint(RFC5769.responseIpv6), true);
  });

  test('StunMessage.serialize() reproduces the long-term-credential request (2.4) byte for byte', () => {
    const username = '\u30de\u30c8\u30ea\u30c3\u30af\u30b9';
    const key = longTermKey(username, 'example.org', 'TheMatrIX');
    const msg = StunMessage.create(
      StunMethod.Binding,
      StunClass.Request,
      Buffer.from('78ad3433c6ad72c029da412e', 'hex'),
    );
    msg.addText(StunAttr.Username, username);
    msg.addText(StunAttr.Nonce, 'f//499k954d6OL34oL9FSTvy64sA');
    msg.addText(StunAttr.Realm, 'example.org');
    assert.deepEqual(msg.serialize({ integrityKey: key }), RFC5769.requestLongTerm);
    assert.equal(verifyMessageIntegrity(RFC5769.requestLongTerm, key), true);
    assert.equal(verifyFingerprint(RFC5769.requestLongTerm), false);
  });

  test('StunMessage.serialize() builds the IPv4 response (2.2) up to its zero padding', () => {
    const msg = StunMessage.create(StunMethod.Binding, StunClass.SuccessResponse, TID);
    msg.addText(StunAttr.Software, 'test vector');
    msg.add(StunAttr.XorMappedAddress, encodeAddress({ address: '192.0.2.1', port: 32853 }, TID));
    const out = msg.serialize({ integrityKey: PASSWORD, fingerprint: true });
    // The RFC pads SOFTWARE with a space (0x20); we pad with zero, so only that byte differs
    // before MESSAGE-INTEGRITY, and our own integrity and fingerprint verify.
    const expected = Buffer.from(RFC5769.responseIpv4);
    expected[35] = 0;
    assert.equal(out.length, expected.length);
    assert.deepEqual(out.subarray(0, 52), expected.subarray(0, 52));
    assert.equal(verifyMessageIntegrity(out, PASSWORD), true);
    assert.equal(verifyFingerprint(out), true);
  });

  test('verifyMessageIntegrity() and verifyFingerprint() reject every single-byte change of the sample request', () => {
    for (let i = 0; i < RFC5769.request.length; i++) {
      const bad = Buffer.from(RFC5769.request);
      bad[i] ^= 0x01;
      let integrityOk = false;
      let fingerprintOk = false;
      try {
        integrityOk = verifyMessageIntegrity(bad, PASSWORD);
        fingerprintOk = verifyFingerprint(bad);
      } catch (err) {
        assert.ok(err instanceof ParseError);
      }
      assert.ok(!(integrityOk && fingerprintOk), `byte ${i}`);
    }
  });
});

describe('StunMessage', () => {
  test('messageType() and splitMessageType() interleave method and class bits', () => {
    assert.equal(messageType(StunMethod.Binding, StunClass.Request), 0x0001);
    assert.equal(messageType(StunMethod.Binding, StunClass.Indication), 0x0011);
    assert.equal(messageType(StunMethod.Binding, StunClass.SuccessResponse), 0x0101);
    assert.equal(messageType(StunMethod.Binding, StunClass.ErrorResponse), 0x0111);
    assert.equal(messageType(0x003, StunClass.Request), 0x0003); // TURN Allocate
    for (const method of [0x001, 0x00f, 0x010, 0x07f, 0x080, 0xfff]) {
      for (const cls of Object.values(StunClass))
        assert.deepEqual(splitMessageType(messageType(method, cls)), { method, cls });
    }
  });

  test('StunMessage.serialize() pads attributes and StunMessage.parse() reads them back unpadded', () => {
    const msg = StunMessage.create(StunMethod.Binding, StunClass.Indication, TID);
    for (let n = 0; n <= 9; n++) msg.add(0x8000 + n, Buffer.alloc(n, 0xab));
    const bytes = msg.serialize();
    assert.equal(bytes.length, msg.size());
    assert.equal(bytes.readUInt16BE(2) % 4, 0);
    const back = StunMessage.parse(bytes);
    assert.deepEqual(
      back.attributes.map((a) => [a.type, a.value.length]),
      msg.attributes.map((a) => [a.type, a.value.length]),
    );
    assert.deepEqual(back.serialize(), bytes);
  });

  test('StunMessage.parse() ignores bytes after the message length and does not mutate its input', () => {
    const bytes = Buffer.concat([RFC5769.request, Buffer.from([1, 2, 3])]);
    const copy = Buffer.from(bytes);
    const msg = StunMessage.parse(bytes);
    assert.equal(msg.raw?.length, RFC5769.request.length);
    verifyMessageIntegrity(bytes, PASSWORD);
    assert.deepEqual(bytes, copy);
  });

  test('StunMessage.parse() drops attributes after MESSAGE-INTEGRITY except FINGERPRINT', () => {
    const base = StunMessage.create(StunMethod.Binding, StunClass.Request, TID).serialize({
      integrityKey: 'pw',
    });
    const forged = Buffer.concat([base, Buffer.from([0x00, 0x25, 0x00, 0x00])]); // USE-CANDIDATE after MI
    forged.writeUInt16BE(forged.length - 20, 2);
    const msg = StunMessage.parse(appendFingerprint(forged));
    assert.equal(msg.useCandidate, false);
    assert.deepEqual(
      msg.attributes.map((a) => a.type),
      [StunAttr.MessageIntegrity, StunAttr.Fingerprint],
    );
  });

  test('StunMessage.parse() throws ParseError for short, misframed or truncated input', () => {
    const good = RFC5769.request;
    const withLength = (n: number) => {
      const b = Buffer.from(good);
      b.writeUInt16BE(n, 2);
      return b;
    };
    const cases: [string, Uint8Array][] = [
      ['empty', Buffer.alloc(0)],
      ['19 bytes', good.subarray(0, 19)],
      ['top bits set', Buffer.from([0x40, ...good.subarray(1)])],
      ['bad cookie', Buffer.from([...good.subarray(0, 4), 0x21, 0x12, 0xa4, 0x43, ...good.subarray(8)])],
      ['length not a multiple of 4', withLength(0x57)],
      ['length past the end', withLength(0x5c)],
      ['truncated body', good.subarray(0, good.length - 4)],
      ['attribute past the end', Buffer.concat([withLength(4), Buffer.alloc(0)]).subarray(0, 24)],
    ];
    const overflow = Buffer.from([...good.subarray(0, 20), 0x80, 0x22, 0x00, 0x10]);
    overflow.writeUInt16BE(4, 2);
    cases.push(['attribute value past the length', overflow]);
    for (const [name, bytes] of cases) assert.throws(() => StunMessage.parse(bytes), ParseError, name);
  });

  test('StunMessage getters throw ParseError for malformed attribute values', () => {
    const msg = StunMessage.create(StunMethod.Binding, StunClass.Request, TID);
    msg.add(StunAttr.Priority, Buffer.alloc(3));
    msg.add(StunAttr.XorMappedAddress, Buffer.from([0, 9, 0, 0, 1, 2, 3, 4]));
    msg.add(StunAttr.ErrorCode, Buffer.from([0, 0, 7, 0]));
    msg.add(StunAttr.IceControlling, Buffer.alloc(7));
    const back = StunMessage.parse(msg.serialize());
    assert.throws(() => back.priority, ParseError);
    assert.throws(() => back.xorMappedAddress, ParseError);
    assert.throws(() => back.errorCode, ParseError);
    assert.throws(() => back.iceControlling, ParseError);
  });

  test('isStun() accepts STUN and rejects RTP, DTLS, short and cookie-less packets', () => {
    assert.equal(isStun(RFC5769.request), true);
    assert.equal(isStun(RFC5769.responseIpv6), true);
    assert.equal(isStun(Buffer.from([0x80, ...RFC5769.request.subarray(1)])), false);
    assert.equal(isStun(Buffer.from([22, ...RFC5769.request.subarray(1)])), false);
    assert.equal(isStun(RFC5769.request.subarray(0, 19)), false);
    const noCookie = Buffer.from(RFC5769.request);
    noCookie.writeUInt32BE(MAGIC_COOKIE ^ 1, 4);
    assert.equal(isStun(noCookie), false);
  });
});

describe('STUN attributes', () => {
  test('encodeAddress() and decodeAddress() round-trip IPv4 and IPv6, plain and XORed', () => {
    for (const address of [
      '0.0.0.0',
      '192.168.1.50',
      '255.255.255.255',
      '::',
      '::1',
      '2001:db8::1',
      'fe80::a:b:c:d',
      '2001:db8:1:2:3:4:5:6',
    ]) {
      for (const tid of [undefined, TID]) {
        const v = encodeAddress({ address, port: 54321 }, tid);
        assert.deepEqual(decodeAddress(v, tid), {
          family: address.includes(':') ? 6 : 4,
          address,
          port: 54321,
        });
      }
    }
  });

  test('bytesToIp() writes RFC 5952 text and ipToBytes() reads the common IPv6 forms', () => {
    assert.equal(bytesToIp(ipToBytes('2001:0DB8:0000:0000:0000:0000:0000:0001')), '2001:db8::1');
    assert.equal(bytesToIp(ipToBytes('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
    assert.equal(bytesToIp(ipToBytes('0:0:0:0:0:0:0:0')), '::');
    assert.equal(bytesToIp(ipToBytes('1:0:2:3:4:5:6:7')), '1:0:2:3:4:5:6:7');
    assert.equal(bytesToIp(ipToBytes('::ffff:192.0.2.1')), '::ffff:c000:201');
    assert.equal(bytesToIp(ipToBytes('fe80::1%eth0')), 'fe80::1');
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.256',
      '::1::',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'g::1',
      'host.local',
      '1:2:3:4:5:6:7::8',
    ]) {
      assert.throws(() => ipToBytes(bad), BadRequestError, bad);
    }
  });

  test('encodeErrorCode() and decodeErrorCode() round-trip code and reason', () => {
    for (const code of [300, 400, 401, 420, 487, 500, 699]) {
      assert.deepEqual(decodeErrorCode(encodeErrorCode(code, 'Unauthorized \u2713')), {
        code,
        reason: 'Unauthorized \u2713',
      });
    }
    assert.throws(() => encodeErrorCode(200, 'x'), BadRequestError);
  });

  test('crc32() matches the CRC-32 check value', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
  });
});

describe('ICE-lite Binding exchange', () => {
  const local = { ufrag: 'evtj', pwd: PASSWORD };

  test('checkBindingRequest() accepts the RFC 5769 sample request for ufrag evtj', () => {
    assert.deepEqual(checkBindingRequest(StunMessage.parse(RFC5769.request), local), {
      ok: true,
      remoteUfrag: 'h6vY',
      priority: 0x6e0001ff,
      useCandidate: false,
      iceControlled: 0x932ff9b151263b36n,
    });
  });

  test('checkBindingRequest() answers 401 for a foreign ufrag or a wrong password', () => {
    const req = StunMessage.parse(RFC5769.request);
    assert.deepEqual(checkBindingRequest(req, { ufrag: 'other', pwd: PASSWORD }), {
      ok: false,
      code: 401,
      reason: 'USERNAME "evtj:h6vY" is not for us',
    });
    assert.equal((checkBindingRequest(req, { ufrag: 'evtj', pwd: 'nope' }) as { code?: number }).code, 401);
  });

  test('checkBindingRequest() answers 400 without MESSAGE-INTEGRITY and drops a bad fingerprint silently', () => {
    const noMi = StunMessage.create(StunMethod.Binding, StunClass.Request, TID).addText(
      StunAttr.Username,
      'evtj:x',
    );
    assert.equal(
      (checkBindingRequest(StunMessage.parse(noMi.serialize()), local) as { code?: number }).code,
      400,
    );
    const bad = Buffer.from(RFC5769.request);
    bad[bad.length - 1] ^= 1;
    assert.deepEqual(checkBindingRequest(StunMessage.parse(bad), local), {
      ok: false,
      reason: 'FINGERPRINT mismatch',
    });
    const indication = StunMessage.create(StunMethod.Binding, StunClass.Indication, TID);
    assert.equal(checkBindingRequest(indication, local).ok, false);
    assert.equal((checkBindingRequest(indication, local) as { code?: number }).code, undefined);
  });

  test('bindingRequest() from a controlling peer passes checkBindingRequest() with USE-CANDIDATE', () => {
    const bytes = bindingRequest({
      username: 'lite:full',
      remotePwd: 'litepassword',
      priority: 1853824767,
      iceControlling: 42n,
      useCandidate: true,
    });
    assert.deepEqual(checkBindingRequest(StunMessage.parse(bytes), { ufrag: 'lite', pwd: 'litepassword' }), {
      ok: true,
      remoteUfrag: 'full',
      priority: 1853824767,
      useCandidate: true,
      iceControlling: 42n,
    });
  });

  test('bindingSuccess() echoes the transaction id and maps the source with integrity and fingerprint', () => {
    const req = StunMessage.parse(RFC5769.request);
    for (const source of [
      { address: '203.0.113.7', port: 61000 },
      { address: '2001:db8::7', port: 9 },
    ]) {
      const bytes = bindingSuccess(req, source, 'localpw');
      const res = StunMessage.parse(bytes);
      assert.equal(res.type, 0x0101);
      assert.deepEqual(res.transactionId, TID);
      assert.deepEqual(res.xorMappedAddress, { family: source.address.includes(':') ? 6 : 4, ...source });
      assert.equal(verifyMessageIntegrity(bytes, 'localpw'), true);
      assert.equal(verifyFingerprint(bytes), true);
    }
  });

  test('bindingError() carries ERROR-CODE and integrity only when a password is given', () => {
    const req = StunMessage.parse(RFC5769.request);
    const unauthorized = StunMessage.parse(bindingError(req, 401, 'Unauthorized'));
    assert.equal(unauthorized.type, 0x0111);
    assert.deepEqual(unauthorized.errorCode, { code: 401, reason: 'Unauthorized' });
    assert.equal(unauthorized.has(StunAttr.MessageIntegrity), false);
    const conflict = bindingError(req, 487, 'Role Conflict', 'localpw');
    assert.equal(verifyMessageIntegrity(conflict, 'localpw'), true);
    assert.equal(verifyFingerprint(conflict), true);
  });
});
