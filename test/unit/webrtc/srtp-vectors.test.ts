/**
 * SRTP known-answer tests: RFC 3711 Appendix B.2 (AES-CM key stream) and B.3 (key derivation),
 * RFC 7714 §16 and §17 (AEAD AES-GCM SRTP and SRTCP, stated in session keys), and a cross-check
 * of AES-CM/HMAC-SHA1 against an independent implementation built from node:crypto primitives.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  deriveKey,
  deriveSessionKeys,
  KdfLabel,
  type SessionKeys,
  SrtpContext,
  type SrtpProfile,
} from '../../../src/protocols/webrtc/srtp/index.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RFC 3711 Appendix B', () => {
  const masterKey = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const masterSalt = hex('0EC675AD498AFEEBB6960B3AABE6');

  test('deriveKey() reproduces the B.3 cipher key, salt and all 94 auth key bytes', () => {
    assert.equal(
      deriveKey(masterKey, masterSalt, KdfLabel.RtpEncryption, 16).toString('hex'),
      'c61e7a93744f39ee10734afe3ff7a087',
    );
    assert.equal(
      deriveKey(masterKey, masterSalt, KdfLabel.RtpSalt, 14).toString('hex'),
      '30cbbc08863d8c85d49db34a9ae1',
    );
    assert.deepEqual(
      deriveKey(masterKey, masterSalt, KdfLabel.RtpAuthentication, 94),
      hex(`CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE E049646C43D9327AD175578EF7227098
           6371C10C9A369AC2F94A8C5FBCDDDC25 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2`),
    );
  });

  test('deriveSessionKeys() gives the B.3 keys for the RTP direction of AES128_CM_HMAC_SHA1_80', () => {
    const { rtp } = deriveSessionKeys('SRTP_AES128_CM_HMAC_SHA1_80', masterKey, masterSalt);
    assert.equal(rtp.key.toString('hex'), 'c61e7a93744f39ee10734afe3ff7a087');
    assert.equal(rtp.salt.toString('hex'), '30cbbc08863d8c85d49db34a9ae1');
    assert.equal(rtp.authKey.toString('hex'), 'cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  });

  test('SrtpContext.protectRtp() XORs the B.2 key stream into the payload of SSRC 0, index 0', () => {
    const keys: SessionKeys = {
      key: hex('2B7E151628AED2A6ABF7158809CF4F3C'),
      salt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'),
      authKey: Buffer.alloc(20),
    };
    const ctx = SrtpContext.fromSessionKeys('SRTP_AES128_CM_HMAC_SHA1_80', keys, keys);
    const packet = Buffer.concat([hex('800000000000000000000000'), Buffer.alloc(48)]);
    const out = ctx.protectRtp(packet);
    assert.equal(
      out.subarray(12, 60).toString('hex'),
      'e03ead0935c95e80e166b16dd92b4eb4d23513162b02d0f72a43a2fe4a5f97ab41e95b3bb0a2e8dd477901e4fca894c0',
    );
  });
});

describe('RFC 7714 §16-17 AEAD AES-GCM', () => {
  const key128 = hex('000102030405060708090a0b0c0d0e0f');
  const key256 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const salt = hex('517569642070726f2071756f'); // "Quid pro quo"
  const rtp = Buffer.concat([
    hex('8040f17b8041f8d35501a0b2'),
    Buffer.from('Gallia est omnis divisa in partes tres'),
  ]);
  const rtcp = hex(
    '81c8000d4d617273 4e5450314e545032525450200000042a0000e9304c756e61 deadbeefdeadbeefdeadbeefdeadbeefdeadbeef',
  );
  const cases: [SrtpProfile, Buffer, string, string][] = [
    [
      'SRTP_AEAD_AES_128_GCM',
      key128,
      `8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833
       899d7f27beb16a9152cf765ee4390cce`,
      `81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa458
       96cf4d2fc5abf87245d9eade 800005d4`,
    ],
    [
      'SRTP_AEAD_AES_256_GCM',
      key256,
      `8040f17b8041f8d35501a0b2 32b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799b87b
       7aa3db36dfffd6b0f9bb7878d7a76c13`,
      `81c8000d4d617273 d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be8415f658c61de0476f1b6fad1d1eb30c
       4446839f57ff6f6cb26ac3be 800005d4`,
    ],
  ];
  const context = (profile: SrtpProfile, key: Buffer) => {
    const keys: SessionKeys = { key, salt, authKey: Buffer.alloc(0) };
    return SrtpContext.fromSessionKeys(profile, keys, keys);
  };

  for (const [profile, key, srtp, srtcp] of cases) {
    test(`SrtpContext.protectRtp() and unprotectRtp() match the ${profile} SRTP vector`, () => {
      assert.deepEqual(context(profile, key).protectRtp(rtp), hex(srtp));
      assert.deepEqual(context(profile, key).unprotectRtp(hex(srtp)), rtp);
    });

    test(`SrtpContext.protectRtcp() and unprotectRtcp() match the ${profile} SRTCP vector at index 0x5d4`, () => {
      assert.deepEqual(context(profile, key).unprotectRtcp(hex(srtcp)), rtcp);
      const sender = context(profile, key);
      for (let i = 0; i < 0x5d4; i++) sender.protectRtcp(rtcp);
      assert.deepEqual(sender.protectRtcp(rtcp), hex(srtcp));
    });
  }

  test('SrtpContext.unprotectRtcp() accepts the authenticated-only (E = 0) SRTCP vector of §17.3', () => {
    const tagged = Buffer.concat([rtcp, hex('841dd9683dd78ec92ae58790125f62b3 000005d4')]);
    assert.deepEqual(context('SRTP_AEAD_AES_128_GCM', key128).unprotectRtcp(tagged), rtcp);
  });
});

describe('AES-CM/HMAC-SHA1 cross-check', () => {
  /** RFC 3711 decryption written directly against node:crypto, sharing no code with src/. */
  function independentUnprotect(
    keys: SessionKeys,
    packet: Buffer,
    headerLength: number,
    roc: number,
    tagLength: number,
  ): Buffer {
    const body = packet.subarray(0, packet.length - tagLength);
    const rocBytes = Buffer.alloc(4);
    rocBytes.writeUInt32BE(roc);
    const tag = createHmac('sha1', keys.authKey)
      .update(body)
      .update(rocBytes)
      .digest()
      .subarray(0, tagLength);
    assert.deepEqual(packet.subarray(body.length), tag, 'tag');
    const iv = Buffer.alloc(16);
    keys.salt.copy(iv);
    const ssrc = packet.readUInt32BE(8);
    const index = BigInt(roc) * 65536n + BigInt(packet.readUInt16BE(2));
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    const idx = Buffer.alloc(8);
    idx.writeBigUInt64BE(index << 16n);
    for (let i = 8; i < 14; i++) iv[i] ^= idx[i - 8];
    const d = createDecipheriv('aes-128-ctr', keys.key, iv);
    return Buffer.concat([body.subarray(0, headerLength), d.update(body.subarray(headerLength)), d.final()]);
  }

  for (const [profile, tagLength] of [
    ['SRTP_AES128_CM_HMAC_SHA1_80', 10],
    ['SRTP_AES128_CM_HMAC_SHA1_32', 4],
  ] as const) {
    test(`SrtpContext.protectRtp() output for ${profile} decrypts with an independent AES-CTR + HMAC path`, () => {
      const masterKey = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
      const masterSalt = hex('0EC675AD498AFEEBB6960B3AABE6');
      const ctx = new SrtpContext(profile, masterKey, masterSalt);
      const { rtp } = deriveSessionKeys(profile, masterKey, masterSalt);
      // Header with two CSRCs and a one-word extension; payload of 1000 bytes (63 blocks).
      const header = hex('92 60 ff f0 00000001 deadbeef 11111111 22222222 bede0001 10ab0000');
      const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff));
      for (const [seq, roc] of [
        [0xfff0, 0],
        [0x0002, 1],
      ]) {
        header.writeUInt16BE(seq, 2);
        const packet = Buffer.concat([header, payload]);
        const out = ctx.protectRtp(packet);
        assert.deepEqual(independentUnprotect(rtp, out, header.length, roc, tagLength), packet);
      }
    });
  }
});
