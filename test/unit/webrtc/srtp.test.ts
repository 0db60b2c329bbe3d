import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BadRequestError, ParseError } from '../../../src/core/errors.ts';
import {
  keyingMaterialLength,
  keyingMaterialToContexts,
  profileById,
  ReplayWindow,
  SRTP_PROFILES,
  SrtpContext,
  SrtpError,
  type SrtpProfile,
} from '../../../src/protocols/webrtc/srtp/index.ts';

const SEED = 3711;
const PROFILES = Object.keys(SRTP_PROFILES) as SrtpProfile[];

function material(profile: SrtpProfile): Buffer {
  return Buffer.from(Array.from({ length: keyingMaterialLength(profile) }, (_, i) => (i * 31 + 7) & 0xff));
}

/** A sender/receiver pair sharing one master key, as after DTLS: client local -> server remote. */
function pair(profile: SrtpProfile): { tx: SrtpContext; rx: SrtpContext } {
  const m = material(profile);
  return {
    tx: keyingMaterialToContexts(m, profile, true).local,
    rx: keyingMaterialToContexts(m, profile, false).remote,
  };
}

function rtp(
  seq: number,
  ssrc = 0x11223344,
  payload: Buffer = Buffer.from('payload bytes'),
  first = 0x80,
): Buffer {
  const h = Buffer.alloc(12);
  h[0] = first;
  h[1] = 96;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 3000, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

/** A receiver report with one report block. */
function rtcp(ssrc = 0x55667788): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(ssrc, 4);
  b.fill(0xaa, 8);
  return b;
}

const isAuth = (err: unknown) => err instanceof SrtpError && err.reason === 'auth';
const isReplay = (err: unknown) => err instanceof SrtpError && err.reason === 'replay';

describe('SrtpContext round trips', () => {
  const packets: [string, Buffer][] = [
    ['no payload', rtp(1, 1, Buffer.alloc(0))],
    ['one byte', rtp(2, 2, Buffer.from([9]))],
    [
      'CSRCs, extension and padding flag',
      Buffer.concat([
        Buffer.from([
          0xb2, 0xe0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 7, 0, 0, 0, 8, 0xbe, 0xde, 0, 1, 0x10, 1, 0, 0,
        ]),
        Buffer.from('xyz\x00\x02'),
      ]),
    ],
    ['1200-byte payload', rtp(4, 4, Buffer.alloc(1200, 0x5a))],
  ];

  for (const profile of PROFILES) {
    test(`SrtpContext.unprotectRtp() inverts protectRtp() for ${profile}`, () => {
      const { tx, rx } = pair(profile);
      for (const [name, packet] of packets) {
        const copy = Buffer.from(packet);
        const srtp = tx.protectRtp(packet);
        assert.deepEqual(packet, copy, `${name}: input untouched`);
        assert.equal(srtp.length, packet.length + SRTP_PROFILES[profile].rtpTagLength, name);
        assert.deepEqual(srtp.subarray(0, 12), packet.subarray(0, 12), `${name}: header in clear`);
        const srtpCopy = Buffer.from(srtp);
        assert.deepEqual(rx.unprotectRtp(srtp), packet, name);
        assert.deepEqual(srtp, srtpCopy, `${name}: SRTP input untouched`);
      }
    });

    test(`SrtpContext.unprotectRtcp() inverts protectRtcp() for ${profile} and the E flag is set`, () => {
      const { tx, rx } = pair(profile);
      for (let i = 0; i < 3; i++) {
        const packet = rtcp();
        const srtcp = tx.protectRtcp(packet);
        const p = SRTP_PROFILES[profile];
        assert.equal(srtcp.length, packet.length + 4 + p.rtcpTagLength);
        const word = srtcp.readUInt32BE(srtcp.length - 4 - (p.aead ? 0 : p.rtcpTagLength));
        assert.equal(word, (0x80000000 | i) >>> 0, 'E flag and index');
        assert.notDeepEqual(srtcp.subarray(8, 32), packet.subarray(8));
        assert.deepEqual(rx.unprotectRtcp(srtcp), packet);
      }
    });

    test(`SrtpContext.unprotectRtp() throws SrtpError "auth" for any changed payload or tag byte (${profile})`, () => {
      const { tx, rx } = pair(profile);
      const srtp = tx.protectRtp(rtp(10));
      for (let i = 12; i < srtp.length; i++) {
        const bad = Buffer.from(srtp);
        bad[i] ^= 0x40;
        assert.throws(() => rx.unprotectRtp(bad), isAuth, `byte ${i}`);
      }
      const badHeader = Buffer.from(srtp);
      badHeader[1] ^= 0x01; // payload type: authenticated, not encrypted
      assert.throws(() => rx.unprotectRtp(badHeader), isAuth);
      assert.deepEqual(rx.unprotectRtp(srtp), rtp(10), 'failures leave no state behind');
    });

    test(`SrtpContext.unprotectRtcp() throws SrtpError "auth" for a changed byte (${profile})`, () => {
      const { tx, rx } = pair(profile);
      const srtcp = tx.protectRtcp(rtcp());
      for (const i of [1, 9, 20, srtcp.length - 1]) {
        const bad = Buffer.from(srtcp);
        bad[i] ^= 0x04;
        assert.throws(() => rx.unprotectRtcp(bad), isAuth, `byte ${i}`);
      }
    });
  }

  test('SrtpContext.unprotectRtp() throws SrtpError "auth" under another key', () => {
    const { tx } = pair('SRTP_AES128_CM_HMAC_SHA1_80');
    const other = new SrtpContext('SRTP_AES128_CM_HMAC_SHA1_80', Buffer.alloc(16, 1), Buffer.alloc(14, 2));
    assert.throws(() => other.unprotectRtp(tx.protectRtp(rtp(1))), isAuth);
  });

  test('SrtpContext.unprotectRtp() throws ParseError for packets too short for a header and tag', () => {
    const { rx } = pair('SRTP_AES128_CM_HMAC_SHA1_80');
    for (const bad of [
      Buffer.alloc(0),
      Buffer.alloc(11, 0x80),
      rtp(1, 1, Buffer.alloc(9)),
      Buffer.from([0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
    ]) {
      assert.throws(() => rx.unprotectRtp(bad), ParseError);
    }
    assert.throws(() => rx.unprotectRtp(Buffer.alloc(40, 0x40)), ParseError, 'version 1');
    assert.throws(() => rx.unprotectRtcp(rtcp().subarray(0, 20)), ParseError);
  });
});

describe('SrtpContext replay protection and rollover', () => {
  test('SrtpContext.unprotectRtp() throws SrtpError "replay" for a repeated packet', () => {
    const { tx, rx } = pair('SRTP_AEAD_AES_128_GCM');
    const srtp = tx.protectRtp(rtp(100));
    rx.unprotectRtp(srtp);
    assert.throws(() => rx.unprotectRtp(srtp), isReplay);
  });

  test('SrtpContext.unprotectRtp() accepts reordering inside the 64-packet window and rejects older packets', () => {
    const { tx, rx } = pair('SRTP_AES128_CM_HMAC_SHA1_80');
    const sent = Array.from({ length: 200 }, (_, i) => tx.protectRtp(rtp(1000 + i)));
    rx.unprotectRtp(sent[0]);
    rx.unprotectRtp(sent[150]);
    rx.unprotectRtp(sent[87]); // 63 behind
    assert.throws(() => rx.unprotectRtp(sent[86]), isReplay); // 64 behind
    assert.throws(() => rx.unprotectRtp(sent[87]), isReplay);
    rx.unprotectRtp(sent[149]);
    rx.unprotectRtp(sent[199]);
  });

  test('SrtpContext.unprotectRtcp() throws SrtpError "replay" for a repeated SRTCP index', () => {
    const { tx, rx } = pair('SRTP_AES128_CM_HMAC_SHA1_80');
    const a = tx.protectRtcp(rtcp());
    const b = tx.protectRtcp(rtcp());
    rx.unprotectRtcp(b);
    rx.unprotectRtcp(a);
    assert.throws(() => rx.unprotectRtcp(a), isReplay);
  });

  for (const profile of ['SRTP_AES128_CM_HMAC_SHA1_80', 'SRTP_AEAD_AES_128_GCM'] as const) {
    test(`SrtpContext tracks the rollover counter across sequence wraps, with reordering (${profile})`, () => {
      const { tx, rx } = pair(profile);
      // Three laps: steps of 16000 through the middle, steps of 3 across each wrap.
      const seqs: number[] = [];
      for (let lap = 0; lap < 3; lap++) {
        for (let s = 65500; s < 65536; s += 3) seqs.push(s);
        for (let s = 2; s < 40; s += 3) seqs.push(s);
        seqs.push(16000, 32000, 48000);
      }
      const sent = seqs.map((s) => [s, tx.protectRtp(rtp(s))] as const);
      // Swap neighbours around each wrap so a late pre-wrap packet arrives after a post-wrap one
      // (not before the first packet: the receiver takes the first one it sees as ROC 0).
      for (let i = 2; i < sent.length; i++) {
        if (sent[i][0] < sent[i - 1][0]) {
          [sent[i - 1], sent[i]] = [sent[i], sent[i - 1]];
          i++;
        }
      }
      for (const [seq, srtp] of sent) assert.deepEqual(rx.unprotectRtp(srtp), rtp(seq), `seq ${seq}`);
    });
  }

  test('SrtpContext.protectRtp() uses ROC 1 after a wrap, so seq 0 differs from a first seq 0', () => {
    const { tx } = pair('SRTP_AES128_CM_HMAC_SHA1_80');
    const fresh = pair('SRTP_AES128_CM_HMAC_SHA1_80').tx.protectRtp(rtp(0));
    tx.protectRtp(rtp(65535));
    assert.notDeepEqual(tx.protectRtp(rtp(0)), fresh);
  });

  test('ReplayWindow.check() and accept() keep exactly the last 64 indices', () => {
    const w = new ReplayWindow(64);
    assert.equal(w.check(5), true);
    w.accept(5);
    assert.equal(w.check(5), false);
    assert.equal(w.check(4), true);
    w.accept(100);
    assert.equal(w.check(37), true);
    assert.equal(w.check(36), false);
    w.accept(37);
    assert.equal(w.check(37), false);
    w.accept(101);
    assert.equal(w.check(37), false, 'now 64 behind');
    assert.equal(w.check(-1), false);
    w.accept(10_000);
    assert.equal(w.check(101), false);
    assert.equal(w.check(9_999), true);
  });
});

describe('DTLS-SRTP keying', () => {
  test('keyingMaterialToContexts() pairs the client local context with the server remote one', () => {
    for (const profile of PROFILES) {
      const m = material(profile);
      const client = keyingMaterialToContexts(m, profile, true);
      const server = keyingMaterialToContexts(m, profile, false);
      assert.deepEqual(server.remote.unprotectRtp(client.local.protectRtp(rtp(7))), rtp(7));
      assert.deepEqual(client.remote.unprotectRtp(server.local.protectRtp(rtp(8))), rtp(8));
      assert.deepEqual(client.remote.unprotectRtcp(server.local.protectRtcp(rtcp())), rtcp());
      assert.throws(
        () => client.remote.unprotectRtp(client.local.protectRtp(rtp(9))),
        isAuth,
        'directions use different keys',
      );
    }
  });

  test('keyingMaterialLength() is 60 bytes for AES-CM-128, 56 for GCM-128 and 88 for GCM-256', () => {
    assert.equal(keyingMaterialLength('SRTP_AES128_CM_HMAC_SHA1_80'), 60);
    assert.equal(keyingMaterialLength('SRTP_AEAD_AES_128_GCM'), 56);
    assert.equal(keyingMaterialLength('SRTP_AEAD_AES_256_GCM'), 88);
  });

  test('keyingMaterialToContexts() throws BadRequestError for material of the wrong length', () => {
    assert.throws(
      () => keyingMaterialToContexts(Buffer.alloc(59), 'SRTP_AES128_CM_HMAC_SHA1_80', true),
      BadRequestError,
    );
    assert.throws(
      () => new SrtpContext('SRTP_AEAD_AES_128_GCM', Buffer.alloc(16), Buffer.alloc(14)),
      BadRequestError,
    );
    assert.throws(
      () =>
        new SrtpContext('SRTP_AEAD_AES_128_GCM', Buffer.alloc(16), Buffer.alloc(12), { replayWindow: 32 }),
      BadRequestError,
    );
  });

  test('profileById() maps the DTLS use_srtp ids', () => {
    assert.equal(profileById(0x0001), 'SRTP_AES128_CM_HMAC_SHA1_80');
    assert.equal(profileById(0x0007), 'SRTP_AEAD_AES_128_GCM');
    assert.equal(profileById(0x0005), undefined);
  });
});

describe('SrtpContext fuzz', () => {
  for (const profile of ['SRTP_AES128_CM_HMAC_SHA1_80', 'SRTP_AEAD_AES_128_GCM'] as const) {
    test(`SrtpContext.unprotectRtp() and unprotectRtcp() on random or mutated input throw only ParseError (${profile})`, () => {
      const { tx, rx } = pair(profile);
      const valid = [
        tx.protectRtp(rtp(1)),
        tx.protectRtp(rtp(2, 9, Buffer.alloc(300, 1))),
        tx.protectRtcp(rtcp()),
      ];
      const input = fc.oneof(
        fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)),
        fc
          .tuple(
            fc.nat(valid.length - 1),
            fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
            fc.nat(40),
          )
          .map(([i, edits, cut]) => {
            const b = Buffer.from(valid[i]);
            for (const [pos, x] of edits) b[pos % b.length] ^= x;
            return b.subarray(0, Math.max(0, b.length - cut));
          }),
      );
      fc.assert(
        fc.property(input, (bytes) => {
          for (const f of [() => rx.unprotectRtp(bytes), () => rx.unprotectRtcp(bytes)]) {
            try {
              f();
            } catch (err) {
              assert.ok(err instanceof ParseError, String(err));
            }
          }
        }),
        { seed: SEED, numRuns: 2000 },
      );
    });
  }
});
