/**
 * Public types of the MP4 (ISO/IEC 14496-12, ISOBMFF) container layer: what `readMp4()` returns and
 * what `initSegment()` / `fragment()` take. Implementations live in the sibling files.
 */
import type { Codec } from '../../core/media.ts';

/**
 * How a track is described to the fragmented-MP4 muxer. A track returned by `readMp4()` is one of
 * these, so a file's tracks can be passed to `initSegment()` as they are.
 *
 * The decoder configuration comes from the raw record when it is given, otherwise from `codec.fmtp`:
 * H.264 `sprop-parameter-sets`, H.265 `sprop-vps`/`sprop-sps`/`sprop-pps`, AAC `config` (hex).
 */
export interface Mp4TrackInfo {
  /** track_ID, 1 or more, unique within the file. */
  id: number;
  codec: Codec;
  /** Media timescale in units per second: sample times and durations are in these units. */
  timescale: number;
  /** Coded picture width in pixels (video only). */
  width?: number;
  /** Coded picture height in pixels (video only). */
  height?: number;
  /** H.264 AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3), the payload of `avcC`. */
  avcC?: Buffer;
  /** H.265 HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3), the payload of `hvcC`. */
  hvcC?: Buffer;
  /** AAC AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1), as carried in the esds DecoderSpecificInfo. */
  audioSpecificConfig?: Buffer;
  /**
   * Opus OpusSpecificBox payload (Opus-in-ISOBMFF 4.3.2), the body of `dOps`. Without it the muxer
   * writes one for `codec.channels` (1 or 2) with a pre-skip of 0.
   */
  dOps?: Buffer;
}

/** One sample of a non-fragmented MP4 as resolved from the sample table; times in the track timescale. */
export interface Mp4Sample {
  /** Byte offset of the sample data in the file. */
  offset: number;
  /** Size of the sample data in bytes. */
  size: number;
  /** Decode time (sum of the stts deltas before this sample), starting at 0. */
  dts: number;
  /** Presentation time: `dts` plus the ctts offset; edit lists are not applied. */
  pts: number;
  /** Decode duration (the sample's stts delta). */
  duration: number;
  /** Sync sample per stss; every sample when the track has no stss. */
  keyframe: boolean;
}

/** A track of a file read by `readMp4()`. */
export interface Mp4Track extends Mp4TrackInfo {
  /** `vide` or `soun` handler. */
  kind: 'video' | 'audio';
  /** Media duration from mdhd in the track timescale. */
  duration: number;
  /**
   * NAL unit length field size in bytes (1, 2 or 4) of the samples in the file, H.264 / H.265 only.
   * Frames from `sampleFrame()` always use 4, and `avcC` / `hvcC` above are rewritten to say 4.
   */
  nalLengthSize?: number;
  /** The samples in decode order. */
  samples: Mp4Sample[];
}

/** The result of `readMp4()`. */
export interface Mp4File {
  /** ftyp major brand, e.g. `isom`; empty when the file has no ftyp. */
  majorBrand: string;
  /** ftyp compatible brands. */
  compatibleBrands: string[];
  /** Movie timescale from mvhd, units per second. */
  timescale: number;
  /** Movie duration from mvhd in the movie timescale. */
  duration: number;
  /**
   * True when moov has an mvex box: the samples live in moof fragments, which this reader does not
   * resolve, so the tracks' `samples` only hold what the moov sample tables list (usually none).
   */
  fragmented: boolean;
  /** Tracks with a supported codec (H.264, H.265, AAC, Opus) in file order. */
  tracks: Mp4Track[];
  /**
   * Tracks that were skipped: their track_ID and sample entry type (`mp4v`, `ac-3`, ...), or the
   * handler type (`text`, `meta`, ...) for tracks that are neither video nor audio.
   */
  skipped: { id: number; format: string }[];
}

/** One sample handed to `fragment()`; times in the track timescale. */
export interface Mp4FragmentSample {
  /** Sample data: AVCC (4-byte lengths) for H.264 / H.265, a raw access unit for AAC, an Opus packet. */
  data: Buffer;
  /** Decode time; the first sample's dts becomes the fragment's baseMediaDecodeTime (tfdt). */
  dts: number;
  /** Presentation time; defaults to `dts`. `pts - dts` must fit a signed 32-bit integer. */
  pts?: number;
  /** Decode duration, 0 or more. */
  duration: number;
  /** Sync sample (IDR / IRAP); audio samples should always say true. */
  keyframe: boolean;
}

/** The samples of one track in a fragment, in decode order. */
export interface Mp4TrackFragment {
  /** track_ID as given to `initSegment()`. */
  id: number;
  samples: readonly Mp4FragmentSample[];
}
