/**
 * Content detection of HTTP sources: by Content-Type first, by the first bytes for missing or
 * generic types; and the URL options.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildAdtsHeader } from '../../../src/codecs/aac/adts.ts';
import { FlvMuxer } from '../../../src/formats/flv/muxer.ts';
import { TsMuxer } from '../../../src/formats/ts/muxer.ts';
import {
  detectContent,
  kindFromMagic,
  multipartBoundary,
} from '../../../src/protocols/http/source/detect.ts';
import { parseHttpSourceUrl } from '../../../src/protocols/http/source/url.ts';
import { SYNTHETIC_MEDIAS, syntheticVideo } from '../ts/media-helpers.ts';

const adts = (n: number) =>
  Buffer.concat([
    buildAdtsHeader({ objectType: 2, sampleRate: 44100, channelConfig: 2 }, n),
    Buffer.alloc(n, 0x21),
  ]);

function tsBytes(): Buffer {
  const muxer = new TsMuxer(SYNTHETIC_MEDIAS.slice(0, 1));
  return Buffer.concat([muxer.header(), ...syntheticVideo(3).map((f) => muxer.frame(0, f))]);
}

describe('HTTP content detection', () => {
  const byType: [string, string, string | undefined][] = [
    ['video/x-flv', 'flv', undefined],
    ['video/MP2T', 'mpegts', undefined],
    ['multipart/x-mixed-replace; boundary=--myboundary', 'mjpeg', 'myboundary'],
    ['multipart/x-mixed-replace;boundary="frame"', 'mjpeg', 'frame'],
    ['image/jpeg', 'jpeg', undefined],
    ['video/H264', 'h264', undefined],
    ['video/hevc', 'h265', undefined],
    ['audio/aac; charset=binary', 'adts', undefined],
  ];
  for (const [type, kind, boundary] of byType) {
    test(`detectContent() takes "${type}" as ${kind} without looking at the body`, () => {
      assert.deepEqual(detectContent(type, Buffer.alloc(0), false), boundary ? { kind, boundary } : { kind });
    });
  }

  const byMagic: [string, Buffer, string][] = [
    ['an FLV header', Buffer.from('FLV\x01\x05\x00\x00\x00\x09', 'latin1'), 'flv'],
    ['MPEG-TS packets', tsBytes(), 'mpegts'],
    ['a JPEG picture', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), 'jpeg'],
    ['an H.264 SPS after a 4-byte start code', Buffer.from([0, 0, 0, 1, 0x67, 0x64, 0, 0x1f]), 'h264'],
    ['an H.264 AUD after a 3-byte start code', Buffer.from([0, 0, 1, 0x09, 0xf0, 0, 0, 1]), 'h264'],
    ['an H.265 VPS', Buffer.from([0, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01]), 'h265'],
    ['an H.265 AUD', Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x50, 0]), 'h265'],
    ['two ADTS frames', Buffer.concat([adts(20), adts(30)]), 'adts'],
    [
      'a multipart body without Content-Type',
      Buffer.from('--cam\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\n\r\n', 'latin1'),
      'mjpeg',
    ],
  ];
  for (const [name, head, kind] of byMagic) {
    test(`detectContent() recognizes ${name} under application/octet-stream`, () => {
      const d = detectContent('application/octet-stream', head, false);
      assert.ok(d && d !== 'more', `decided: ${JSON.stringify(d)}`);
      assert.equal(d.kind, kind);
    });
  }

  test('kindFromMagic() asks for more bytes until three TS packets or the next ADTS sync are there', () => {
    const ts = tsBytes();
    assert.equal(kindFromMagic(ts.subarray(0, 200), false), 'more');
    assert.deepEqual(kindFromMagic(ts.subarray(0, 200), true), { kind: 'mpegts' });
    assert.equal(kindFromMagic(adts(20).subarray(0, 25), false), 'more');
    assert.equal(kindFromMagic(Buffer.from([0x46]), false), 'more');
    assert.equal(kindFromMagic(Buffer.from('<htm', 'latin1'), false), undefined);
  });

  test('detectContent() gives undefined for an HTML page or an HLS playlist', () => {
    assert.equal(
      detectContent('text/html', Buffer.from('<!DOCTYPE html><html>', 'latin1'), false),
      undefined,
    );
    assert.equal(
      detectContent(
        'application/vnd.apple.mpegurl',
        Buffer.from('#EXTM3U\n#EXT-X-VERSION:3\n', 'latin1'),
        true,
      ),
      undefined,
    );
  });

  test('multipartBoundary() strips quotes and a leading "--"', () => {
    assert.equal(multipartBoundary('multipart/x-mixed-replace; boundary="--ipcam"'), 'ipcam');
    assert.equal(multipartBoundary('multipart/x-mixed-replace'), undefined);
  });

  test('FlvMuxer output is recognized as FLV by its first bytes', () => {
    const head = new FlvMuxer(SYNTHETIC_MEDIAS).header();
    assert.deepEqual(detectContent(undefined, head, false), { kind: 'flv' });
  });
});

describe('HTTP source URLs', () => {
  test('parseHttpSourceUrl() reads repeated #header options, #interval, #timeout and #format', () => {
    const o = parseHttpSourceUrl(
      'http://admin:p%40ss@cam.local:8080/snap.jpg?ch=1#header=X-Token: a&b c#header=Referer: http://x/#interval=0.5#timeout=2#format=jpeg',
    );
    assert.equal(o.url, 'http://cam.local:8080/snap.jpg?ch=1');
    assert.equal(o.auth, 'admin:p@ss');
    assert.deepEqual(o.headers, { 'X-Token': 'a&b c', Referer: 'http://x/' });
    assert.deepEqual(
      [o.snapshotIntervalMs, o.connectTimeoutMs, o.noDataTimeoutMs, o.format],
      [500, 2000, 2000, 'jpeg'],
    );
    assert.equal(
      o.display,
      'http://admin:***@cam.local:8080/snap.jpg?ch=1',
      'options and the password are not shown',
    );
  });

  test('parseHttpSourceUrl() throws BadRequestError for a header without a colon, a CR/LF or a bad option value', () => {
    for (const url of [
      'http://h/x#header=NoColon',
      'http://h/x#header=Bad Name: v',
      'http://h/x#header=X: a%0D%0AInjected: 1',
      'http://h/x#interval=0',
      'http://h/x#timeout=abc',
      'http://h/x#format=mp4',
      'ftp://h/x',
    ]) {
      assert.throws(() => parseHttpSourceUrl(url), /source/, url);
    }
  });
});
