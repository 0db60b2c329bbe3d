/** Helpers for the payloader / depayloader tests. */

import { depayloadAll } from '../../../src/codecs/rtp-base.ts';
import type { Depayloader, RtpInput, RtpOutput } from '../../../src/codecs/rtp-types.ts';
import type { Frame } from '../../../src/core/media.ts';

/** Numbers payloader output as RTP packets from `firstSeq` on (wrapping at 65536). */
export function toPackets(outputs: readonly RtpOutput[], firstSeq = 0): RtpInput[] {
  return outputs.map((o, i) => ({
    payload: o.payload,
    timestamp: o.timestamp,
    marker: o.marker,
    sequenceNumber: (firstSeq + i) % 0x10000,
  }));
}

/** A packet for depayloader tests. */
export function pkt(sequenceNumber: number, timestamp: number, marker: boolean, payload: Buffer): RtpInput {
  return { payload, timestamp, marker, sequenceNumber };
}

/** Feeds all packets and collects every frame. */
export function depayloadPackets(d: Depayloader, packets: readonly RtpInput[]): Frame[] {
  return packets.flatMap((p) => depayloadAll(d, p));
}

/** A byte pattern of `length` bytes after `header` (deterministic, no zero runs). */
export function patterned(header: number[], length: number): Buffer {
  const b = Buffer.alloc(length);
  b.set(header);
  for (let i = header.length; i < length; i++) b[i] = 1 + (i % 251);
  return b;
}
