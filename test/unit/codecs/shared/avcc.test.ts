import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { annexBToAvcc, avccToAnnexB, joinAvcc, splitAnnexB, splitAvcc } from '../../../../src/codecs/avcc.ts';
import { ParseError } from '../../../../src/core/errors.ts';
import { hex } from '../fixtures.ts';

// One table for both directions: Annex B in, AVCC out, and back (with 4-byte start codes).
const CASES: { name: string; annexB: Buffer; avcc: Buffer; canonical: boolean }[] = [
  {
    name: 'two NAL units with 4-byte start codes',
    annexB: hex('00000001 6742 00000001 68ce'),
    avcc: hex('00000002 6742 00000002 68ce'),
    canonical: true,
  },
  {
    name: '3-byte start codes and a trailing zero byte',
    annexB: hex('000001 6742 000001 68ce00'),
    avcc: hex('00000002 6742 00000002 68ce'),
    canonical: false,
  },
  {
    name: 'bytes before the first start code and an empty NAL unit',
    annexB: hex('ff 00000001 00000001 65888400'),
    avcc: hex('00000003 658884'),
    canonical: false,
  },
  { name: 'an empty stream', annexB: Buffer.alloc(0), avcc: Buffer.alloc(0), canonical: true },
];

describe('Annex B <-> AVCC', () => {
  for (const c of CASES) {
    test(`annexBToAvcc() converts ${c.name}`, () => {
      const before = Buffer.from(c.annexB);
      assert.deepEqual(annexBToAvcc(c.annexB), c.avcc);
      assert.deepEqual(c.annexB, before, 'input not modified');
    });
    if (c.canonical) {
      test(`avccToAnnexB() converts back ${c.name}`, () => {
        assert.deepEqual(avccToAnnexB(c.avcc), c.annexB);
      });
    }
  }

  test('splitAnnexB() throws ParseError for data without a start code', () => {
    assert.throws(() => splitAnnexB(hex('6742c01f')), ParseError);
  });

  test('splitAvcc() returns views into its input', () => {
    const data = hex('00000002 6742 00000001 68');
    const nals = splitAvcc(data);
    assert.deepEqual(nals, [hex('6742'), hex('68')]);
    assert.equal(nals[0].buffer, data.buffer);
  });

  test('splitAvcc() reads 1- and 2-byte length prefixes', () => {
    assert.deepEqual(splitAvcc(hex('02 6742 01 68'), 1), [hex('6742'), hex('68')]);
    assert.deepEqual(splitAvcc(hex('0002 6742'), 2), [hex('6742')]);
  });

  for (const [name, data] of [
    ['a truncated length', hex('000000')],
    ['a length past the end', hex('00000005 6742')],
    ['a zero length', hex('00000000')],
    ['a huge length', hex('ffffffff 67')],
  ] as const) {
    test(`splitAvcc() throws ParseError on ${name}`, () => {
      assert.throws(() => splitAvcc(data), ParseError);
    });
  }

  test('joinAvcc() and splitAvcc() round-trip a list of NAL units', () => {
    const nals = [hex('6742c01f'), hex('68ce3c80'), Buffer.alloc(70000, 0x65)];
    assert.deepEqual(splitAvcc(joinAvcc(nals)), nals);
  });
});
