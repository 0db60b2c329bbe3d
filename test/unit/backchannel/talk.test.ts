/**
 * Talking into a stream's back channel: one producer at a time (the first wins), audio transcoded
 * to the camera's codec and rebuilt when a reconnected camera brings another one; a WebRTC viewer
 * with a microphone is answered `sendrecv` and its Opus reaches the camera as PCMA; the RTSP
 * server offers `?backchannel=1` readers an `a=sendonly` section whose RTP reaches the camera.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeAlaw, decodeUlaw, encodeAlaw } from '../../../src/audio/g711.ts';
import { opusHeapStats } from '../../../src/audio/opus-wasm.ts';
import type { Codec } from '../../../src/core/media.ts';
import type { StreamRegistry } from '../../../src/core/registry.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { acquireTalk, canTalk, talkHolder } from '../../../src/protocols/backchannel/talk.ts';
import { RtspServer } from '../../../src/protocols/rtsp/server/index.ts';
import { buildAnswer } from '../../../src/protocols/webrtc/peer/answer.ts';
import { parseOffer } from '../../../src/protocols/webrtc/peer/offer.ts';
import { WebRtcViewer } from '../../../src/protocols/webrtc/peer/viewer.ts';
import { RtpEncoder } from '../../../src/rtp/encoder.ts';
import { parseRtp } from '../../../src/rtp/packet.ts';
import { parseSdp, viewMedia, viewSession } from '../../../src/sdp/index.ts';
import { RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { relError, sine, toneFrequency } from '../audio/helpers.ts';
import { TestRtspClient } from '../rtsp/server-client.ts';
import { CHROMIUM_OFFER, FakeTransport } from '../webrtc/peer-fakes.ts';
import { backchannelRegistry, opusRtp, PCMU_BC } from './support.ts';

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

async function setup(codec?: Codec) {
  const fx = await backchannelRegistry(codec);
  registries.push(fx.registry);
  // A reader keeps the camera connected, as a viewer would.
  const reader = new RecordingConsumer([{ kind: 'video', codecs: 'any' }]);
  await fx.stream.addConsumer(reader);
  reader.play();
  return { ...fx, reader };
}

/** Chromium's offer with its audio section `sendrecv` (a microphone was added), video recvonly. */
function micOffer(): string {
  const at = CHROMIUM_OFFER.indexOf('m=audio');
  const video = CHROMIUM_OFFER.slice(0, at).replace('a=sendrecv', 'a=recvonly');
  return video + CHROMIUM_OFFER.slice(at).replace('a=recvonly', 'a=sendrecv');
}

const LOCAL = {
  ufrag: 'u',
  pwd: 'p'.repeat(24),
  fingerprint: { algorithm: 'sha-256', value: 'AB' },
  candidates: [],
  sessionId: '1',
  cname: 'gw',
};

describe('Talk', { timeout: 20000 }, () => {
  test('acquireTalk() gives the back channel to the first producer only, and to the next once it lets go', async () => {
    const { stream } = await setup();
    assert.equal(canTalk(stream), true);
    const first = acquireTalk(stream, 'first');
    assert.ok(first);
    assert.equal(acquireTalk(stream, 'second'), undefined);
    assert.equal(talkHolder(stream), 'first');
    first.close();
    first.close();
    const second = acquireTalk(stream, 'second');
    assert.ok(second);
    assert.equal(talkHolder(stream), 'second');
    second.close();
  });

  test('talk.write() turns Opus into the camera PCMA tone, and into PCMU after the camera reconnects with it', async () => {
    const { stream, driver } = await setup();
    const talk = acquireTalk(stream, 'test');
    assert.ok(talk);
    const opus = { name: 'OPUS', clockRate: 48000, channels: 2 } as const;
    const packets = opusRtp(440, 1000);
    for (const p of packets) {
      const rtp = parseRtp(p);
      talk.write(
        { pts: rtp.timestamp, dts: rtp.timestamp, keyframe: true, data: Buffer.from(rtp.payload) },
        opus,
      );
    }
    const sent = driver.last.backchannel.frames;
    assert.ok(sent.length >= 45, `${sent.length} PCMA frames`);
    assert.ok(sent.every((f) => f.data.length === 160));
    const hz = toneFrequency(decodeAlaw(Buffer.concat(sent.map((f) => f.data))).subarray(800), 8000);
    assert.ok(relError(hz, 440) < 0.02, `${hz} Hz`);

    driver.codec = PCMU_BC;
    const old = driver.last;
    old.fail();
    await sleep(30);
    assert.notEqual(driver.last, old);
    for (const p of opusRtp(1000, 400)) {
      const rtp = parseRtp(p);
      talk.write(
        { pts: rtp.timestamp, dts: rtp.timestamp, keyframe: true, data: Buffer.from(rtp.payload) },
        opus,
      );
    }
    const again = driver.last.backchannel.frames;
    assert.ok(again.length >= 15);
    const hz2 = toneFrequency(decodeUlaw(Buffer.concat(again.map((f) => f.data))).subarray(800), 8000);
    assert.ok(relError(hz2, 1000) < 0.02, `${hz2} Hz in PCMU`);
    talk.close();
  });

  test('webRtcViewer.bind() answers a microphone sendrecv on a stream with a back channel and sends its Opus to the camera as PCMA', async () => {
    const { stream, driver } = await setup();
    const viewer = new WebRtcViewer(parseOffer(micOffer()), { cname: 'gw', senderReportIntervalMs: 60000 });
    await stream.addConsumer(viewer);
    const plans = viewer.bind('cam', stream);
    const audio = plans.find((p) => p.section.kind === 'audio');
    assert.ok(audio && audio.rejected === undefined);
    assert.equal(audio.direction, 'sendrecv');
    const answer = parseSdp(buildAnswer(plans, LOCAL));
    assert.equal(viewMedia(answer.medias[1], viewSession(answer)).direction, 'sendrecv');
    viewer.start(new FakeTransport());
    for (const p of opusRtp(440, 1000, audio.codec.payloadType)) viewer.handleRtp(p);
    assert.equal(viewer.talking, true);
    const sent = driver.last.backchannel.frames;
    const hz = toneFrequency(decodeAlaw(Buffer.concat(sent.map((f) => f.data))).subarray(800), 8000);
    assert.ok(relError(hz, 440) < 0.02, `${hz} Hz`);

    // A second microphone is dropped until the first viewer leaves.
    const other = new WebRtcViewer(parseOffer(micOffer()), { cname: 'gw', senderReportIntervalMs: 60000 });
    await stream.addConsumer(other);
    other.bind('cam', stream);
    other.start(new FakeTransport());
    const burst = opusRtp(440, 400, audio.codec.payloadType, 7);
    for (const p of burst.slice(0, 5)) other.handleRtp(p);
    assert.equal(other.talking, false);
    assert.ok(other.rtcCounters.talkBusy > 0);
    viewer.close();
    for (const p of burst.slice(5)) other.handleRtp(p);
    assert.equal(other.talking, true, 'the next microphone talks once the first left');
    other.close();
  });

  test('webRtcViewer.bind() answers the audio section sendonly when the back channel takes a codec the engine cannot make', async () => {
    const aac: Codec = { name: 'AAC', clockRate: 16000, channels: 1, payloadType: 97 };
    const { stream } = await setup(aac);
    assert.equal(canTalk(stream), false);
    const viewer = new WebRtcViewer(parseOffer(micOffer()), { cname: 'gw' });
    await stream.addConsumer(viewer);
    const audio = viewer.bind('cam', stream).find((p) => p.section.kind === 'audio');
    assert.ok(audio && audio.rejected === undefined);
    assert.equal(audio.direction, 'sendonly');
    viewer.close();
  });
});

describe('RTSP server back channel', { timeout: 20000 }, () => {
  test('RTSP DESCRIBE ?backchannel=1 adds an a=sendonly PCMA section, and RTP sent on it after SETUP reaches the camera', async () => {
    const { registry, driver } = await setup();
    const server = new RtspServer({ registry, log: silentLogger() }, { host: '127.0.0.1', port: 0 });
    const { port } = await server.listen();
    const client = await TestRtspClient.connect(port);
    try {
      const url = `rtsp://127.0.0.1:${port}/cam?backchannel=1`;
      const plain = await client.request('DESCRIBE', `rtsp://127.0.0.1:${port}/cam`, {
        Accept: 'application/sdp',
      });
      assert.equal(parseSdp(plain.body).medias.length, 2, 'no back channel unless asked');
      const res = await client.request('DESCRIBE', url, { Accept: 'application/sdp' });
      const sdp = parseSdp(res.body);
      assert.deepEqual(
        sdp.medias.map((m) => `${m.kind}:${viewMedia(m, viewSession(sdp)).direction ?? '-'}`),
        ['video:-', 'audio:-', 'audio:sendonly'],
      );
      assert.match(res.body.toString(), /a=rtpmap:8 PCMA\/8000/);
      const base = res.headers.get('content-base');
      const setup = await client.request('SETUP', `${base}trackID=2`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=4-5',
      });
      assert.equal(setup.status, 200);
      const session = setup.headers.get('session')?.split(';')[0] ?? '';
      const video = await client.request('SETUP', `${base}trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
        Session: session,
      });
      assert.equal(video.status, 200);
      assert.equal((await client.request('PLAY', base ?? url, { Session: session })).status, 200);
      const rtp = new RtpEncoder({ payloadType: 8, ssrc: 9, clockRate: 8000 });
      const pcm = sine(8000, 440, 8000);
      for (let i = 0; i < 50; i++) {
        for (const p of rtp.encode([encodeAlaw(pcm.subarray(i * 160, (i + 1) * 160))], i * 160, true)) {
          const header = Buffer.from([0x24, 4, p.length >> 8, p.length & 0xff]);
          client.send(Buffer.concat([header, p]));
        }
      }
      const sent = driver.last.backchannel.frames;
      const deadline = Date.now() + 2000;
      while (sent.length < 49 && Date.now() < deadline) await sleep(10);
      assert.ok(sent.length >= 49, `${sent.length} frames`);
      const hz = toneFrequency(decodeAlaw(Buffer.concat(sent.map((f) => f.data))).subarray(800), 8000);
      assert.ok(relError(hz, 440) < 0.02, `${hz} Hz`);
    } finally {
      client.close();
      await server.close();
    }
  });
});
