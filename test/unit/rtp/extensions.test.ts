import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError, ParseError } from '../../../src/core/errors.ts';
import {
  chooseExtensionForm,
  findExtension,
  ONE_BYTE_PROFILE,
  readExtensions,
  serializeExtensions,
  TWO_BYTE_PROFILE,
} from '../../../src/rtp/extensions.ts';
import { parseRtp, serializeRtp } from '../../../src/rtp/packet.ts';
import { hex } from './corpus.ts';

const oneByte = (h: string) => ({ profile: ONE_BYTE_PROFILE, data: hex(h) });
const twoByte = (h: string) => ({ profile: TWO_BYTE_PROFILE, data: hex(h) });

// One table for both directions: elements <-> block data.
const CASES = [
  {
    name: 'one-byte elements of 1 and 3 bytes',
    block: oneByte('10aa 32bbccdd 0000'),
    elements: [
      { id: 1, data: hex('aa') },
      { id: 3, data: hex('bbccdd') },
    ],
  },
  {
    name: 'a one-byte element of 16 bytes',
    block: oneByte(`ef${'11'.repeat(16)} 000000`),
    elements: [{ id: 14, data: hex('11'.repeat(16)) }],
  },
  {
    name: 'two-byte elements including an empty one and ID 200',
    block: twoByte('0100 c802abcd 0000'),
    elements: [
      { id: 1, data: hex('') },
      { id: 200, data: hex('abcd') },
    ],
  },
];

describe('RTP header extensions (RFC 8285)', () => {
  for (const c of CASES) {
    test(`readExtensions() reads ${c.name}`, () => {
      assert.deepEqual(readExtensions(c.block), c.elements);
    });
    test(`serializeExtensions() writes ${c.name}`, () => {
      assert.deepEqual(serializeExtensions(c.elements), c.block);
    });
  }

  test('readExtensions() skips padding bytes between one-byte elements and stops at ID 15', () => {
    assert.deepEqual(readExtensions(oneByte('00 10aa 00 20bb f0 30cc')), [
      { id: 1, data: hex('aa') },
      { id: 2, data: hex('bb') },
    ]);
  });

  test('readExtensions() returns views into the packet', () => {
    const packet = parseRtp(hex('90 60 0001 00000000 00000001 bede 0001 10aa0000'));
    const [e] = readExtensions(packet.extension!);
    assert.equal(e.data.buffer, packet.payload.buffer);
  });

  test('readExtensions() returns [] for a profile that is not RFC 8285', () => {
    assert.deepEqual(readExtensions({ profile: 0x1234, data: hex('10aa0000') }), []);
  });

  test('readExtensions() throws ParseError for elements that run past the block', () => {
    assert.throws(() => readExtensions(oneByte('13aabb')), ParseError);
    assert.throws(() => readExtensions(twoByte('0105aabb')), ParseError);
    assert.throws(() => readExtensions(twoByte('0000 0001')), ParseError);
  });

  test('findExtension() returns the first element with the ID, or undefined', () => {
    const block = oneByte('10aa 21bbcc 30dd 0000');
    assert.deepEqual(findExtension(block, 2), hex('bbcc'));
    assert.equal(findExtension(block, 9), undefined);
  });

  test('chooseExtensionForm() falls back to the two-byte form for ID 15+, empty or long data', () => {
    assert.equal(chooseExtensionForm([{ id: 14, data: hex('01') }]), 'one-byte');
    assert.equal(chooseExtensionForm([{ id: 15, data: hex('01') }]), 'two-byte');
    assert.equal(chooseExtensionForm([{ id: 1, data: hex('') }]), 'two-byte');
    assert.equal(chooseExtensionForm([{ id: 1, data: Buffer.alloc(17) }]), 'two-byte');
  });

  test('serializeExtensions() throws BadRequestError for an element the form cannot carry', () => {
    assert.throws(() => serializeExtensions([{ id: 15, data: hex('01') }], 'one-byte'), BadRequestError);
    assert.throws(() => serializeExtensions([{ id: 0, data: hex('01') }], 'two-byte'), BadRequestError);
    assert.throws(() => serializeExtensions([{ id: 1, data: Buffer.alloc(256) }]), BadRequestError);
  });

  test('serializeRtp() carries a built extension block that parseRtp() reads back', () => {
    const elements = [{ id: 5, data: hex('0102') }];
    const packet = {
      version: 2,
      padding: false,
      marker: false,
      payloadType: 96,
      sequenceNumber: 1,
      timestamp: 2,
      ssrc: 3,
      csrc: [],
      extension: serializeExtensions(elements),
      payload: hex('ff'),
    };
    assert.deepEqual(readExtensions(parseRtp(serializeRtp(packet)).extension!), elements);
  });
});
