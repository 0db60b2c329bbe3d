import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDepayloader, createPayloader, depayloadAll, h264 } from '../../../../src/codecs/index.ts';
import { BadRequestError, UnsupportedError } from '../../../../src/core/errors.ts';
import type { Codec, CodecName } from '../../../../src/core/media.ts';

const codec = (name: CodecName, clockRate = 90000): Codec => ({ name, clockRate });

describe('codec factories', () => {
  for (const name of ['H264', 'H265', 'AAC', 'OPUS', 'PCMA', 'PCMU', 'L16'] as const) {
    test(`createDepayloader() and createPayloader() return a working pair for ${name}`, () => {
      const c = codec(name, name === 'H264' || name === 'H265' ? 90000 : 48000);
      const d = createDepayloader(c);
      const p = createPayloader(c, 500);
      assert.equal(p.mtu, 500);
      assert.equal(d.dropped, 0);
      assert.equal(typeof d.reset, 'function');
    });
  }

  test('createDepayloader() throws UnsupportedError naming the codec for JPEG', () => {
    assert.throws(
      () => createDepayloader(codec('JPEG')),
      (e: unknown) => e instanceof UnsupportedError && /JPEG\/90000/.test(e.message),
    );
  });

  test('createPayloader() throws UnsupportedError for JPEG and BadRequestError for a tiny MTU', () => {
    assert.throws(() => createPayloader(codec('JPEG')), UnsupportedError);
    assert.throws(() => createPayloader(codec('H264'), 1), BadRequestError);
  });

  test('createPayloader() defaults the MTU to 1200 bytes', () => {
    assert.equal(createPayloader(codec('H264')).mtu, 1200);
  });

  test('depayloadAll() returns every frame a packet completes through the factory depayloader', () => {
    const d = createDepayloader(codec('H264'));
    const idr = Buffer.from([0x65, 0x88, 0x80]);
    const out = depayloadAll(d, { payload: idr, timestamp: 0, marker: true, sequenceNumber: 0 });
    assert.deepEqual(
      out.map((f) => h264.splitAvcc(f.data)),
      [[idr]],
    );
  });
});
