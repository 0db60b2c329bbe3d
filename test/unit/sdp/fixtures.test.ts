/**
 * Camera DESCRIBE answers and a browser offer, parsed end to end. The camera bodies are
 * reconstructed from typical answers of each family (not captured from a particular device); each
 * keeps the quirks the family is known for, named in the comment above its test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Media } from '../../../src/core/media.ts';
import {
  parseSdp,
  resolveControl,
  sdpToMedias,
  serializeSdp,
  viewMedias,
  viewSession,
} from '../../../src/sdp/index.ts';

function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'latin1');
}

/** Only the fields a test cares about, so fmtp with long sprop values can be spot-checked. */
function shape(medias: Media[]): unknown[] {
  return medias.map((m) => ({
    kind: m.kind,
    direction: m.direction,
    id: m.id,
    codecs: m.codecs.map(
      (c) => `${c.payloadType}:${c.name}/${c.clockRate}${c.channels ? `/${c.channels}` : ''}`,
    ),
  }));
}

describe('camera fixtures', () => {
  // Hikvision DS-2CD2xxx: absolute controls, a=recvonly (ONVIF client view), "; " in fmtp.
  test('sdpToMedias() reads a Hikvision answer with absolute controls and PCMA', () => {
    const medias = sdpToMedias(fixture('hikvision-h264-pcma.sdp'));
    assert.deepEqual(shape(medias), [
      {
        kind: 'video',
        direction: 'recvonly',
        id: 'rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1?transportmode=unicast',
        codecs: ['96:H264/90000'],
      },
      {
        kind: 'audio',
        direction: 'recvonly',
        id: 'rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=2?transportmode=unicast',
        codecs: ['8:PCMA/8000/1'],
      },
    ]);
    assert.deepEqual(medias[0].codecs[0].fmtp, {
      'profile-level-id': '420029',
      'packetization-mode': '1',
      'sprop-parameter-sets': 'Z00AKZpkA8ARPyzUBAQFAAADA+gAAOpgBA==,aO48gA==',
    });
    const sdp = parseSdp(fixture('hikvision-h264-pcma.sdp'));
    assert.equal(sdp.sessionName, 'Media Presentation');
    assert.deepEqual(sdp.bandwidths, [{ type: 'AS', bandwidth: 5100 }]);
    assert.deepEqual(sdp.emails, ['NONE']);
    assert.equal(sdp.medias[1].attributes.at(-2)?.key, 'Media_header');
  });

  // Dahua IPC with the ONVIF back channel: H.265 on PT 98, AAC, metadata, a=sendonly back channel,
  // relative controls under a query-string Content-Base.
  test('sdpToMedias() reads a Dahua answer with H.265, AAC and an a=sendonly back channel', () => {
    const base = 'rtsp://10.0.0.8:554/cam/realmonitor?channel=1&subtype=0/';
    const medias = sdpToMedias(fixture('dahua-h265-backchannel.sdp'), { base });
    assert.deepEqual(shape(medias), [
      { kind: 'video', direction: 'recvonly', id: `${base}trackID=0`, codecs: ['98:H265/90000'] },
      { kind: 'audio', direction: 'recvonly', id: `${base}trackID=1`, codecs: ['97:AAC/16000/1'] },
      { kind: 'audio', direction: 'sendonly', id: `${base}trackID=5`, codecs: ['8:PCMA/8000/1'] },
    ]);
    assert.equal(medias[0].codecs[0].fmtp?.['sprop-pps'], 'RAHA8vA8kAA=');
    assert.equal(medias[1].codecs[0].fmtp?.sizelength, '13');
    assert.equal(medias[1].codecs[0].fmtp?.config, '1408');
  });

  // Amcrest IP4M (Dahua firmware): PT 0 audio without an a=rtpmap line.
  test('sdpToMedias() maps a static payload type without rtpmap in an Amcrest answer', () => {
    const medias = sdpToMedias(fixture('amcrest-h264-pcmu.sdp'));
    assert.deepEqual(shape(medias), [
      { kind: 'video', direction: 'recvonly', id: 'trackID=0', codecs: ['96:H264/90000'] },
      { kind: 'audio', direction: 'recvonly', id: 'trackID=1', codecs: ['0:PCMU/8000/1'] },
    ]);
    assert.equal(medias[0].codecs[0].fmtp?.['profile-level-id'], '640033');
  });

  // Reolink RLC-510A / RLC-810A (LIVE555): LF line ends, trailing spaces, relative trackN controls.
  test('sdpToMedias() reads a Reolink answer with LF line ends and trailing spaces', () => {
    const text = fixture('reolink-h265-aac.sdp');
    assert.ok(!text.includes('\r'));
    const medias = sdpToMedias(text, { base: 'rtsp://192.168.1.20:554/h265Preview_01_main' });
    assert.deepEqual(shape(medias), [
      {
        kind: 'video',
        direction: 'recvonly',
        id: 'rtsp://192.168.1.20:554/h265Preview_01_main/track1',
        codecs: ['96:H265/90000'],
      },
      {
        kind: 'audio',
        direction: 'recvonly',
        id: 'rtsp://192.168.1.20:554/h265Preview_01_main/track2',
        codecs: ['97:AAC/16000/1'],
      },
    ]);
    assert.equal(medias[0].codecs[0].fmtp?.['sprop-vps'], 'QAEMAf//AWAAAAMAsAAAAwAAAwCWrAk=');
    assert.equal(parseSdp(text).information, 'h265Preview_01_main');
  });

  // TP-Link Tapo C200: seven-field o= line, `m=application/TP-LINK ... smart/1/90000`.
  test('sdpToMedias() skips the non-RTP TP-LINK section of a Tapo answer', () => {
    const sdp = parseSdp(fixture('tapo-h264-pcma.sdp'));
    assert.equal(sdp.origin.sessionId, '14665860');
    assert.equal(sdp.origin.address, '192.168.1.30');
    assert.deepEqual(sdp.medias[2].formats, ['smart/1/90000']);
    assert.equal(sdp.medias[2].kind, 'application/TP-LINK');
    assert.deepEqual(shape(sdpToMedias(sdp)), [
      { kind: 'video', direction: 'recvonly', id: 'track1', codecs: ['96:H264/90000'] },
      { kind: 'audio', direction: 'recvonly', id: 'track2', codecs: ['8:PCMA/8000/1'] },
    ]);
    assert.equal(sdpToMedias(sdp)[0].codecs[0].fmtp?.['profile-level-id'], '4D4029');
  });

  // Axis (AXIS OS 10+, GStreamer rtsp-server): absolute controls with a query, AAC with /1.
  test('sdpToMedias() reads an Axis answer with query-string controls', () => {
    const medias = sdpToMedias(fixture('axis-h264-aac.sdp'), {
      base: 'rtsp://192.168.0.90/axis-media/media.amp',
    });
    assert.deepEqual(shape(medias), [
      {
        kind: 'video',
        direction: 'recvonly',
        id: 'rtsp://192.168.0.90/axis-media/media.amp/stream=0?videocodec=h264&audio=1',
        codecs: ['96:H264/90000'],
      },
      {
        kind: 'audio',
        direction: 'recvonly',
        id: 'rtsp://192.168.0.90/axis-media/media.amp/stream=1?videocodec=h264&audio=1',
        codecs: ['97:AAC/16000/1'],
      },
    ]);
  });

  // No-name DVR firmware quirks: no c=/t=, lowercase names, spaced rtpmap, junk lines, MJPEG PT 26.
  test('sdpToMedias() tolerates missing c= and t=, lowercase names and junk lines', () => {
    const sdp = parseSdp(fixture('quirks-noname.sdp'));
    assert.equal(sdp.connection, undefined);
    assert.deepEqual(sdp.timings, []);
    assert.equal(sdp.sessionName, '');
    assert.deepEqual(shape(sdpToMedias(sdp)), [
      { kind: 'video', direction: 'recvonly', id: 'trackID=0', codecs: ['96:H264/90000'] },
      { kind: 'audio', direction: 'recvonly', id: 'trackID=1', codecs: ['97:L16/8000/1'] },
      { kind: 'video', direction: 'recvonly', id: 'trackID=2', codecs: ['26:JPEG/90000'] },
    ]);
    assert.equal(
      sdpToMedias(sdp)[0].codecs[0].fmtp?.['sprop-parameter-sets'],
      'Z00AKpY1QPAET8s3AQEBQAABwgAAV+QB,aO4xsg==',
    );
    const out = serializeSdp(sdp);
    assert.match(out, /^s=-\r$/m);
    assert.match(out, /^t=0 0\r$/m);
  });

  test('serializeSdp() of a parsed camera answer parses back to the same description', () => {
    for (const name of [
      'hikvision-h264-pcma.sdp',
      'dahua-h265-backchannel.sdp',
      'tapo-h264-pcma.sdp',
      'axis-h264-aac.sdp',
    ]) {
      const sdp = parseSdp(fixture(name));
      assert.deepEqual(parseSdp(serializeSdp(sdp)), sdp, name);
      assert.equal(serializeSdp(sdp), fixture(name), `${name} is already canonical`);
    }
  });
});

describe('chromium offer fixture', () => {
  const text = fixture('chromium-offer.sdp');

  test('viewSession() reads BUNDLE and msid-semantic from a Chromium offer', () => {
    const session = viewSession(parseSdp(text));
    assert.deepEqual(session.bundle, ['0', '1']);
    assert.deepEqual(session.groups, [{ semantics: 'BUNDLE', mids: ['0', '1'] }]);
    assert.equal(session.iceLite, false);
  });

  test('viewMedias() reads ICE, DTLS, rtcp-mux, extmap, rtcp-fb and ssrc lines of a Chromium offer', () => {
    const [video, audio] = viewMedias(parseSdp(text));
    assert.equal(video.mid, '0');
    assert.equal(video.direction, 'sendrecv');
    assert.equal(video.iceUfrag, 'FdsQ');
    assert.equal(video.icePwd, '5mGBPUk1WM6JoZSPqgaeSDJ8');
    assert.equal(video.setup, 'actpass');
    assert.equal(video.fingerprints[0].algorithm, 'sha-256');
    assert.equal(video.fingerprints[0].value.split(':').length, 32);
    assert.equal(video.rtcpMux, true);
    assert.equal(video.rtcpRsize, true);
    assert.equal(video.payloadTypes.length, 25);
    assert.deepEqual(video.rtpmaps.get(97), { payloadType: 97, encoding: 'RTX', clockRate: 90000 });
    assert.deepEqual(video.fmtps.get(97), { apt: '96' });
    assert.deepEqual(video.extmaps[8], { id: 9, uri: 'urn:ietf:params:rtp-hdrext:sdes:mid' });
    assert.deepEqual(
      video.rtcpFb.filter((f) => f.payloadType === 102),
      [
        { payloadType: 102, type: 'goog-remb' },
        { payloadType: 102, type: 'transport-cc' },
        { payloadType: 102, type: 'ccm', parameter: 'fir' },
        { payloadType: 102, type: 'nack' },
        { payloadType: 102, type: 'nack', parameter: 'pli' },
      ],
    );
    assert.deepEqual(video.ssrcGroups, [{ semantics: 'FID', ssrcs: [2231627014, 632943048] }]);
    assert.deepEqual(video.ssrcs[0], { ssrc: 2231627014, attribute: 'cname', value: 'YZcxBwerFFm6GH69' });
    assert.equal(video.candidates.length, 4);
    assert.deepEqual(video.candidates[1], {
      foundation: '842163049',
      component: 1,
      transport: 'udp',
      priority: 1686052607,
      address: '203.0.113.7',
      port: 54321,
      type: 'srflx',
      relatedAddress: '192.168.1.50',
      relatedPort: 54321,
      extensions: [
        ['generation', '0'],
        ['network-id', '1'],
        ['network-cost', '10'],
      ],
    });
    assert.deepEqual(video.candidates[2].extensions[0], ['tcptype', 'active']);
    assert.match(video.candidates[3].address, /\.local$/);
    assert.equal(video.endOfCandidates, true);
    assert.equal(audio.mid, '1');
    assert.equal(audio.direction, 'recvonly');
    assert.deepEqual(audio.rtpmaps.get(111), {
      payloadType: 111,
      encoding: 'OPUS',
      clockRate: 48000,
      channels: 2,
    });
  });

  test('sdpToMedias() keeps only engine codecs of a Chromium offer and mirrors directions', () => {
    const medias = sdpToMedias(text, { perspective: 'peer' });
    assert.deepEqual(shape(medias), [
      {
        kind: 'video',
        direction: 'sendrecv',
        id: '0',
        codecs: [
          '102:H264/90000',
          '104:H264/90000',
          '106:H264/90000',
          '108:H264/90000',
          '127:H264/90000',
          '39:H264/90000',
          '112:H264/90000',
        ],
      },
      {
        kind: 'audio',
        direction: 'sendonly',
        id: '1',
        codecs: ['111:OPUS/48000/2', '0:PCMU/8000/1', '8:PCMA/8000/1'],
      },
    ]);
    assert.deepEqual(
      medias[0].codecs.map((c) => `${c.fmtp?.['profile-level-id']}/${c.fmtp?.['packetization-mode']}`),
      ['42001f/1', '42001f/0', '42e01f/1', '42e01f/0', '4d001f/1', '4d001f/0', '64001f/1'],
    );
    assert.deepEqual(medias[1].codecs[0].fmtp, { minptime: '10', useinbandfec: '1' });
  });

  test('serializeSdp() reproduces a Chromium offer byte for byte', () => {
    assert.equal(serializeSdp(parseSdp(text)), text);
  });

  test('resolveControl() leaves an absolute control alone and joins a relative one with one slash', () => {
    assert.equal(resolveControl('rtsp://h/a', 'rtsp://h/b/trackID=1'), 'rtsp://h/b/trackID=1');
    assert.equal(resolveControl('rtsp://h/a', 'trackID=1'), 'rtsp://h/a/trackID=1');
    assert.equal(resolveControl('rtsp://h/a/', 'trackID=1'), 'rtsp://h/a/trackID=1');
    assert.equal(resolveControl('rtsp://h/a/', '*'), 'rtsp://h/a/');
    assert.equal(resolveControl('rtsp://h/a/', undefined), 'rtsp://h/a/');
    assert.equal(resolveControl('rtsp://h:554/a/', '/x/y'), 'rtsp://h:554/x/y');
    assert.equal(resolveControl('rtsp://h/a', 'track2', 'rtsp://h/session/'), 'rtsp://h/session/track2');
    assert.equal(resolveControl('rtsp://h/a', 'track2', '*'), 'rtsp://h/a/track2');
  });
});
