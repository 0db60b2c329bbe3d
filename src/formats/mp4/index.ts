/**
 * MP4 / ISOBMFF container layer: a reader for non-fragmented files (`readMp4`, `sampleFrame`) and a
 * fragmented-MP4 muxer for MSE and HLS (`initSegment`, `fragment`). Pure: buffers in, values out.
 */
export { buildDOps, parseAudioSpecificConfig, parseDOps, parseEsds } from './audio-config.ts';
export { avcCFromFmtp, buildAvcC, buildHvcC, hvcCFromFmtp, parseAvcC, parseHvcC } from './avc.ts';
export { type Box, children, findChild, readBoxes, readBoxHeader, readFullBoxHeader } from './box.ts';
export { box, fullBox } from './box-writer.ts';
export { fragment } from './fragment.ts';
export { rescaleTime, sampleFrame, toLengthSize4, trackFrames } from './frame.ts';
export { initSegment } from './init-segment.ts';
export { readMp4 } from './reader.ts';
export type {
  Mp4File,
  Mp4FragmentSample,
  Mp4Sample,
  Mp4Track,
  Mp4TrackFragment,
  Mp4TrackInfo,
} from './types.ts';
