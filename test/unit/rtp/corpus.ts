/**
 * Known-good RTP and RTCP packets as hex, each with the value it decodes to. One table feeds the
 * parse tests, the serialize tests and the fuzz seeds (gortsplib style). Spaces in hex are ignored.
 */

import type { RtpPacket } from '../../../src/rtp/packet.ts';
import type { RtcpPacket } from '../../../src/rtp/rtcp-types.ts';

/** Bytes from hex with optional spaces. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

export interface RtpCase {
  name: string;
  hex: string;
  packet: RtpPacket;
}

export interface RtcpCase {
  name: string;
  hex: string;
  packets: RtcpPacket[];
}

const base = { version: 2, padding: false, marker: false, csrc: [] as number[] };

export const RTP_CASES: RtpCase[] = [
  {
    name: 'a minimal packet',
    hex: '80 60 0001 11223344 deadbeef 010203',
    packet: {
      ...base,
      csrc: [],
      payloadType: 96,
      sequenceNumber: 1,
      timestamp: 0x11223344,
      ssrc: 0xdeadbeef,
      payload: hex('010203'),
    },
  },
  {
    name: 'a packet with marker, two CSRCs and all-ones counters',
    hex: '82 ef ffff ffffffff 00000001 00000002 00000003 aa',
    packet: {
      ...base,
      marker: true,
      payloadType: 111,
      sequenceNumber: 0xffff,
      timestamp: 0xffffffff,
      ssrc: 1,
      csrc: [2, 3],
      payload: hex('aa'),
    },
  },
  {
    name: 'a packet with a one-byte header extension',
    hex: '90 64 1234 00000000 01020304 bede 0001 10ff0000 cafe',
    packet: {
      ...base,
      csrc: [],
      payloadType: 100,
      sequenceNumber: 0x1234,
      timestamp: 0,
      ssrc: 0x01020304,
      extension: { profile: 0xbede, data: hex('10ff0000') },
      payload: hex('cafe'),
    },
  },
  {
    name: 'a packet with CSRC, marker and a two-byte header extension',
    hex: '91 e0 0002 00000003 00000004 00000005 1000 0001 0502abcd 00',
    packet: {
      ...base,
      marker: true,
      payloadType: 96,
      sequenceNumber: 2,
      timestamp: 3,
      ssrc: 4,
      csrc: [5],
      extension: { profile: 0x1000, data: hex('0502abcd') },
      payload: hex('00'),
    },
  },
  {
    name: 'a padded packet (one padding byte)',
    hex: 'a0 00 0007 000000a0 00000005 010203 01',
    packet: {
      ...base,
      csrc: [],
      padding: true,
      payloadType: 0,
      sequenceNumber: 7,
      timestamp: 160,
      ssrc: 5,
      payload: hex('010203'),
    },
  },
  {
    name: 'a padded packet (four padding bytes)',
    hex: 'a0 08 0008 00000140 00000005 01020304 00000004',
    packet: {
      ...base,
      csrc: [],
      padding: true,
      payloadType: 8,
      sequenceNumber: 8,
      timestamp: 320,
      ssrc: 5,
      payload: hex('01020304'),
    },
  },
  {
    name: 'a packet with an empty payload',
    hex: '80 08 0000 00000000 00000000',
    packet: { ...base, csrc: [], payloadType: 8, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: hex('') },
  },
];

const SR_INFO = {
  ssrc: 1,
  ntpSeconds: 0xe42a5b00,
  ntpFraction: 0x80000000,
  rtpTimestamp: 90000,
  packetCount: 10,
  octetCount: 4000,
};
const SR_INFO_HEX = '00000001 e42a5b00 80000000 00015f90 0000000a 00000fa0';

export const RTCP_CASES: RtcpCase[] = [
  {
    name: 'a sender report without blocks',
    hex: `80c80006 ${SR_INFO_HEX}`,
    packets: [{ type: 'sr', ...SR_INFO, reports: [] }],
  },
  {
    name: 'a sender report with one block',
    hex: `81c8000c ${SR_INFO_HEX} 00000002 10000005 0001ffff 0000002a 5b008000 00010000`,
    packets: [
      {
        type: 'sr',
        ...SR_INFO,
        reports: [
          {
            ssrc: 2,
            fractionLost: 16,
            totalLost: 5,
            highestSequence: 0x1ffff,
            jitter: 42,
            lastSenderReport: 0x5b008000,
            delaySinceLastSenderReport: 65536,
          },
        ],
      },
    ],
  },
  {
    name: 'a receiver report with a negative cumulative loss',
    hex: '81c90007 00000001 00000002 40ffffff 00010005 00000010 12345678 00008000',
    packets: [
      {
        type: 'rr',
        ssrc: 1,
        reports: [
          {
            ssrc: 2,
            fractionLost: 64,
            totalLost: -1,
            highestSequence: 0x10005,
            jitter: 16,
            lastSenderReport: 0x12345678,
            delaySinceLastSenderReport: 0x8000,
          },
        ],
      },
    ],
  },
  {
    name: 'an empty receiver report',
    hex: '80c90001 00000001',
    packets: [{ type: 'rr', ssrc: 1, reports: [] }],
  },
  {
    name: 'an SDES with one CNAME',
    hex: '81ca0003 00000001 01036162 63000000',
    packets: [{ type: 'sdes', chunks: [{ source: 1, items: [{ type: 1, text: 'abc' }] }] }],
  },
  {
    name: 'an SDES with two chunks, one of them empty',
    hex: '82ca0005 00000001 01017802 02797a00 00000002 00000000',
    packets: [
      {
        type: 'sdes',
        chunks: [
          {
            source: 1,
            items: [
              { type: 1, text: 'x' },
              { type: 2, text: 'yz' },
            ],
          },
          { source: 2, items: [] },
        ],
      },
    ],
  },
  { name: 'a BYE without reason', hex: '81cb0001 00000001', packets: [{ type: 'bye', sources: [1] }] },
  {
    name: 'a BYE with a reason',
    hex: '81cb0002 00000001 03627965',
    packets: [{ type: 'bye', sources: [1], reason: 'bye' }],
  },
  {
    name: 'a BYE with two sources and a padded reason',
    hex: '82cb0003 00000001 00000002 01780000',
    packets: [{ type: 'bye', sources: [1, 2], reason: 'x' }],
  },
  {
    name: 'a generic NACK',
    hex: '81cd0003 00000001 00000002 00640005',
    packets: [{ type: 'nack', senderSsrc: 1, mediaSsrc: 2, pairs: [{ pid: 100, blp: 5 }] }],
  },
  {
    name: 'a PLI',
    hex: '81ce0002 00000001 00000002',
    packets: [{ type: 'pli', senderSsrc: 1, mediaSsrc: 2 }],
  },
  {
    name: 'a FIR',
    hex: '84ce0004 00000001 00000000 00000002 07000000',
    packets: [{ type: 'fir', senderSsrc: 1, mediaSsrc: 0, entries: [{ ssrc: 2, sequenceNumber: 7 }] }],
  },
  {
    name: 'a REMB kept raw',
    hex: '8fce0005 00000001 00000000 52454d42 010a1234 00000002',
    packets: [
      { type: 'raw', packetType: 206, count: 15, body: hex('00000001 00000000 52454d42 010a1234 00000002') },
    ],
  },
  {
    name: 'an APP packet kept raw',
    hex: '80cc0002 00000001 6e616d65',
    packets: [{ type: 'raw', packetType: 204, count: 0, body: hex('00000001 6e616d65') }],
  },
  {
    name: 'a raw packet whose body needs padding',
    hex: 'a1cc0002 00000001 61000003',
    packets: [{ type: 'raw', packetType: 204, count: 1, body: hex('00000001 61') }],
  },
  {
    name: 'a compound SR + SDES',
    hex: `80c80006 ${SR_INFO_HEX} 81ca0003 00000001 01036162 63000000`,
    packets: [
      { type: 'sr', ...SR_INFO, reports: [] },
      { type: 'sdes', chunks: [{ source: 1, items: [{ type: 1, text: 'abc' }] }] },
    ],
  },
  {
    name: 'a compound RR + SDES + BYE',
    hex: '80c90001 00000001 81ca0003 00000001 01036162 63000000 81cb0001 00000001',
    packets: [
      { type: 'rr', ssrc: 1, reports: [] },
      { type: 'sdes', chunks: [{ source: 1, items: [{ type: 1, text: 'abc' }] }] },
      { type: 'bye', sources: [1] },
    ],
  },
];
