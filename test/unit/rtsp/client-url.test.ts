import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BadRequestError } from '../../../src/core/errors.ts';
import { parseRtspUrl } from '../../../src/protocols/rtsp/client/index.ts';
import { ReceptionStats } from '../../../src/protocols/rtsp/client/stats.ts';
import type { RtpPacket } from '../../../src/rtp/index.ts';

test('parseRtspUrl() splits userinfo (percent-decoded) from the request URL and masks it for display', () => {
  const o = parseRtspUrl(
    'rtsp://admin:p%40ss%3Aword@192.168.1.64:8554/Streaming/Channels/101?transportmode=unicast',
  );
  assert.equal(o.url, 'rtsp://192.168.1.64:8554/Streaming/Channels/101?transportmode=unicast');
  assert.equal(o.display, 'rtsp://admin:***@192.168.1.64:8554/Streaming/Channels/101?transportmode=unicast');
  assert.deepEqual(
    [o.user, o.pass, o.host, o.port, o.tls, o.transport],
    ['admin', 'p@ss:word', '192.168.1.64', 8554, false, 'tcp'],
  );
  assert.deepEqual([o.connectTimeoutMs, o.noDataTimeoutMs, o.media], [5000, 10000, undefined]);
});

test('parseRtspUrl() takes the last @ as the end of the userinfo, default ports and IPv6 hosts', () => {
  const o = parseRtspUrl('rtsp://admin:p@ss@cam.local/live');
  assert.deepEqual(
    [o.user, o.pass, o.host, o.port, o.url],
    ['admin', 'p@ss', 'cam.local', 554, 'rtsp://cam.local/live'],
  );
  const s = parseRtspUrl('rtsps://[fe80::1]/x');
  assert.deepEqual(
    [s.host, s.port, s.tls, s.url, s.user],
    ['fe80::1', 322, true, 'rtsps://[fe80::1]/x', undefined],
  );
});

test('parseRtspUrl() reads go2rtc fragment options separated by # or &, ignoring unknown ones', () => {
  const o = parseRtspUrl('rtsp://cam/x#transport=udp#media=video&timeout=2.5#backchannel=0');
  assert.equal(o.transport, 'udp');
  assert.deepEqual([...(o.media ?? [])], ['video']);
  assert.deepEqual([o.connectTimeoutMs, o.noDataTimeoutMs], [2500, 2500]);
  assert.equal(o.url, 'rtsp://cam/x', 'the fragment is never sent');
  assert.deepEqual([...(parseRtspUrl('rtsp://cam/x#media=video,audio').media ?? [])], ['video', 'audio']);
});

test('parseRtspUrl() throws BadRequestError for other schemes, no host and bad option values', () => {
  for (const bad of [
    'http://cam/x',
    'rtsp://',
    'rtsp://cam/x#transport=sctp',
    'rtsp://cam/x#media=data',
    'rtsp://cam/x#timeout=0',
    'rtsp://cam/x#timeout=abc',
    'rtsp://a:%zz@cam/',
  ]) {
    assert.throws(() => parseRtspUrl(bad), BadRequestError, bad);
  }
  assert.throws(
    () => parseRtspUrl('rtsp://admin:secret@cam/x#transport=x'),
    (err: Error) => !err.message.includes('secret'),
  );
});

function packet(seq: number, timestamp: number, ssrc = 1): RtpPacket {
  return {
    version: 2,
    padding: false,
    marker: false,
    payloadType: 96,
    sequenceNumber: seq & 0xffff,
    timestamp,
    ssrc,
    csrc: [],
    payload: Buffer.alloc(0),
  };
}

test('ReceptionStats.report() counts loss per interval and in total across a sequence wrap (RFC 3550 A.3)', () => {
  const stats = new ReceptionStats(90000);
  assert.equal(stats.report(0), undefined, 'nothing before the first packet');
  for (const seq of [65530, 65531, 65533, 65534, 0, 1]) stats.onRtp(packet(seq, 0), 0);
  const r1 = stats.report(1000);
  assert.deepEqual(
    [r1?.ssrc, r1?.highestSequence, r1?.totalLost, r1?.fractionLost],
    [1, 65536 + 1, 2, Math.floor((2 * 256) / 8)],
  );
  for (const seq of [2, 3, 4, 5]) stats.onRtp(packet(seq, 0), 0);
  const r2 = stats.report(2000);
  assert.deepEqual([r2?.totalLost, r2?.fractionLost], [2, 0], 'no loss in the second interval');
});

test('ReceptionStats measures jitter, echoes the last sender report and restarts on a new SSRC', () => {
  const stats = new ReceptionStats(90000);
  // 40 ms apart on the wire, 40 ms apart in timestamps, except one packet 10 ms late.
  const arrivals = [0, 40, 90, 120, 160];
  arrivals.forEach((ms, i) => {
    stats.onRtp(packet(i, i * 3600), ms);
  });
  stats.onSenderReport(
    {
      type: 'sr',
      ssrc: 1,
      ntpSeconds: 0x12345678,
      ntpFraction: 0x9abc0000,
      rtpTimestamp: 0,
      packetCount: 0,
      octetCount: 0,
      reports: [],
    },
    1000,
  );
  const r = stats.report(1500);
  assert.ok(r && r.jitter > 0 && r.jitter < 900, `jitter ${r?.jitter}`);
  assert.equal(r?.lastSenderReport, 0x56789abc);
  assert.equal(r?.delaySinceLastSenderReport, 32768, '0.5 s in 1/65536 s');
  stats.onRtp(packet(9000, 0, 2), 2000);
  const fresh = stats.report(2000);
  assert.deepEqual(
    [fresh?.ssrc, fresh?.highestSequence, fresh?.totalLost, fresh?.lastSenderReport],
    [2, 9000, 0, 0],
  );
});
