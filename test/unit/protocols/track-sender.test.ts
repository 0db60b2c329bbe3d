/**
 * RtpTrackSender.packets(): a frame is packetized once and every reader gets the same packets, in
 * whatever order readers ask for frames (the one-entry memo in front of the WeakMap must agree
 * with it).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StreamTrack } from '../../../src/core/track.ts';
import { RtpTrackSender } from '../../../src/protocols/rtp/track-sender.ts';
import { videoFrame } from '../rtsp/server-client.ts';

const H264 = { name: 'H264' as const, clockRate: 90000, fmtp: { 'packetization-mode': '1' } };

describe('RtpTrackSender', () => {
  test('packets() returns the same array for a frame asked again after other frames', () => {
    const sender = new RtpTrackSender(new StreamTrack(0, { ...H264 }), 1200);
    const a = videoFrame(0, true);
    const b = videoFrame(3000, false);
    const pa = sender.packets(a);
    assert.equal(sender.packets(a), pa);
    const pb = sender.packets(b);
    assert.notEqual(pb, pa);
    assert.equal(sender.packets(a), pa, 'a frame asked again after another one');
    assert.equal(sender.packets(b), pb);
  });

  test('packets() numbers the packets of successive frames contiguously, once per frame', () => {
    const sender = new RtpTrackSender(new StreamTrack(0, { ...H264 }), 1200);
    const frames = [videoFrame(0, true), videoFrame(3000, false), videoFrame(6000, false)];
    const seqs: number[] = [];
    for (const f of frames) {
      // Three readers in a row, as fan-out asks.
      for (let reader = 0; reader < 3; reader++) sender.packets(f);
      for (const p of sender.packets(f)) seqs.push(p.readUInt16BE(2));
    }
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1] + 1) & 0xffff);
    assert.equal(sender.encoder.packetCount, seqs.length);
  });
});
