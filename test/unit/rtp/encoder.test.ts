import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../../src/core/errors.ts';
import { RtpEncoder } from '../../../src/rtp/encoder.ts';
import {
  NTP_UNIX_OFFSET_MS,
  ntpFromMs,
  ntpMiddle32,
  ntpMsFromUnixMs,
  ntpToMs,
} from '../../../src/rtp/ntp.ts';
import { parseRtp } from '../../../src/rtp/packet.ts';
import { parseRtcpPacket, serializeRtcp } from '../../../src/rtp/rtcp.ts';
import { hex } from './corpus.ts';

describe('RtpEncoder', () => {
  const options = {
    payloadType: 96,
    ssrc: 0x11223344,
    clockRate: 90000,
    initialSequence: 100,
    initialTimestamp: 1000,
  };

  test('encode() makes one packet per payload with consecutive sequence numbers and the marker on the last', () => {
    const enc = new RtpEncoder(options);
    const out = enc.encode([hex('0102'), hex('03'), hex('040506')], 3000, true);
    const packets = out.map((b) => parseRtp(b));
    assert.deepEqual(
      packets.map((p) => [p.sequenceNumber, p.timestamp, p.marker, p.payloadType, p.ssrc]),
      [
        [100, 4000, false, 96, 0x11223344],
        [101, 4000, false, 96, 0x11223344],
        [102, 4000, true, 96, 0x11223344],
      ],
    );
    assert.deepEqual(
      packets.map((p) => p.payload),
      [hex('0102'), hex('03'), hex('040506')],
    );
    assert.equal(enc.sequenceNumber, 103);
  });

  test('encode() copies the payload into a buffer of its own per packet', () => {
    const enc = new RtpEncoder(options);
    const payload = hex('aabb');
    const [a] = enc.encode([payload], 0, false);
    payload[0] = 0;
    assert.equal(a.length, 14);
    assert.deepEqual(parseRtp(a).payload, hex('aabb'));
  });

  test('encode() leaves the marker off when markerOnLast is false', () => {
    const enc = new RtpEncoder(options);
    const out = enc.encode([hex('01'), hex('02')], 0, false);
    assert.deepEqual(
      out.map((b) => parseRtp(b).marker),
      [false, false],
    );
  });

  test('encode() wraps the sequence number at 65535 and the timestamp at 2^32', () => {
    const enc = new RtpEncoder({ ...options, initialSequence: 65535, initialTimestamp: 0xfffffff0 });
    const out = enc.encode([hex('01'), hex('02')], 0x20, true);
    assert.deepEqual(
      out.map((b) => [parseRtp(b).sequenceNumber, parseRtp(b).timestamp]),
      [
        [65535, 0x10],
        [0, 0x10],
      ],
    );
  });

  test('encode() accepts unwrapped timestamps beyond 2^32', () => {
    const enc = new RtpEncoder({ ...options, initialTimestamp: 0 });
    const [b] = enc.encode([hex('01')], 3 * 2 ** 32 + 7, false);
    assert.equal(parseRtp(b).timestamp, 7);
  });

  test('encode() counts packets and payload octets', () => {
    const enc = new RtpEncoder(options);
    enc.encode([hex('0102'), hex('03')], 0, true);
    enc.encode([], 3000, true);
    enc.encode([Buffer.alloc(1000)], 3000, true);
    assert.equal(enc.packetCount, 3);
    assert.equal(enc.octetCount, 1003);
  });

  test('senderReport() builds an SR from the counters with the wire timestamp and NTP time', () => {
    const enc = new RtpEncoder(options);
    enc.encode([hex('0102'), hex('03')], 0, true);
    const sr = enc.senderReport(NTP_UNIX_OFFSET_MS + 1500, 4500);
    assert.deepEqual(sr, {
      type: 'sr',
      ssrc: 0x11223344,
      ntpSeconds: 2_208_988_801,
      ntpFraction: 0x80000000,
      rtpTimestamp: 5500,
      packetCount: 2,
      octetCount: 3,
      reports: [],
    });
    assert.deepEqual(parseRtcpPacket(serializeRtcp(sr)), sr);
  });

  test('constructor picks random initial values in range when none are given', () => {
    const enc = new RtpEncoder({ payloadType: 0, ssrc: 1, clockRate: 8000 });
    assert.ok(enc.sequenceNumber >= 0 && enc.sequenceNumber <= 0xffff);
    assert.ok(enc.initialTimestamp >= 0 && enc.initialTimestamp <= 0xffffffff);
  });

  test('constructor throws BadRequestError for a payload type above 127', () => {
    assert.throws(() => new RtpEncoder({ ...options, payloadType: 128 }), BadRequestError);
  });
});

describe('NTP time', () => {
  test('ntpFromMs() and ntpToMs() convert both ways', () => {
    const ms = ntpMsFromUnixMs(1_700_000_000_123);
    const ntp = ntpFromMs(ms);
    assert.ok(Math.abs(ntpToMs(ntp.seconds, ntp.fraction) - ms) < 0.001);
  });

  test('ntpMiddle32() takes the low 16 bits of the seconds and the high 16 bits of the fraction', () => {
    assert.equal(ntpMiddle32(0xe42a5b00, 0x80000000), 0x5b008000);
  });
});
