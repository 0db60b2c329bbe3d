import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../../src/core/errors.ts';
import { rtspServerOptions } from '../../../src/protocols/rtsp/server/index.ts';
import { parseTarget, requestsFromQuery } from '../../../src/protocols/rtsp/server/query.ts';

const base = { maxConnections: 1000, sessionTimeoutMs: 60000 };

describe('RTSP server URLs and options', () => {
  test('parseTarget() finds the stream name, the query and a trackID appended after the query', () => {
    assert.deepEqual(parseTarget('rtsp://127.0.0.1:8554/demo'), { name: 'demo', query: '' });
    assert.deepEqual(parseTarget('rtsp://h/demo/'), { name: 'demo', query: '' });
    assert.deepEqual(parseTarget('rtsp://h/demo/trackID=1'), { name: 'demo', query: '', trackIndex: 1 });
    assert.deepEqual(parseTarget('rtsp://h/demo?video=h264/trackID=0'), {
      name: 'demo',
      query: 'video=h264',
      trackIndex: 0,
    });
    assert.deepEqual(parseTarget('rtsp://u:p@h:1/cams/front%20door?audio'), {
      name: 'cams/front door',
      query: 'audio',
    });
    assert.deepEqual(parseTarget('/demo?video'), { name: 'demo', query: 'video' });
  });

  test('parseTarget() throws BadRequestError for URLs without a stream or that do not parse', () => {
    for (const bad of [
      '*',
      'rtsp://h/',
      'rtsp://h',
      'rtsp://h/%zz',
      'http//x',
      `rtsp://h/${'a'.repeat(5000)}`,
    ]) {
      assert.throws(() => parseTarget(bad), BadRequestError, bad);
    }
  });

  test('requestsFromQuery() follows go2rtc: no query = any video and any audio, lists are preferences', () => {
    assert.deepEqual(requestsFromQuery(''), [
      { kind: 'video', codecs: 'any' },
      { kind: 'audio', codecs: 'any' },
    ]);
    assert.deepEqual(requestsFromQuery('', 'video'), [{ kind: 'video', codecs: 'any' }]);
    assert.deepEqual(requestsFromQuery('video=all&x=1'), [{ kind: 'video', codecs: 'any' }]);
    assert.deepEqual(requestsFromQuery('audio=pcma,OPUS&video=hevc'), [
      {
        kind: 'audio',
        codecs: [
          { name: 'PCMA', clockRate: 0 },
          { name: 'OPUS', clockRate: 0 },
        ],
      },
      { kind: 'video', codecs: [{ name: 'H265', clockRate: 0 }] },
    ]);
    assert.throws(() => requestsFromQuery('video=vp9'), /unknown video codec "vp9"/);
  });

  test('rtspServerOptions() puts UDP on 8000/8001 of the listen host, OS-chosen with an OS-chosen TCP port, off with ""', () => {
    assert.deepEqual(rtspServerOptions({ ...base, listen: ':8554' })?.udp, {
      host: undefined,
      rtpPort: 8000,
      rtcpPort: 8001,
    });
    assert.deepEqual(rtspServerOptions({ ...base, listen: '127.0.0.1:0' })?.udp, {
      host: '127.0.0.1',
      rtpPort: 0,
      rtcpPort: 0,
    });
    assert.deepEqual(rtspServerOptions({ ...base, listen: ':8554', rtpListen: ':9000' })?.udp, {
      host: undefined,
      rtpPort: 9000,
      rtcpPort: 9001,
    });
    assert.equal(rtspServerOptions({ ...base, listen: ':8554', rtpListen: '' })?.udp, undefined);
    assert.equal(rtspServerOptions({ ...base, listen: '' }), undefined);
  });
});
