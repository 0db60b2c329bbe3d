import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AacDepayloader,
  AacPayloader,
  aacCodecString,
  aacConfigFromHex,
  aacFmtp,
  auHeaderLayout,
  buildAdtsHeader,
  buildAudioSpecificConfig,
  parseAdtsHeader,
  parseAudioSpecificConfig,
} from '../../../../src/codecs/aac/index.ts';
import type { RtpOutput } from '../../../../src/codecs/rtp-types.ts';
import { BadRequestError, ParseError, UnsupportedError } from '../../../../src/core/errors.ts';
import type { Codec, Frame } from '../../../../src/core/media.ts';
import { hex } from '../fixtures.ts';
import { depayloadPackets, patterned, pkt, toPackets } from '../rtp-helpers.ts';

// AudioSpecificConfig cases; `bytes` round-trips through build and parse.
const ASC_CASES = [
  {
    name: 'AAC LC 48 kHz stereo',
    bytes: '1190',
    objectType: 2,
    sampleRate: 48000,
    channelConfig: 2,
    channels: 2,
    frameLength: 1024,
  },
  {
    name: 'AAC LC 44.1 kHz stereo',
    bytes: '1210',
    objectType: 2,
    sampleRate: 44100,
    channelConfig: 2,
    channels: 2,
    frameLength: 1024,
  },
  {
    name: 'AAC LC 16 kHz mono',
    bytes: '1408',
    objectType: 2,
    sampleRate: 16000,
    channelConfig: 1,
    channels: 1,
    frameLength: 1024,
  },
  {
    name: 'AAC LC 8 kHz mono, 960-sample frames',
    bytes: '158c',
    objectType: 2,
    sampleRate: 8000,
    channelConfig: 1,
    channels: 1,
    frameLength: 960,
  },
  {
    name: 'AAC Main 96 kHz 5.1',
    bytes: '0830',
    objectType: 1,
    sampleRate: 96000,
    channelConfig: 6,
    channels: 6,
    frameLength: 1024,
  },
  {
    name: 'AAC LC 7.1 (config 7 = 8 channels)',
    bytes: '11b8',
    objectType: 2,
    sampleRate: 48000,
    channelConfig: 7,
    channels: 8,
    frameLength: 1024,
  },
  // 00010 | 1111 (explicit) | 9600 in 24 bits | 0001 | 000
  {
    name: 'AAC LC with an explicit 9600 Hz rate',
    bytes: '178012c008',
    objectType: 2,
    sampleRate: 9600,
    channelConfig: 1,
    channels: 1,
    frameLength: 1024,
  },
  // 11111 (escape) | 000010 (32 + 2 = 34, no GASpecificConfig) | 0011 | 0010
  {
    name: 'object type 34 through the escape value',
    bytes: 'f84640',
    objectType: 34,
    sampleRate: 48000,
    channelConfig: 2,
    channels: 2,
    frameLength: 1024,
  },
] as const;

describe('AudioSpecificConfig', () => {
  for (const c of ASC_CASES) {
    test(`parseAudioSpecificConfig() reads ${c.name}`, () => {
      const asc = parseAudioSpecificConfig(hex(c.bytes));
      assert.equal(asc.objectType, c.objectType);
      assert.equal(asc.sampleRate, c.sampleRate);
      assert.equal(asc.channelConfig, c.channelConfig);
      assert.equal(asc.channels, c.channels);
      assert.equal(asc.frameLength, c.frameLength);
    });

    test(`buildAudioSpecificConfig() writes ${c.name}`, () => {
      const built = buildAudioSpecificConfig(c);
      assert.deepEqual(parseAudioSpecificConfig(built), parseAudioSpecificConfig(hex(c.bytes)));
      assert.equal(built.toString('hex'), c.bytes);
    });
  }

  test("parseAudioSpecificConfig() reads ffmpeg's config with the SBR sync extension (esds of an AAC LC mp4)", () => {
    const asc = parseAudioSpecificConfig(hex('119056e500'));
    assert.deepEqual([asc.objectType, asc.sampleRate, asc.channels], [2, 48000, 2]);
  });

  test('parseAudioSpecificConfig() reads explicit HE-AAC v2 signalling (object type 29)', () => {
    // 11101 (PS) | 0110 (24000) | 0001 | ext 0011 (48000) | 00010 (LC) | 000
    const asc = parseAudioSpecificConfig(hex('eb098800'));
    assert.equal(asc.ps, true);
    assert.equal(asc.objectType, 2);
    assert.equal(asc.sampleRate, 24000);
    assert.equal(asc.extensionSampleRate, 48000);
  });

  for (const [name, bytes] of [
    ['an empty buffer', ''],
    ['one byte', '12'],
    ['object type 0', '0190'],
    ['a reserved frequency index 13', '1688'],
    ['an explicit rate of 0', '178000000800'],
    ['an explicit rate cut short', '1780'],
    ['an escaped object type cut short', 'f8'],
  ] as const) {
    test(`parseAudioSpecificConfig() throws ParseError on ${name}`, () => {
      assert.throws(() => parseAudioSpecificConfig(hex(bytes)), ParseError);
    });
  }

  test('buildAudioSpecificConfig() throws BadRequestError for values out of range', () => {
    assert.throws(
      () => buildAudioSpecificConfig({ objectType: 0, sampleRate: 48000, channelConfig: 2 }),
      BadRequestError,
    );
    assert.throws(
      () => buildAudioSpecificConfig({ objectType: 2, sampleRate: 0, channelConfig: 2 }),
      BadRequestError,
    );
    assert.throws(
      () => buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channelConfig: 16 }),
      BadRequestError,
    );
  });

  test('aacCodecString() returns mp4a.40.<object type>', () => {
    assert.equal(aacCodecString(parseAudioSpecificConfig(hex('1190'))), 'mp4a.40.2');
  });

  test('aacFmtp() and aacConfigFromHex() round-trip the config', () => {
    const fmtp = aacFmtp(hex('1190'));
    assert.equal(fmtp.config, '1190');
    assert.equal(fmtp.mode, 'AAC-hbr');
    assert.deepEqual(aacConfigFromHex(fmtp.config), hex('1190'));
    assert.throws(() => aacConfigFromHex('119'), ParseError);
    assert.throws(() => aacConfigFromHex('zz'), ParseError);
  });

  test('auHeaderLayout() defaults by mode and throws UnsupportedError for CTS-delta fields', () => {
    assert.deepEqual(auHeaderLayout({ mode: 'AAC-lbr' }), {
      sizeLength: 6,
      indexLength: 2,
      indexDeltaLength: 2,
    });
    assert.deepEqual(auHeaderLayout(undefined), { sizeLength: 13, indexLength: 3, indexDeltaLength: 3 });
    assert.throws(() => auHeaderLayout({ mode: 'AAC-hbr', ctsdeltalength: '16' }), UnsupportedError);
  });
});

describe('ADTS', () => {
  // Headers written by ffmpeg's native AAC encoder: `ffmpeg -f lavfi -i sine=r=R -ac C -c:a aac -f adts -`.
  const ADTS_CASES = [
    {
      name: '44.1 kHz stereo',
      header: 'fff150802b3ffc',
      sampleRate: 44100,
      channelConfig: 2,
      frameLength: 345,
    },
    { name: '48 kHz mono', header: 'fff14c401b7ffc', sampleRate: 48000, channelConfig: 1, frameLength: 219 },
  ];
  for (const c of ADTS_CASES) {
    test(`parseAdtsHeader() reads ffmpeg's ${c.name} header and buildAdtsHeader() writes it back`, () => {
      const h = parseAdtsHeader(hex(c.header));
      assert.deepEqual(
        [h.objectType, h.sampleRate, h.channelConfig, h.frameLength, h.headerSize, h.rawDataBlocks],
        [2, c.sampleRate, c.channelConfig, c.frameLength, 7, 1],
      );
      assert.equal(buildAdtsHeader(h, h.frameLength - 7).toString('hex'), c.header);
    });
  }

  test('parseAdtsHeader() reads at an offset and reports a CRC header as 9 bytes', () => {
    const h = parseAdtsHeader(hex('00 fff050802b3ffc 0000'), 1);
    assert.equal(h.headerSize, 9);
  });

  test('parseAdtsHeader() throws ParseError on a bad sync word, a short buffer or a length below the header', () => {
    assert.throws(() => parseAdtsHeader(hex('fef150802b3ffc')), ParseError);
    assert.throws(() => parseAdtsHeader(hex('fff15080')), ParseError);
    assert.throws(() => parseAdtsHeader(hex('fff1508000dffc')), ParseError);
  });

  test('buildAdtsHeader() throws BadRequestError for configs ADTS cannot express', () => {
    assert.throws(
      () => buildAdtsHeader({ objectType: 5, sampleRate: 48000, channelConfig: 2 }, 10),
      BadRequestError,
    );
    assert.throws(
      () => buildAdtsHeader({ objectType: 2, sampleRate: 9600, channelConfig: 2 }, 10),
      BadRequestError,
    );
    assert.throws(
      () => buildAdtsHeader({ objectType: 2, sampleRate: 48000, channelConfig: 2 }, 9000),
      BadRequestError,
    );
  });
});

const CODEC: Codec = { name: 'AAC', clockRate: 48000, channels: 2, fmtp: aacFmtp(hex('1190')) };
const AU1 = patterned([0x21, 0x10], 300);
const AU2 = patterned([0x21, 0x11], 3000);
const audio = (pts: number, data: Buffer): Frame => ({ pts, dts: pts, keyframe: true, data });
/** AU-headers-length 16 + one 13/3 header with `size`. */
const auHeader = (size: number) => Buffer.from([0x00, 0x10, size >> 5, (size << 3) & 0xff]);

/** One table for both directions. */
const ROUND_TRIP: { name: string; mtu?: number; frames: Frame[]; packets: RtpOutput[] }[] = [
  {
    name: 'one AU per packet',
    frames: [audio(0, AU1), audio(1024, AU1.subarray(0, 10))],
    packets: [
      { payload: Buffer.concat([auHeader(300), AU1]), timestamp: 0, marker: true },
      { payload: Buffer.concat([auHeader(10), AU1.subarray(0, 10)]), timestamp: 1024, marker: true },
    ],
  },
  {
    name: 'a 3000-byte AU fragmented over three packets',
    frames: [audio(2048, AU2)],
    packets: [
      { payload: Buffer.concat([auHeader(3000), AU2.subarray(0, 1196)]), timestamp: 2048, marker: false },
      { payload: Buffer.concat([auHeader(3000), AU2.subarray(1196, 2392)]), timestamp: 2048, marker: false },
      { payload: Buffer.concat([auHeader(3000), AU2.subarray(2392)]), timestamp: 2048, marker: true },
    ],
  },
];

describe('AacPayloader and AacDepayloader round trip', () => {
  for (const c of ROUND_TRIP) {
    test(`payloader.packetize() produces the packets of ${c.name}`, () => {
      const p = new AacPayloader(CODEC, c.mtu);
      assert.deepEqual(
        c.frames.flatMap((f) => p.packetize(f)),
        c.packets,
      );
    });

    test(`depayloader.push() reassembles the frames of ${c.name}`, () => {
      const d = new AacDepayloader(CODEC);
      assert.deepEqual(depayloadPackets(d, toPackets(c.packets)), c.frames);
      assert.equal(d.dropped + d.invalid, 0);
    });
  }
});

describe('AacDepayloader', () => {
  test('depayloader.push() splits several AUs of one packet and spaces their pts by 1024 samples', () => {
    const d = new AacDepayloader(CODEC);
    const a = hex('0102'),
      b = hex('030405'),
      c = hex('06');
    // AU-headers-length 48: sizes 2, 3, 1 with index 0 and two index-deltas 0.
    const payload = Buffer.concat([hex('0030 0010 0018 0008'), a, b, c]);
    assert.deepEqual(depayloadPackets(d, [pkt(1, 5000, true, payload)]), [
      audio(5000, a),
      audio(6024, b),
      audio(7048, c),
    ]);
  });

  test('depayloader.push() uses 960-sample frames and the clock rate from the config', () => {
    // 00010 | 0011 (48000) | 0001 | 1 (960) 00
    const d = new AacDepayloader({ name: 'AAC', clockRate: 16000, fmtp: aacFmtp(hex('118c')) });
    assert.equal(d.frameDuration, 960 / 3); // 48 kHz config, 16 kHz clock
  });

  test('depayloader.push() drops a fragmented AU whose middle packet was lost and keeps going', () => {
    const d = new AacDepayloader(CODEC);
    const pk = toPackets(ROUND_TRIP[1].packets, 10);
    const next = toPackets(ROUND_TRIP[0].packets, 13);
    const out = depayloadPackets(d, [pk[0], pk[2], ...next]);
    assert.deepEqual(out, ROUND_TRIP[0].frames);
    assert.equal(d.dropped, 1);
  });

  test('depayloader.push() keeps at most 64 undrained frames and counts the oldest it drops', () => {
    const d = new AacDepayloader(CODEC);
    const payload = Buffer.concat([hex('0030 0008 0008 0008'), hex('010203')]); // 3 AUs of 1 byte
    for (let i = 0; i < 40; i++) d.push(pkt(i, i * 3072, true, payload)); // 120 AUs, 40 taken
    let queued = 0;
    while (d.next()) queued++;
    assert.equal(queued, 63, 'the last push took one of 64');
    assert.equal(d.dropped, 120 - 40 - 63);
  });

  test('depayloader.reset() drops a partial AU and counts it', () => {
    const d = new AacDepayloader(CODEC);
    d.push(toPackets(ROUND_TRIP[1].packets)[0]);
    d.reset();
    assert.equal(d.dropped, 1);
    assert.deepEqual(depayloadPackets(d, toPackets(ROUND_TRIP[0].packets, 50)), ROUND_TRIP[0].frames);
  });

  for (const [name, payload] of [
    ['a packet shorter than AU-headers-length', hex('00')],
    ['AU headers past the end', hex('0020 0010')],
    ['an AU-headers-length that is not whole headers', hex('000f 0010 00')],
    ['two AUs whose data is cut short', hex('0020 0010 0018 0102 03')],
    ['an AU of size 0', hex('0010 0000')],
  ] as const) {
    test(`depayloader.push() drops and counts ${name}`, () => {
      const d = new AacDepayloader(CODEC);
      assert.deepEqual(depayloadPackets(d, [pkt(1, 0, true, payload)]), []);
      assert.equal(d.invalid, 1);
    });
  }

  test('depayloader.push() counts fragments that overrun the AU size as invalid and drops the AU', () => {
    const d = new AacDepayloader(CODEC);
    const out = depayloadPackets(d, [
      pkt(1, 0, false, Buffer.concat([auHeader(20), Buffer.alloc(15, 1)])),
      pkt(2, 0, true, Buffer.concat([auHeader(20), Buffer.alloc(15, 2)])),
    ]);
    assert.deepEqual(out, []);
    assert.deepEqual([d.invalid, d.dropped], [1, 1]);
  });
});

describe('AacPayloader', () => {
  test('payloader.packetize() throws BadRequestError for an AU too large for a 13-bit size', () => {
    assert.throws(() => new AacPayloader(CODEC).packetize(audio(0, Buffer.alloc(8192))), BadRequestError);
  });

  test('payloader.packetize() writes 6/2-bit AU headers for AAC-lbr', () => {
    const p = new AacPayloader({ ...CODEC, fmtp: { mode: 'AAC-lbr', config: '1190' } });
    assert.deepEqual(p.payload(audio(0, hex('aabb'))), [hex('0008 08 aabb')]);
    const d = new AacDepayloader({ ...CODEC, fmtp: { mode: 'AAC-lbr', config: '1190' } });
    assert.deepEqual(depayloadPackets(d, [pkt(0, 0, true, hex('0008 08 aabb'))]), [audio(0, hex('aabb'))]);
  });
});
