/** Opus: TOC parsing and RFC 7587 RTP packetization. */
export { OpusDepayloader, OpusPayloader } from './rtp.ts';
export { OPUS_CLOCK_RATE, type OpusToc, opusFrameCount, opusPacketDuration, parseOpusToc } from './toc.ts';
