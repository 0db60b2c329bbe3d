/** G.711 PCMA / PCMU (and L16) RTP packetization. */
export { MAX_PACKET_TIME_MS, PcmDepayloader, PcmPayloader, pcmSampleBytes } from './rtp.ts';
