/**
 * Recovery when the libopus WebAssembly module traps. In its own file, so that it runs in its own
 * process with a fresh module: the trap is provoked deterministically by feeding the raw handle
 * what `OpusDecoder` never does, random packets over 60 ms decoded whole, which corrupt the heap
 * of opusscript 0.1.1's build.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { OpusDecoder, OpusEncoder } from '../../../src/audio/opus.ts';
import { OpusHandle, opusHeapStats } from '../../../src/audio/opus-wasm.ts';
import { opusPacketDuration } from '../../../src/codecs/opus/toc.ts';
import { sine } from './helpers.ts';

/** Random packets of more than 60 ms, from a fixed seed. */
function longPackets(count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), { seed: 1, numRuns: 40000 })) {
    try {
      if (opusPacketDuration(p) > 2880) out.push(p);
    } catch {}
    if (out.length === count) break;
  }
  return out;
}

test('OpusHandle moves to a fresh WebAssembly instance after the module traps (opusscript 120 ms overrun)', () => {
  const encoder = new OpusEncoder({ channels: 2, bitrate: 48000 });
  const decoder = new OpusDecoder();
  const raw = new OpusHandle(2, 'audio', 'decoder');
  let fed = 0;
  for (const packet of longPackets(3000)) {
    raw.decode(packet); // whole: the unsafe path
    new OpusHandle(2, 'audio', 'decoder').free(); // allocations surface heap corruption
    fed++;
    if (opusHeapStats().moduleAborts > 0) break;
  }
  assert.equal(
    opusHeapStats().moduleAborts,
    1,
    `no trap after ${fed} packets: was the opusscript bug fixed?`,
  );
  // Every handle, old or new, works again; the encoder keeps its bitrate.
  const frame = encoder.encode(sine(48000, 440, 960, 2));
  assert.ok(frame.length > 0);
  assert.equal(decoder.decode(frame).length, 1920);
  assert.equal(decoder.errors, 0);
  const fresh = new OpusDecoder();
  assert.equal(fresh.decode(frame).length, 1920);
  assert.ok(typeof raw.decode(frame) !== 'number');
  for (const h of [raw, fresh, decoder, encoder]) h.free();
  assert.equal(opusHeapStats().liveHandles, 0);
});
