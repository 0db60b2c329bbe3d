/**
 * `POST /api/streams?dst=&src=` below HTTP: BackchannelPlayers plays another stream's audio into a
 * camera's back channel (transcoded to its codec), keeps the camera connected while it plays,
 * refuses when someone else talks or the stream has no back channel, and stops on `src=` leaving
 * no consumer, talk or handle behind. And the in-process hook's split of work with ffmpeg's.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { InProcessAudioTranscoder } from '../../../src/audio/engine/hook.ts';
import { decodeAlaw, encodeUlaw } from '../../../src/audio/g711.ts';
import { opusHeapStats } from '../../../src/audio/opus-wasm.ts';
import { ConflictError, UnsupportedError } from '../../../src/core/errors.ts';
import type { Codec, Media } from '../../../src/core/media.ts';
import type { StreamRegistry } from '../../../src/core/registry.ts';
import type { TranscodePlan, TranscodeRequest, Transcoder } from '../../../src/core/stream.ts';
import { BackchannelPlayers } from '../../../src/protocols/backchannel/api.ts';
import { acquireTalk, talkHolder } from '../../../src/protocols/backchannel/talk.ts';
import { FakeDriver, H264, media } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { relError, sine, toneFrequency } from '../audio/helpers.ts';
import { backchannelRegistry } from './support.ts';

const PCMU: Codec = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
const AAC: Codec = { name: 'AAC', clockRate: 44100, channels: 2 };

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
  assert.equal(opusHeapStats().liveHandles, handles);
});

async function setup() {
  const fx = await backchannelRegistry();
  registries.push(fx.registry);
  const music = new FakeDriver([media(PCMU)]);
  fx.registry.schemes.register('tone', () => music);
  const plain = new FakeDriver([media(H264)]);
  fx.registry.schemes.register('plain', () => plain);
  await fx.registry.create('music', ['tone://music']);
  await fx.registry.create('nocam', ['plain://x']);
  return { ...fx, music, players: new BackchannelPlayers(fx.registry) };
}

describe('BackchannelPlayers', { timeout: 20000 }, () => {
  test('backchannelPlayers.play() plays another stream into the back channel as PCMA and stops on an empty src', async () => {
    const { stream, driver, music, players } = await setup();
    const info = await players.play('cam', 'music');
    assert.deepEqual([info?.input, info?.output], ['PCMU/8000', 'PCMA/8000']);
    assert.match(talkHolder(stream) ?? '', /^api music/);
    assert.deepEqual(
      stream.info().consumers.map((c) => c.type),
      ['backchannel'],
      'a hidden consumer keeps the camera connected',
    );
    const pcm = sine(8000, 440, 8000);
    for (let i = 0; i < 50; i++) {
      const data = encodeUlaw(pcm.subarray(i * 160, (i + 1) * 160));
      music.last.send(0, { pts: i * 160, dts: i * 160, data });
    }
    const sent = driver.last.backchannel.frames;
    assert.ok(sent.length >= 45, `${sent.length} frames`);
    const hz = toneFrequency(decodeAlaw(Buffer.concat(sent.map((f) => f.data))).subarray(800), 8000);
    assert.ok(relError(hz, 440) < 0.02, `${hz} Hz`);

    assert.equal(await players.play('cam', ''), undefined);
    assert.equal(talkHolder(stream), undefined);
    assert.equal(stream.info().consumers.length, 0);
    assert.equal(registries[0].require('music').info().consumers.length, 0);
  });

  test('backchannelPlayers.play() rejects with ConflictError while a viewer talks and with UnsupportedError without a back channel', async () => {
    const { stream, players } = await setup();
    const talk = acquireTalk(stream, 'webrtc 127.0.0.1 (consumer 7)');
    await assert.rejects(players.play('cam', 'music'), (err: Error) => {
      assert.ok(err instanceof ConflictError);
      assert.match(err.message, /in use by webrtc 127\.0\.0\.1/);
      return true;
    });
    talk?.close();
    await assert.rejects(players.play('nocam', 'music'), UnsupportedError);
    await assert.rejects(players.play('cam', 'cam'), /cannot play into itself/);
    for (const name of ['cam', 'nocam', 'music'])
      assert.equal(registries[0].require(name).info().consumers.length, 0, `nothing left on ${name}`);
    assert.equal(talkHolder(stream), undefined);
  });
});

describe('InProcessAudioTranscoder', () => {
  /** A request for `missing` against sources offering `offered`. */
  function request(
    missing: TranscodeRequest['missing'],
    offered: Media[],
    urls = ['rtsp://cam'],
  ): TranscodeRequest {
    return { stream: 'cam', sourceUrls: urls, missing, offered: () => offered };
  }
  const next: Transcoder & { asked: string[] } = {
    asked: [],
    plan(r) {
      next.asked.push(`plan ${r.missing.map((m) => m.kind).join(',')}`);
      return { key: 'ffmpeg', url: 'ffmpeg:cam', driver: new FakeDriver([]) } satisfies TranscodePlan;
    },
  };

  test('inProcessAudioTranscoder.plan() makes Opus, G.711 and L16 itself and hands video and AAC to the next hook', async () => {
    const { registry } = await backchannelRegistry();
    registries.push(registry);
    const hook = new InProcessAudioTranscoder(registry, next);
    const opus: Codec = { name: 'OPUS', clockRate: 48000, channels: 2 };
    const pcma: Codec = { name: 'PCMA', clockRate: 0 };
    const l16: Codec = { name: 'L16', clockRate: 0 };
    const plan = (wants: Codec[], source: Codec) =>
      hook.plan(
        request([{ kind: 'audio', codecs: wants }], [media(H264), { ...media(source), kind: 'audio' }]),
      );
    assert.equal(plan([opus], PCMU)?.key, 'audio=opus/48000');
    assert.equal(plan([pcma], { ...opus, payloadType: 111 })?.url, 'audio:cam#pcma/8000');
    assert.equal(plan([l16], PCMU)?.key, 'audio=l16/16000');
    assert.equal(plan([opus], AAC)?.key, 'ffmpeg', 'AAC is decoded by ffmpeg');
    const aac: Codec = { name: 'AAC', clockRate: 0 };
    assert.equal(plan([aac, opus], PCMU)?.key, 'ffmpeg', 'a consumer preferring AAC asks ffmpeg first');
    assert.equal(
      new InProcessAudioTranscoder(registry).plan(
        request([{ kind: 'audio', codecs: [aac, opus] }], [{ ...media(PCMU), kind: 'audio' }]),
      )?.key,
      'audio=opus/48000',
      'without ffmpeg, Opus in-process',
    );
    const both = hook.plan(
      request(
        [
          { kind: 'video', codecs: [H264] },
          { kind: 'audio', codecs: [opus] },
        ],
        [media(PCMU)],
      ),
    );
    assert.equal(both?.key, 'ffmpeg', 'video and audio together: one ffmpeg');
    assert.equal(
      hook.plan(request([{ kind: 'audio', codecs: [opus] }], [media(PCMU)], ['rtsp://cam#transcode=never']))
        ?.key,
      'ffmpeg',
      "#transcode=never is the next hook's to judge",
    );
    assert.equal(
      hook.upgrade(request([{ kind: 'audio', codecs: [pcma] }], [media(PCMU)])),
      undefined,
      'upgrades are to Opus only',
    );
    assert.equal(hook.upgrade(request([{ kind: 'audio', codecs: [opus] }], [media(PCMU)]))?.preferred, true);
    assert.deepEqual(next.asked, ['plan audio', 'plan audio', 'plan video,audio', 'plan audio']);
  });
});
