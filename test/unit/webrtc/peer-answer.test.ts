import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../../src/core/errors.ts';
import type { Codec } from '../../../src/core/media.ts';
import { StreamTrack } from '../../../src/core/track.ts';
import { buildAnswer, type LocalParams } from '../../../src/protocols/webrtc/peer/answer.ts';
import { chooseReceiveCodec, chooseSendCodec } from '../../../src/protocols/webrtc/peer/codec-select.ts';
import { parseOffer } from '../../../src/protocols/webrtc/peer/offer.ts';
import { planPublisher, planViewer, viewerRequests } from '../../../src/protocols/webrtc/peer/plan.ts';
import { parseSdp, viewMedia, viewSession } from '../../../src/sdp/index.ts';
import { chromiumOffer, MAIN_H264, MONO_OPUS, offer } from './peer-fakes.ts';

const LOCAL: LocalParams = {
  ufrag: 'gwuf',
  pwd: 'gwpwd0123456789012345678',
  fingerprint: { algorithm: 'sha-256', value: 'AB:CD' },
  candidates: [
    'candidate:1 1 udp 2130706431 127.0.0.1 8555 typ host',
    '2 1 tcp 1671430143 127.0.0.1 8555 typ host tcptype passive',
  ],
  sessionId: '42',
  cname: 'gw',
};

function h264(profile: string, mode = '1'): Codec {
  return {
    name: 'H264',
    clockRate: 90000,
    fmtp: { 'packetization-mode': mode, 'profile-level-id': profile },
  };
}

function trackOf(codec: Codec, id = 0): StreamTrack {
  return new StreamTrack(id, codec);
}

describe('WebRTC offer/answer', () => {
  test('chooseSendCodec() prefers packetization-mode 1 and the source profile among Chromium H.264 payload types', () => {
    const parsed = parseOffer(chromiumOffer());
    const video = parsed.sections[0].media?.codecs.filter((c) => c.name === 'H264') ?? [];
    const cases: [string, number][] = [
      ['4d001e', 127], // Main: same profile_idc, mode 1
      ['42e01f', 106], // constrained baseline exactly
      ['640c1f', 112], // High
      ['42001e', 106], // baseline profile_idc: constrained baseline decodes it
      ['f4001f', 106], // nothing alike: constrained baseline, mode 1
    ];
    for (const [profile, pt] of cases) {
      assert.equal(chooseSendCodec(video, h264(profile))?.payloadType, pt, profile);
    }
    assert.equal(chooseSendCodec(video, { name: 'H265', clockRate: 90000 }), undefined);
  });

  test('chooseReceiveCodec() picks constrained baseline mode 1 for video and Opus before G.711', () => {
    const parsed = parseOffer(chromiumOffer());
    assert.equal(chooseReceiveCodec(parsed.sections[0].media?.codecs ?? [])?.payloadType, 106);
    const audio = parsed.sections[1].media?.codecs ?? [];
    assert.equal(chooseReceiveCodec(audio)?.name, 'OPUS');
    assert.equal(chooseReceiveCodec(audio.filter((c) => c.name !== 'OPUS'))?.name, 'PCMU');
  });

  test('viewerRequests() asks for H.264 and the offered audio codecs in the offer order', () => {
    const requests = viewerRequests(parseOffer(chromiumOffer()));
    assert.deepEqual(
      requests.map((r) => `${r.kind}:${r.codecs === 'any' ? 'any' : r.codecs.map((c) => c.name).join(',')}`),
      ['video:H264', 'audio:OPUS,PCMU,PCMA'],
    );
  });

  test('viewerRequests() throws a codecs-not-matched BadRequestError naming both sides for a VP8-only offer', () => {
    const parsed = parseOffer(offer([{ kind: 'video', dir: 'recvonly', codecs: ['VP8/90000'] }]));
    assert.throws(
      () => viewerRequests(parsed),
      (err: Error) =>
        err instanceof BadRequestError &&
        /codecs not matched: video:H264, audio:OPUS,PCMA,PCMU => video:VP8/.test(err.message),
    );
  });

  test('buildAnswer() for a viewer maps the offer payload types, sends only, and carries ICE-lite, DTLS and SSRC lines', () => {
    const parsed = parseOffer(chromiumOffer());
    const video = trackOf(MAIN_H264, 0);
    const audio = trackOf(MONO_OPUS, 1);
    const { plans, bindings } = planViewer(parsed, [video, audio], (t) => 1000 + t.id, 'demo');
    assert.deepEqual(
      bindings.map((b) => [b.mid, b.payloadType]),
      [
        ['0', 127],
        ['1', 111],
      ],
    );
    const text = buildAnswer(plans, LOCAL);
    const sdp = parseSdp(text);
    const session = viewSession(sdp);
    assert.equal(session.iceLite, true);
    assert.deepEqual(session.bundle, ['0', '1']);
    const [v, a] = sdp.medias.map((m) => viewMedia(m, session));
    assert.deepEqual(v.payloadTypes, [127]);
    assert.equal(v.rtpmaps.get(127)?.encoding, 'H264');
    assert.equal(v.fmtps.get(127)?.['profile-level-id'], '4d001f', 'the offer fmtp is answered as offered');
    assert.equal(v.direction, 'sendonly');
    assert.equal(v.setup, 'passive');
    assert.equal(v.iceUfrag, 'gwuf');
    assert.deepEqual(v.fingerprints, [{ algorithm: 'sha-256', value: 'AB:CD' }]);
    assert.equal(v.rtcpMux, true);
    assert.equal(v.rtcpRsize, true);
    assert.deepEqual(
      v.rtcpFb.map((f) => `${f.type} ${f.parameter ?? ''}`.trim()),
      ['ccm fir', 'nack', 'nack pli'],
      'only the feedback the gateway handles',
    );
    assert.deepEqual(
      v.candidates.map((c) => c.transport),
      ['udp', 'tcp'],
    );
    assert.deepEqual(
      v.ssrcs.map((s) => `${s.ssrc} ${s.attribute}`),
      ['1000 cname', '1000 msid'],
    );
    assert.equal(v.msid, 'demo video-0');
    assert.deepEqual(a.payloadTypes, [111]);
    assert.equal(a.rtpmaps.get(111)?.channels, 2, 'opus is always opus/48000/2 (RFC 7587)');
    assert.equal(a.direction, 'sendonly');
    assert.equal(a.rtcpRsize, false, 'not offered for audio');
    assert.match(text, /\r\na=candidate:1 1 udp 2130706431 127\.0\.0\.1 8555 typ host\r\n/);
  });

  test('buildAnswer() rejects with port 0 the sections that cannot be served and leaves them out of the bundle', () => {
    const parsed = parseOffer(
      offer([
        { kind: 'video', dir: 'recvonly', codecs: ['VP8/90000'] },
        { kind: 'audio', dir: 'recvonly', codecs: ['opus/48000/2'] },
        { kind: 'application', dir: 'sendrecv', codecs: [] },
        { kind: 'audio', dir: 'sendonly', codecs: ['PCMA/8000'] },
        {
          kind: 'video',
          dir: 'recvonly',
          codecs: ['H264/90000'],
          fmtp: ['packetization-mode=1;profile-level-id=42e01f'],
        },
      ]),
    );
    const { plans } = planViewer(parsed, [trackOf(MONO_OPUS, 1)], () => 7, 's');
    assert.deepEqual(
      plans.map((p) => p.rejected ?? 'ok'),
      [
        'no supported codec in video:VP8',
        'ok',
        'application section not supported',
        'the browser does not receive on this section',
        'the stream has no track for video:H264',
      ],
    );
    const sdp = parseSdp(buildAnswer(plans, LOCAL));
    assert.deepEqual(
      sdp.medias.map((m) => m.port),
      [0, 9, 0, 0, 0],
    );
    assert.deepEqual(viewSession(sdp).bundle, ['1']);
    for (const [i, m] of sdp.medias.entries()) {
      assert.equal(viewMedia(m).mid, String(i), 'every section keeps its mid');
    }
  });

  test('planPublisher() receives H.264 and Opus with recvonly and asks only for PLI feedback', () => {
    const parsed = parseOffer(chromiumOffer('sendonly').replace('a=recvonly', 'a=sendonly'));
    const plans = planPublisher(parsed);
    const sdp = parseSdp(buildAnswer(plans, LOCAL));
    const [v, a] = sdp.medias.map((m) => viewMedia(m));
    assert.deepEqual(v.payloadTypes, [106]);
    assert.equal(v.direction, 'recvonly');
    assert.deepEqual(
      v.rtcpFb.map((f) => `${f.type} ${f.parameter ?? ''}`.trim()),
      ['nack pli'],
    );
    assert.deepEqual(v.ssrcs, [], 'a receiver announces no SSRC');
    assert.deepEqual(a.payloadTypes, [111]);
    assert.equal(a.direction, 'recvonly');
    assert.deepEqual(parsed.sections[0].ssrcs, [2231627014], 'the RTX SSRC of the FID group is left out');
  });

  test('planPublisher() throws codecs not matched when the browser sends nothing the gateway takes', () => {
    const parsed = parseOffer(offer([{ kind: 'video', dir: 'sendonly', codecs: ['VP9/90000'] }]));
    assert.throws(
      () => planPublisher(parsed),
      /codecs not matched: video:VP9 => video:H264, audio:OPUS,PCMA,PCMU/,
    );
  });

  test('parseOffer() throws BadRequestError with the reason for malformed or unusable offers', () => {
    const good = offer([{ kind: 'video', dir: 'recvonly', codecs: ['H264/90000'] }]);
    const cases: [string, RegExp][] = [
      ['hello', /invalid SDP offer: sdp: /],
      ['v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', /no media section/],
      [good.replace(/a=ice-ufrag:.*\r\n/, ''), /missing a=ice-ufrag/],
      [good.replace(/a=fingerprint:.*\r\n/, ''), /missing a=fingerprint/],
      [good.replace('a=setup:actpass', 'a=setup:passive'), /a=setup:passive/],
      [good.replace('a=mid:0\r\n', ''), /media section 0 has no a=mid/],
    ];
    for (const [text, reason] of cases) {
      assert.throws(
        () => parseOffer(text),
        (err: Error) => err instanceof BadRequestError && reason.test(err.message),
        String(reason),
      );
    }
  });
});
