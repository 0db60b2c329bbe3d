/**
 * The RTSP client's ONVIF back channel against the test camera: it is asked for with the Require
 * tag, set up after the played media and fed with RTP on its own interleaved channel; cameras
 * that refuse the tag (551, 400) are asked again without it on the same connection, one that hangs
 * up is connected to again, and either is not asked again.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeAlaw, encodeAlaw } from '../../../src/audio/g711.ts';
import type { SourceConnection } from '../../../src/core/source.ts';
import { parseRtspUrl, RtspDriver } from '../../../src/protocols/rtsp/client/index.ts';
import { BACKCHANNEL_TAG, BackchannelCamera } from '../../fixtures/backchannel-camera.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { sine } from '../audio/helpers.ts';

let before: ResourceCounts;
let cam: BackchannelCamera | undefined;
const conns: SourceConnection[] = [];

beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  await cam?.close();
  cam = undefined;
  await assertNoLeaks(before);
});

async function connect(driver: RtspDriver): Promise<SourceConnection> {
  const conn = await driver.connect(() => undefined, new AbortController().signal);
  conns.push(conn);
  return conn;
}

async function until(probe: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('RTSP client back channel', { timeout: 20000 }, () => {
  test('driver.connect() asks for the ONVIF back channel, sets it up and sends its frames as PCMA RTP on the back channel', async () => {
    cam = await BackchannelCamera.start();
    const conn = await connect(new RtspDriver(parseRtspUrl(cam.url())));
    assert.deepEqual(
      conn.medias.map((m) => `${m.kind}:${m.codecs[0].name}`),
      ['video:H264', 'audio:PCMA'],
      'the back channel is not one of the played medias',
    );
    assert.equal(conn.backchannel?.codec.name, 'PCMA');
    assert.equal(conn.backchannel?.codec.payloadType, 8);
    assert.deepEqual(
      cam.requests.map((r) => `${r.method}${r.require === BACKCHANNEL_TAG ? '+bc' : ''}`),
      ['OPTIONS', 'DESCRIBE+bc', 'SETUP+bc', 'SETUP+bc', 'SETUP+bc', 'PLAY+bc'],
    );
    const pcm = sine(8000, 440, 1600);
    for (let i = 0; i < 10; i++) {
      const data = encodeAlaw(pcm.subarray(i * 160, (i + 1) * 160));
      conn.backchannel?.send({ pts: i * 160, dts: i * 160, keyframe: true, data });
    }
    await until(() => cam!.received.length === 10);
    const got = cam.received;
    assert.ok(got.every((p) => p.payloadType === 8 && p.payload.length === 160));
    for (let i = 1; i < got.length; i++) {
      assert.equal(got[i].seq, (got[i - 1].seq + 1) & 0xffff);
      assert.equal(got[i].timestamp, (got[i - 1].timestamp + 160) >>> 0);
    }
    assert.deepEqual(cam.receivedPcm(), decodeAlaw(encodeAlaw(pcm)), 'the samples arrive as sent');
  });

  for (const [mode, status] of [
    ['refuse', 551],
    ['bad', 400],
  ] as const) {
    test(`driver.connect() asks again without the back channel when DESCRIBE with the tag gets ${status}, and not again later`, async () => {
      cam = await BackchannelCamera.start({ backchannel: mode });
      const driver = new RtspDriver(parseRtspUrl(cam.url()));
      const conn = await connect(driver);
      assert.equal(conn.backchannel, undefined);
      assert.equal(conn.medias.length, 2);
      assert.deepEqual(
        cam.requests.map((r) => `${r.method}${r.require ? '+bc' : ''}`),
        ['OPTIONS', 'DESCRIBE+bc', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY'],
      );
      assert.equal(driver.backchannelRefused, true);
      conn.close();
      cam.requests.length = 0;
      await connect(driver);
      assert.deepEqual(
        cam.requests.filter((r) => r.method === 'DESCRIBE').map((r) => r.require),
        [undefined],
        'a reconnect does not ask again',
      );
    });
  }

  test('driver.connect() connects again without the back channel when the camera hangs up on the tag', async () => {
    cam = await BackchannelCamera.start({ backchannel: 'hangup' });
    const driver = new RtspDriver(parseRtspUrl(cam.url()));
    const conn = await connect(driver);
    assert.equal(conn.backchannel, undefined);
    assert.deepEqual(
      cam.requests.map((r) => `${r.method}${r.require ? '+bc' : ''}`),
      ['OPTIONS', 'DESCRIBE+bc', 'OPTIONS', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY'],
    );
    assert.equal(driver.backchannelRefused, true);
  });

  test('driver.connect() with #backchannel=0 never sends the tag and plays without a back channel', async () => {
    cam = await BackchannelCamera.start();
    const conn = await connect(new RtspDriver(parseRtspUrl(`${cam.url()}#backchannel=0`)));
    assert.equal(conn.backchannel, undefined);
    assert.ok(cam.requests.every((r) => r.require === undefined));
  });
});
