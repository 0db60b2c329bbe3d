import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../../src/core/errors.ts';
import type { Media } from '../../../src/core/media.ts';
import { mediasToSdp, parseSdp, sdpToMedias, viewMedias } from '../../../src/sdp/index.ts';

const H264: Media = {
  kind: 'video',
  direction: 'sendonly',
  codecs: [
    {
      name: 'H264',
      clockRate: 90000,
      fmtp: {
        'packetization-mode': '1',
        'profile-level-id': '42e01f',
        'sprop-parameter-sets': 'Z0LgH5ZUBQHtCAAAAwAIAAADAPB4wZU=,aM4xsg==',
      },
    },
  ],
};
const AAC: Media = {
  kind: 'audio',
  direction: 'sendonly',
  codecs: [
    {
      name: 'AAC',
      clockRate: 44100,
      channels: 2,
      fmtp: {
        streamtype: '5',
        'profile-level-id': '1',
        mode: 'AAC-hbr',
        sizelength: '13',
        indexlength: '3',
        indexdeltalength: '3',
        config: '1210',
      },
    },
  ],
};

describe('mediasToSdp()', () => {
  test('mediasToSdp() writes an RTSP DESCRIBE body with rtpmap, fmtp and trackID controls', () => {
    const text = mediasToSdp(
      [
        H264,
        AAC,
        { kind: 'audio', direction: 'sendonly', codecs: [{ name: 'PCMA', clockRate: 8000, channels: 1 }] },
      ],
      {
        address: '192.168.1.2',
        sessionId: '123',
      },
    );
    assert.equal(
      text,
      [
        'v=0',
        'o=- 123 0 IN IP4 192.168.1.2',
        's=mediagate',
        'c=IN IP4 0.0.0.0',
        't=0 0',
        'm=video 0 RTP/AVP 96',
        'a=control:trackID=0',
        'a=rtpmap:96 H264/90000',
        'a=fmtp:96 packetization-mode=1;profile-level-id=42e01f;sprop-parameter-sets=Z0LgH5ZUBQHtCAAAAwAIAAADAPB4wZU=,aM4xsg==',
        'm=audio 0 RTP/AVP 96',
        'a=control:trackID=1',
        'a=rtpmap:96 MPEG4-GENERIC/44100/2',
        'a=fmtp:96 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210',
        'm=audio 0 RTP/AVP 8',
        'a=control:trackID=2',
        'a=rtpmap:8 PCMA/8000',
        '',
      ].join('\r\n'),
    );
  });

  test('sdpToMedias() of mediasToSdp() gives back the codecs with payload types and mirrored directions', () => {
    const backchannel: Media = {
      kind: 'audio',
      direction: 'recvonly',
      id: 'back',
      codecs: [{ name: 'PCMU', clockRate: 8000, channels: 1 }],
    };
    const opus: Media = {
      kind: 'audio',
      direction: 'sendonly',
      codecs: [{ name: 'OPUS', clockRate: 48000, channels: 2, payloadType: 111 }],
    };
    const medias = sdpToMedias(mediasToSdp([H264, AAC, opus, backchannel]));
    assert.deepEqual(medias, [
      { ...H264, direction: 'recvonly', id: 'trackID=0', codecs: [{ ...H264.codecs[0], payloadType: 96 }] },
      { ...AAC, direction: 'recvonly', id: 'trackID=1', codecs: [{ ...AAC.codecs[0], payloadType: 96 }] },
      { ...opus, direction: 'recvonly', id: 'trackID=2' },
      { ...backchannel, direction: 'sendonly', codecs: [{ ...backchannel.codecs[0], payloadType: 0 }] },
    ]);
  });

  test('mediasToSdp() writes opus with two channels and skips payload types already taken', () => {
    const text = mediasToSdp([
      {
        kind: 'audio',
        direction: 'sendonly',
        codecs: [
          { name: 'OPUS', clockRate: 48000, channels: 1 },
          { name: 'L16', clockRate: 16000, channels: 1, payloadType: 96 },
        ],
      },
    ]);
    const [view] = viewMedias(parseSdp(text));
    assert.deepEqual(view.payloadTypes, [97, 96]);
    assert.equal(view.rtpmaps.get(97)?.channels, 2);
    assert.equal(view.rtpmaps.get(96)?.encoding, 'L16');
  });

  test('mediasToSdp() throws BadRequestError when a section runs out of dynamic payload types', () => {
    const codecs = Array.from({ length: 33 }, () => ({ name: 'H264' as const, clockRate: 90000 }));
    assert.throws(() => mediasToSdp([{ kind: 'video', direction: 'sendonly', codecs }]), BadRequestError);
  });
});

describe('sdpToMedias()', () => {
  const body = (dirs: string[], port = 0) =>
    [
      'v=0',
      ...dirs.flatMap((d, i) => [`m=audio ${port} RTP/AVP 0`, `a=mid:${i}`, ...(d ? [`a=${d}`] : [])]),
    ].join('\r\n');

  test('sdpToMedias() takes RTSP directions as the client side and defaults to recvonly', () => {
    const dirs = sdpToMedias(body(['', 'recvonly', 'sendonly', 'sendrecv', 'inactive'])).map(
      (m) => m.direction,
    );
    assert.deepEqual(dirs, ['recvonly', 'recvonly', 'sendonly', 'sendrecv']);
  });

  test('sdpToMedias() mirrors WebRTC directions and defaults to sendrecv', () => {
    const dirs = sdpToMedias(body(['', 'recvonly', 'sendonly', 'sendrecv', 'inactive'], 9), {
      perspective: 'peer',
    }).map((m) => m.direction);
    assert.deepEqual(dirs, ['sendrecv', 'sendonly', 'recvonly', 'sendrecv']);
  });

  test('sdpToMedias() drops port-0 sections for a peer unless they are bundle-only', () => {
    const text =
      'v=0\r\nm=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=mid:a\r\nm=audio 0 UDP/TLS/RTP/SAVPF 8\r\na=mid:b\r\na=bundle-only\r\n';
    assert.deepEqual(
      sdpToMedias(text, { perspective: 'peer' }).map((m) => m.id),
      ['b'],
    );
    assert.equal(sdpToMedias(text).length, 2);
  });

  test('sdpToMedias() uses the first rtpmap of a payload type and merges repeated fmtp lines', () => {
    const text =
      'v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H265/90000\na=rtpmap:96 H264/90000\na=fmtp:96 a=1\na=fmtp:96 b=2\n';
    assert.deepEqual(sdpToMedias(text)[0].codecs, [
      { name: 'H265', clockRate: 90000, payloadType: 96, fmtp: { a: '1', b: '2' } },
    ]);
  });

  test('sdpToMedias() drops sections whose codecs are all unknown', () => {
    const text = 'v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 VP8/90000\nm=audio 0 RTP/AVP 9 14\n';
    assert.deepEqual(sdpToMedias(text), []);
  });
});
