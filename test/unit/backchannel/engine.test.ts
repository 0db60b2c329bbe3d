/**
 * The in-process audio transcoder in the stream engine: one transcoder per stream and output
 * codec shared by every consumer, freed (codec handles included) when its last reader leaves or
 * the stream closes; G.711 cameras reach WebRTC viewers as Opus; and a source whose audio changes
 * from PCMA 8 kHz to L16 16 kHz to L16 48 kHz stereo keeps a viewer's Opus flowing with
 * continuous timestamps.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InProcessAudioTranscoder } from '../../../src/audio/engine/hook.ts';
import { encodeAlaw } from '../../../src/audio/g711.ts';
import { OpusDecoder } from '../../../src/audio/opus.ts';
import { opusHeapStats } from '../../../src/audio/opus-wasm.ts';
import { encodeL16 } from '../../../src/audio/pcm.ts';
import type { Codec, Frame } from '../../../src/core/media.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import type { Stream } from '../../../src/core/stream.ts';
import { parseOffer } from '../../../src/protocols/webrtc/peer/offer.ts';
import { WebRtcViewer } from '../../../src/protocols/webrtc/peer/viewer.ts';
import { parseRtp } from '../../../src/rtp/packet.ts';
import { FakeDriver, H264, media, RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { channelOf, concat, relError, sine, toneFrequency } from '../audio/helpers.ts';
import { chromiumOffer, FakeTransport } from '../webrtc/peer-fakes.ts';

const PCMA: Codec = { name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8 };
const L16_16K: Codec = { name: 'L16', clockRate: 16000, channels: 1, payloadType: 97 };
const L16_48K_STEREO: Codec = { name: 'L16', clockRate: 48000, channels: 2, payloadType: 97 };
const OPUS_WANT: Codec = { name: 'OPUS', clockRate: 48000, channels: 2 };

let before: ResourceCounts;
let handles: number;
const registries: StreamRegistry[] = [];

beforeEach(() => {
  before = activeResources();
  handles = opusHeapStats().liveHandles;
});
afterEach(async () => {
  for (const r of registries.splice(0)) r.close();
  await assertNoLeaks(before);
  assert.equal(opusHeapStats().liveHandles, handles, 'every Opus handle was freed');
});

/** A registry with the in-process hook whose `fake:` sources are one FakeDriver. */
async function setup(
  codecs: Codec[],
): Promise<{ registry: StreamRegistry; stream: Stream; driver: FakeDriver }> {
  const schemes = new SchemeTable();
  const driver = new FakeDriver(codecs.map(media));
  schemes.register('fake', () => driver);
  const registry = new StreamRegistry(schemes, { idleTimeoutMs: 30, minBackoffMs: 5 });
  registries.push(registry);
  registry.hooks.transcoder = new InProcessAudioTranscoder(registry);
  const stream = await registry.create('cam', ['fake://cam']);
  return { registry, stream, driver };
}

/** `ms` of a `hz` tone in `codec`, as frames of 20 ms starting at pts `start` (codec clock). */
function tone(codec: Codec, hz: number, ms: number, start = 0): Frame[] {
  const rate = codec.clockRate;
  const channels = codec.channels ?? 1;
  const samples = (rate * 20) / 1000;
  const frames: Frame[] = [];
  for (let t = 0; t < ms; t += 20) {
    const pcm = sine(rate, hz, samples, channels, 10000, (2 * Math.PI * hz * t) / 1000);
    const data = codec.name === 'PCMA' ? encodeAlaw(pcm) : encodeL16(pcm);
    const pts = start + (t * rate) / 1000;
    frames.push({ pts, dts: pts, keyframe: true, data });
  }
  return frames;
}

function feed(driver: FakeDriver, index: number, frames: readonly Frame[]): void {
  for (const f of frames) driver.last.send(index, f);
}

async function until(probe: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Chromium's offer (recvonly video and audio). */
function viewerOf(): WebRtcViewer {
  return new WebRtcViewer(parseOffer(chromiumOffer('recvonly')), {
    cname: 'gw',
    senderReportIntervalMs: 60000,
  });
}

describe('in-process audio transcoder', { timeout: 20000 }, () => {
  test('stream.addConsumer() serves two Opus consumers of a PCMA source from one shared transcoder, freed after the last reader leaves', async () => {
    const { stream, driver } = await setup([PCMA]);
    const a = new RecordingConsumer([{ kind: 'audio', codecs: [OPUS_WANT] }]);
    const b = new RecordingConsumer([{ kind: 'audio', codecs: [OPUS_WANT] }]);
    await stream.addConsumer(a);
    await stream.addConsumer(b);
    assert.equal(a.tracks[0].codec.name, 'OPUS');
    assert.equal(a.tracks[0], b.tracks[0], 'one derived track for both');
    const info = stream.info();
    assert.deepEqual(
      info.producers.filter((p) => p.transcoder).map((p) => p.url),
      ['audio:cam#opus/48000'],
      'one transcoder, mono Opus from a mono source',
    );
    assert.deepEqual(info.consumers.find((c) => c.type === 'test')?.transcoders, ['audio:cam#opus/48000']);
    a.play();
    b.play();
    feed(driver, 0, tone(PCMA, 1000, 200));
    // One 20 ms Opus packet per 20 ms PCMA frame, less what the resampler holds back.
    assert.equal(a.received.length, 9);
    assert.deepEqual(
      a.received.map((r) => r.frame),
      b.received.map((r) => r.frame),
      'the same frames to both',
    );
    assert.equal(opusHeapStats().liveHandles, handles + 1, 'one encoder for both consumers');
    a.close();
    await sleep(60);
    assert.equal(opusHeapStats().liveHandles, handles + 1, 'still running for the other reader');
    b.close();
    await until(() => opusHeapStats().liveHandles === handles && driver.last.closed);
    assert.equal(stream.info().consumers.length, 0, 'the hidden reader left with the transcoder');
  });

  test('stream.close() frees a running transcoder and its hidden reader', async () => {
    const { registry, stream, driver } = await setup([H264, PCMA]);
    const c = new RecordingConsumer([{ kind: 'audio', codecs: [OPUS_WANT] }]);
    await stream.addConsumer(c);
    c.play();
    feed(driver, 1, tone(PCMA, 440, 60));
    assert.equal(opusHeapStats().liveHandles, handles + 1);
    await registry.delete('cam');
    assert.equal(c.closed, true);
    assert.equal(opusHeapStats().liveHandles, handles);
    assert.equal(driver.last.closed, true);
  });

  test('stream.addConsumer() gives a WebRTC viewer of a G.711 camera Opus at 48 kHz that decodes to the camera tone', async () => {
    const { stream, driver } = await setup([H264, PCMA]);
    const viewer = viewerOf();
    await stream.addConsumer(viewer);
    const plans = viewer.bind('cam', stream);
    const audio = plans.find((p) => p.section.kind === 'audio');
    assert.equal(audio?.rejected, undefined);
    assert.equal(
      audio && 'codec' in audio ? audio.codec.name : '',
      'OPUS',
      'Opus, not the PCMA the browser also offered',
    );
    const transport = new FakeTransport();
    viewer.start(transport);
    feed(driver, 1, tone(PCMA, 1000, 1000));
    const packets = transport.rtp.map((p) => parseRtp(p)).filter((p) => p.payloadType === 111);
    assert.equal(packets.length, 49, 'one per 20 ms, less the resampler lookahead');
    const decoder = new OpusDecoder({ channels: 2 });
    const pcm = concat(packets.map((p) => decoder.decode(p.payload)));
    decoder.free();
    const hz = toneFrequency(channelOf(pcm, 2).subarray(4800), 48000);
    assert.ok(relError(hz, 1000) < 0.02, `${hz} Hz`);
    viewer.close();
  });

  test('stream.addConsumer() keeps a WebRTC viewer receiving Opus with continuous timestamps while its source switches PCMA 8 kHz → L16 16 kHz → L16 48 kHz stereo', async () => {
    const { stream, driver } = await setup([H264, PCMA]);
    const viewer = viewerOf();
    await stream.addConsumer(viewer);
    viewer.bind('cam', stream);
    const transport = new FakeTransport();
    viewer.start(transport);
    feed(driver, 1, tone(PCMA, 1000, 400));
    for (const codec of [L16_16K, L16_48K_STEREO]) {
      driver.medias = [media(H264), media(codec)];
      const old = driver.last;
      old.fail(new Error('camera restarted with other audio'));
      await until(
        () => driver.last !== old && stream.info().consumers.some((c) => c.type === 'audio-transcoder'),
      );
      await sleep(20); // the hidden reader re-attaches through the stream's queue
      feed(driver, 1, tone(codec, 1000, 400));
    }
    assert.equal(viewer.closed, false, 'the viewer never noticed');
    const packets = transport.rtp.map((p) => parseRtp(p)).filter((p) => p.payloadType === 111);
    assert.ok(packets.length >= 60, `${packets.length} Opus packets for 1.2 s of audio`);
    for (let i = 1; i < packets.length; i++) {
      assert.equal(packets[i].sequenceNumber, (packets[i - 1].sequenceNumber + 1) & 0xffff, `seq at ${i}`);
      assert.equal(packets[i].timestamp, (packets[i - 1].timestamp + 960) >>> 0, `timestamp at ${i}`);
    }
    const decoder = new OpusDecoder({ channels: 2 });
    const tail = concat(packets.slice(-15).map((p) => decoder.decode(p.payload)));
    decoder.free();
    const hz = toneFrequency(channelOf(tail, 2).subarray(4800), 48000);
    assert.ok(relError(hz, 1000) < 0.02, `${hz} Hz after the switches`);
    viewer.close();
  });

  test('stream.addConsumer() leaves a match alone when the stream opts out with #transcode=never', async () => {
    const { registry, driver } = await setup([PCMA]);
    const stream = await registry.upsert('cam', ['fake://cam#transcode=never']);
    const c = new RecordingConsumer([{ kind: 'audio', codecs: [OPUS_WANT, PCMA] }]);
    await stream.addConsumer(c);
    assert.equal(c.tracks[0].codec.name, 'PCMA');
    assert.equal(stream.info().producers.filter((p) => p.transcoder).length, 0);
    c.close();
    void driver;
  });
});
