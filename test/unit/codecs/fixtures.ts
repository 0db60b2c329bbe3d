/**
 * Real parameter sets and helpers shared by the codec tests.
 *
 * The H.264 and H.265 NAL units were produced by ffmpeg 6 with libx264 / libx265 from the lavfi
 * test source, one frame each, and cut out of the Annex B output:
 *
 *   ffmpeg -f lavfi -i testsrc=size=WxH:rate=25 -frames:v 1 -pix_fmt yuv420p \
 *     -c:v libx264 -profile:v PROFILE -f h264 -          # H.264
 *   ffmpeg -f lavfi -i testsrc=size=WxH:rate=25 -frames:v 1 -pix_fmt yuv420p \
 *     -c:v libx265 -f hevc -                              # H.265
 *
 * Dimensions, profiles and levels were checked with ffprobe. The avcC / hvcC records are the
 * boxes ffmpeg wrote for the same streams with `-c copy out.mp4` (`-tag:v hvc1` for H.265).
 */

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export interface H264Sample {
  name: string;
  sps: Buffer;
  pps: Buffer;
  width: number;
  height: number;
  profileIdc: number;
  levelIdc: number;
  chromaFormatIdc: number;
  fps: number;
  codec: string;
}

export const H264_SAMPLES: H264Sample[] = [
  {
    name: 'constrained baseline 1280x720',
    sps: hex('6742c01fd9005005bb011000000300100000030320f1832480'),
    pps: hex('68cb83cb20'),
    width: 1280,
    height: 720,
    profileIdc: 66,
    levelIdc: 31,
    chromaFormatIdc: 1,
    fps: 25,
    codec: 'avc1.42c01f',
  },
  {
    name: 'main 1920x1080 (cropped from 1088)',
    sps: hex('674d4028eca03c0113f2e022000003000200000300641e30632c'),
    pps: hex('68ebe3cb20'),
    width: 1920,
    height: 1080,
    profileIdc: 77,
    levelIdc: 40,
    chromaFormatIdc: 1,
    fps: 25,
    codec: 'avc1.4d4028',
  },
  {
    name: 'high 1920x1080',
    sps: hex('67640028acd940780227e5c044000003000400000300c83c60c658'),
    pps: hex('68ebe3cb22c0'),
    width: 1920,
    height: 1080,
    profileIdc: 100,
    levelIdc: 40,
    chromaFormatIdc: 1,
    fps: 25,
    codec: 'avc1.640028',
  },
  {
    name: 'high 640x360 (cropped from 368)',
    sps: hex('6764001eacd940a02ff97011000003000100000300320f162d96'),
    pps: hex('68ebe3cb22c0'),
    width: 640,
    height: 360,
    profileIdc: 100,
    levelIdc: 30,
    chromaFormatIdc: 1,
    fps: 25,
    codec: 'avc1.64001e',
  },
  {
    // -pix_fmt yuv444p -profile:v high444 -s 642x362 -r 30: 4:4:4 cropping units are 1 pixel.
    name: 'high 4:4:4 predictive 642x362',
    sps: hex('67f4001e919b281485fc7cf80880000003008000001e078b16cb'),
    pps: hex('68ebe3c44844'),
    width: 642,
    height: 362,
    profileIdc: 244,
    levelIdc: 30,
    chromaFormatIdc: 3,
    fps: 30,
    codec: 'avc1.f4001e',
  },
];

/** ffmpeg's avcC for the main 1920x1080 and the high 640x360 samples. */
export const AVCC_MAIN_1080 = hex(
  '014d4028ffe1001a674d4028eca03c0113f2e022000003000200000300641e30632c01000568ebe3cb20',
);
export const AVCC_HIGH_360 = hex(
  '0164001effe1001a6764001eacd940a02ff97011000003000100000300320f162d9601000668ebe3cb22c0fdf8f800',
);

export interface H265Sample {
  name: string;
  vps: Buffer;
  sps: Buffer;
  pps: Buffer;
  width: number;
  height: number;
  profileIdc: number;
  levelIdc: number;
  chromaFormatIdc: number;
  bitDepth: number;
  codec: string;
}

export const H265_SAMPLES: H265Sample[] = [
  {
    name: 'main 1280x720',
    vps: hex('40010c01ffff01600000030090000003000003005d959809'),
    sps: hex('42010101600000030090000003000003005da00280802d165959a4932bc05a020000030002000003003210'),
    pps: hex('4401c172b46240'),
    width: 1280,
    height: 720,
    profileIdc: 1,
    levelIdc: 93,
    chromaFormatIdc: 1,
    bitDepth: 8,
    codec: 'hvc1.1.6.L93.90',
  },
  {
    name: 'main 1920x1080 (conformance window from 1088)',
    vps: hex('40010c01ffff016000000300900000030000030078959809'),
    sps: hex('420101016000000300900000030000030078a003c08010e596566924caf0168080000003008000000c84'),
    pps: hex('4401c172b46240'),
    width: 1920,
    height: 1080,
    profileIdc: 1,
    levelIdc: 120,
    chromaFormatIdc: 1,
    bitDepth: 8,
    codec: 'hvc1.1.6.L120.90',
  },
  {
    name: 'main 640x360',
    vps: hex('40010c01ffff01600000030090000003000003003f959809'),
    sps: hex('42010101600000030090000003000003003fa00502016965959a4932bc05a02000000300200000030321'),
    pps: hex('4401c172b46240'),
    width: 640,
    height: 360,
    profileIdc: 1,
    levelIdc: 63,
    chromaFormatIdc: 1,
    bitDepth: 8,
    codec: 'hvc1.1.6.L63.90',
  },
  {
    // -pix_fmt yuv420p10le -r 30
    name: 'main 10 1920x1080',
    vps: hex('40010c01ffff022000000300900000030000030078959809'),
    sps: hex('420101022000000300900000030000030078a003c08010e4d96566924caf016808000003000800000300f040'),
    pps: hex('4401c172b46240'),
    width: 1920,
    height: 1080,
    profileIdc: 2,
    levelIdc: 120,
    chromaFormatIdc: 1,
    bitDepth: 10,
    codec: 'hvc1.2.4.L120.90',
  },
  {
    // testsrc without -pix_fmt: libx265 encodes gbrp as 4:4:4, format range extensions profile.
    name: 'rext 4:4:4 1280x720',
    vps: hex('40010c01ffff0408000003009e0800000300005d959809'),
    sps: hex('4201010408000003009e0800000300005d9000501005a2cb2b349265780b7020200040000003004000000642'),
    pps: hex('4401c172860c4624'),
    width: 1280,
    height: 720,
    profileIdc: 4,
    levelIdc: 93,
    chromaFormatIdc: 3,
    bitDepth: 8,
    codec: 'hvc1.4.10.L93.9E.8',
  },
];

/** ffmpeg's hvcC (`-tag:v hvc1`) for the main 1280x720 and main 10 1920x1080 samples. */
export const HVCC_MAIN_720 = hex(
  '0101600000009000000000005df000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003005d959809' +
    'a10001002b42010101600000030090000003000003005da00280802d165959a4932bc05a020000030002000003003210' +
    'a2000100074401c172b46240',
);
export const HVCC_MAIN10_1080 = hex(
  '01022000000090000000000078f000fcfdfafa00000f03a00001001840010c01ffff022000000300900000030000030078959809' +
    'a10001002c420101022000000300900000030000030078a003c08010e4d96566924caf016808000003000800000300f040' +
    'a2000100074401c172b46240',
);

/** Deterministic xorshift32 generator in [0, 1). */
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** A random integer in [0, n). */
export const randInt = (rand: () => number, n: number): number => Math.floor(rand() * n);

/**
 * A mutated copy of `input`: a few bit flips, byte overwrites, truncations, insertions or
 * duplicated ranges, chosen by `rand`.
 */
export function mutate(input: Uint8Array, rand: () => number): Buffer {
  let b = Buffer.from(input);
  const edits = 1 + randInt(rand, 4);
  for (let e = 0; e < edits; e++) {
    const at = randInt(rand, Math.max(1, b.length));
    switch (randInt(rand, 6)) {
      case 0:
        if (b.length > 0) b[at] ^= 1 << randInt(rand, 8);
        break;
      case 1:
        if (b.length > 0) b[at] = randInt(rand, 256);
        break;
      case 2:
        b = b.subarray(0, at);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([randInt(rand, 256)]), b.subarray(at)]);
        break;
      case 4:
        if (b.length > 0) b[at] = [0x00, 0xff, 0x03, 0x80][randInt(rand, 4)];
        break;
      default:
        b = Buffer.concat([b, b.subarray(at, at + randInt(rand, 16))]);
    }
  }
  return b;
}

/** Random bytes of length [0, maxLength). */
export function randomBytes(rand: () => number, maxLength: number): Buffer {
  const b = Buffer.alloc(randInt(rand, maxLength));
  for (let i = 0; i < b.length; i++) b[i] = randInt(rand, 256);
  return b;
}
