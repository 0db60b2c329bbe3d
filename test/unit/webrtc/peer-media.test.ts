import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPayloader } from '../../../src/codecs/index.ts';
import type { Frame } from '../../../src/core/media.ts';
import { Stream } from '../../../src/core/stream.ts';
import { RtpHistory } from '../../../src/protocols/webrtc/peer/history.ts';
import { parseOffer } from '../../../src/protocols/webrtc/peer/offer.ts';
import { planPublisher } from '../../../src/protocols/webrtc/peer/plan.ts';
import { WebRtcPublisher } from '../../../src/protocols/webrtc/peer/publisher.ts';
import { WebRtcViewer } from '../../../src/protocols/webrtc/peer/viewer.ts';
import { RtpEncoder } from '../../../src/rtp/encoder.ts';
import { parseRtp } from '../../../src/rtp/packet.ts';
import { parseRtcpCompound, serializeRtcp } from '../../../src/rtp/rtcp.ts';
import { compressNackSequences } from '../../../src/rtp/rtcp-feedback.ts';
import { FakeDriver, media, RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';
import { chromiumOffer, FakeTransport, MAIN_H264, MONO_OPUS } from './peer-fakes.ts';

/** An AVCC access unit of one NAL unit of `size` bytes (type 5 = IDR, 1 = non-IDR slice). */
function avcc(nalType: number, size: number): Buffer {
  const nal = Buffer.alloc(size, 0xab);
  nal[0] = 0x60 | nalType;
  const out = Buffer.alloc(4 + size);
  out.writeUInt32BE(size, 0);
  nal.copy(out, 4);
  return out;
}

function frame(keyframe: boolean, pts: number, size = 3000): Partial<Frame> {
  return { pts, dts: pts, keyframe, data: avcc(keyframe ? 5 : 1, size) };
}

let before: ResourceCounts;
const streams: Stream[] = [];
beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await assertNoLeaks(before);
});

async function playing(driver: FakeDriver) {
  const stream = new Stream('cam', [{ url: 'fake://0', driver }], { idleTimeoutMs: 20 });
  streams.push(stream);
  const viewer = new WebRtcViewer(parseOffer(chromiumOffer()), { cname: 'gw', senderReportIntervalMs: 50 });
  await stream.addConsumer(viewer);
  viewer.bind(stream.name);
  const transport = new FakeTransport();
  viewer.start(transport);
  return { stream, viewer, transport };
}

describe('WebRTC media', () => {
  test('rtpHistory.get() returns the packet of a sequence number until the ring wraps past it', () => {
    const enc = new RtpEncoder({ payloadType: 96, ssrc: 1, clockRate: 90000, initialSequence: 65530 });
    const history = new RtpHistory(16);
    const packets = Array.from({ length: 20 }, (_, i) => enc.encode([Buffer.from([i])], i, true)[0]);
    history.store(packets);
    history.store(packets); // a second viewer storing the same array is a no-op
    const seqOf = (p: Buffer) => p.readUInt16BE(2);
    assert.equal(history.get(seqOf(packets[19])), packets[19]);
    assert.equal(history.get(seqOf(packets[4])), packets[4], 'across the 65535 -> 0 wrap');
    assert.equal(history.get(seqOf(packets[3])), undefined, 'overwritten by a newer one');
    assert.equal(history.get(1234), undefined);
    assert.throws(() => new RtpHistory(100), RangeError);
  });

  test('webRtcViewer.writeFrame() sends the shared packets with the browser payload type, answers NACKs from the history and rate-limits PLI', async () => {
    const driver = new FakeDriver([media(MAIN_H264), media(MONO_OPUS)]);
    const { viewer, transport } = await playing(driver);
    driver.last.send(0, frame(true, 0));
    driver.last.send(1, { pts: 0, dts: 0, keyframe: true, data: Buffer.from([0xfc, 1, 2, 3]) });
    const video = transport.rtp.filter((p) => parseRtp(p).payloadType === 127);
    const audio = transport.rtp.filter((p) => parseRtp(p).payloadType === 111);
    assert.equal(video.length, 3, 'a 3000-byte IDR in 1200-byte FU-A fragments');
    assert.equal(audio.length, 1);
    assert.equal(parseRtp(video[2]).marker, true, 'the marker bit survives the payload type patch');
    const ssrc = parseRtp(video[0]).ssrc;
    const seqs = video.map((p) => parseRtp(p).sequenceNumber);

    transport.rtp.length = 0;
    const nack = serializeRtcp({
      type: 'nack',
      senderSsrc: 1,
      mediaSsrc: ssrc,
      pairs: compressNackSequences([seqs[0], seqs[2], 999]),
    });
    viewer.handleRtcp(nack);
    assert.deepEqual(
      transport.rtp.map((p) => parseRtp(p).sequenceNumber),
      [seqs[0], seqs[2]],
      'the lost packets again, unknown ones skipped',
    );
    assert.equal(viewer.rtcCounters.retransmitted, 2);

    const pli = serializeRtcp({ type: 'pli', senderSsrc: 1, mediaSsrc: ssrc });
    viewer.handleRtcp(pli);
    viewer.handleRtcp(pli);
    viewer.handleRtcp(
      serializeRtcp({ type: 'fir', senderSsrc: 1, mediaSsrc: 0, entries: [{ ssrc, sequenceNumber: 1 }] }),
    );
    assert.equal(driver.last.keyframeRequests, 1, 'one keyframe request per second per track');
    viewer.handleRtcp(Buffer.from([0x80, 0xc9, 0, 9]));
    assert.equal(viewer.rtcCounters.badRtcp, 1, 'a malformed packet is counted, not thrown');

    await sleep(80);
    const reports = transport.rtcp.flatMap((p) => parseRtcpCompound(p));
    const sr = reports.find((r) => r.type === 'sr' && r.ssrc === ssrc);
    assert.ok(sr && sr.type === 'sr', 'a sender report for the video SSRC');
    assert.equal(sr.packetCount, 5, 'the packets this viewer was sent, retransmissions included');
    assert.ok(
      reports.some((r) => r.type === 'sdes'),
      'with the CNAME',
    );
    viewer.close();
  });

  test('webRtcViewer.start() replays the cached GOP so a late viewer gets the same sequence numbers as the first', async () => {
    const driver = new FakeDriver([media(MAIN_H264), media(MONO_OPUS)]);
    const first = await playing(driver);
    driver.last.send(0, frame(true, 0, 100));
    driver.last.send(0, frame(false, 3600, 100));
    const stream = streams[0];
    const late = new WebRtcViewer(parseOffer(chromiumOffer()), { cname: 'gw' });
    await stream.addConsumer(late);
    late.bind(stream.name);
    const transport = new FakeTransport();
    late.start(transport);
    const seqs = (list: Buffer[]) => list.map((p) => parseRtp(p).sequenceNumber);
    assert.deepEqual(seqs(transport.rtp), seqs(first.transport.rtp));
    first.viewer.close();
    late.close();
  });

  test('webRtcViewer drops frames while the transport backlog is over the limit and resumes at a keyframe', async () => {
    const driver = new FakeDriver([media(MAIN_H264), media(MONO_OPUS)]);
    const { viewer, transport } = await playing(driver);
    transport.backlog = viewer.maxBacklogBytes + 1;
    driver.last.send(0, frame(true, 0, 100));
    transport.backlog = 0;
    driver.last.send(0, frame(false, 3600, 100));
    assert.equal(transport.rtp.length, 0);
    driver.last.send(0, frame(true, 7200, 100));
    assert.equal(transport.rtp.length, 1);
    assert.equal(viewer.counters.drops, 2);
    viewer.close();
  });

  test('webRtcPublisher.handleRtp() depacketizes browser RTP into frames, skipping padding-only packets, and sends PLI until a keyframe', async () => {
    const offer = parseOffer(chromiumOffer('sendonly').replace('a=recvonly', 'a=sendonly'));
    const publisher = new WebRtcPublisher(planPublisher(offer), { keyframeIntervalMs: 60_000 });
    assert.deepEqual(
      publisher.medias.map((m) => `${m.kind}:${m.codecs[0].name}/${m.codecs[0].payloadType}:${m.direction}`),
      ['video:H264/106:recvonly', 'audio:OPUS/111:recvonly'],
    );
    const stream = new Stream('pub', [], { idleTimeoutMs: 20 });
    streams.push(stream);
    publisher.setSink(stream.addPublisher('webrtc:test', publisher));
    const reader = new RecordingConsumer([{ kind: 'video', codecs: 'any' }]);
    await stream.addConsumer(reader);
    reader.play();
    const transport = new FakeTransport();
    publisher.start(transport);
    const plis = () => transport.rtcp.flatMap((p) => parseRtcpCompound(p)).filter((p) => p.type === 'pli');
    assert.equal(plis().length, 1, 'PLI at start, to the SSRC of the offer');
    assert.equal(plis()[0].type === 'pli' && plis()[0].mediaSsrc, 2231627014);

    const enc = new RtpEncoder({ payloadType: 106, ssrc: 2231627014, clockRate: 90000 });
    const payloader = createPayloader({ name: 'H264', clockRate: 90000 }, 1200);
    const send = (f: Partial<Frame>) => {
      for (const out of payloader.packetize(f as Frame)) {
        for (const p of enc.encode([out.payload], out.timestamp, out.marker)) publisher.handleRtp(p);
      }
    };
    send(frame(true, 0));
    for (const p of enc.encode([Buffer.alloc(0)], 0, false)) publisher.handleRtp(p); // padding-only probe
    send(frame(false, 3000));
    send(frame(false, 6000));
    await sleep(10);
    assert.deepEqual(
      reader.received.map((r) => r.frame.keyframe),
      [true, false, false],
      'no frame lost to the padding packet',
    );
    publisher.handleRtp(Buffer.from([1, 2, 3]));
    assert.equal(publisher.counters.badPackets, 1);
    publisher.requestKeyframe();
    assert.equal(plis().length, 1, 'rate-limited');
    publisher.close();
    publisher.close();
    assert.equal(reader.closed, true, 'the publisher leaving ends its readers');
  });
});
