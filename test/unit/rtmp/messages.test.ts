/**
 * RTMP messages above the chunk layer: AMF0 commands and data (one table for encode and decode),
 * AMF3-wrapped commands, protocol and user control messages, aggregates, the handshake state
 * machines, URL parsing and the server's stream naming.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../../src/core/errors.ts';
import { type Amf0Value, encodeAmf0 } from '../../../src/formats/flv/amf0.ts';
import { splitAggregate } from '../../../src/protocols/rtmp/aggregate.ts';
import { commandMessage, dataMessage, parseCommand, parseData } from '../../../src/protocols/rtmp/command.ts';
import {
  parseUserControl,
  setBufferLengthMessage,
  setPeerBandwidthMessage,
  streamBeginMessage,
  userControlMessage,
} from '../../../src/protocols/rtmp/control.ts';
import { ClientHandshake, HANDSHAKE_SIZE, ServerHandshake } from '../../../src/protocols/rtmp/handshake.ts';
import { MessageType, UserControlEvent } from '../../../src/protocols/rtmp/types.ts';
import { parseRtmpUrl, resolveTarget } from '../../../src/protocols/rtmp/url.ts';

const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('RTMP commands', () => {
  const cases: { name: string; txn: number; object: Amf0Value; args: Amf0Value[] }[] = [
    {
      name: 'connect',
      txn: 1,
      object: {
        app: 'live',
        flashVer: 'FMLE/3.0',
        tcUrl: 'rtmp://127.0.0.1:1935/live',
        fpad: false,
        capabilities: 15,
        fourCcList: ['avc1', 'hvc1'],
        nested: { depth: { ok: true } },
      },
      args: [],
    },
    {
      name: '_result',
      txn: 1,
      object: { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
      args: [{ level: 'status', code: 'NetConnection.Connect.Success', objectEncoding: 0 }],
    },
    { name: 'createStream', txn: 4, object: null, args: [] },
    { name: 'publish', txn: 5, object: null, args: ['cam?user=a&pass=b', 'live'] },
    { name: 'play', txn: 0, object: null, args: ['cam', -2, -1, true] },
    { name: 'deleteStream', txn: 6, object: null, args: [1] },
    {
      name: 'onStatus',
      txn: 0,
      object: null,
      args: [{ level: 'error', code: 'NetStream.Play.StreamNotFound', x: undefined }],
    },
    { name: 'ünïcode ✓', txn: 7.5, object: 'a string', args: ['x'.repeat(70000), [1, 'two', null]] },
  ];

  for (const c of cases) {
    test(`parseCommand() reads back what commandMessage() wrote: ${c.name}`, () => {
      const message = commandMessage(3, 1, c.name, c.txn, c.object, ...c.args);
      assert.equal(message.type, MessageType.COMMAND_AMF0);
      const copy = Buffer.from(message.body);
      const parsed = parseCommand(message);
      assert.deepEqual(message.body, copy, 'decoding does not change the body');
      assert.equal(parsed.name, c.name);
      assert.equal(parsed.transactionId, c.txn);
      assert.deepEqual(plain(parsed.object), plain(c.object));
      assert.deepEqual(plain(parsed.args), plain(c.args));
    });
  }

  test('parseCommand() skips the format byte of an AMF3 command message', () => {
    const amf0 = commandMessage(3, 0, 'connect', 1, { app: 'live' });
    const parsed = parseCommand({
      ...amf0,
      type: MessageType.COMMAND_AMF3,
      body: Buffer.concat([Buffer.from([0]), amf0.body]),
    });
    assert.equal(parsed.name, 'connect');
    assert.deepEqual(plain(parsed.object), { app: 'live' });
  });

  test('parseData() reads an @setDataFrame onMetaData message with an ECMA array', () => {
    const message = dataMessage(5, 1, ['@setDataFrame', 'onMetaData', { width: 320, videocodecid: 7 }], true);
    assert.equal(message.body[16 + 13], 0x08, 'the object is written as an ECMA array');
    assert.deepEqual(plain(parseData(message)), [
      '@setDataFrame',
      'onMetaData',
      { width: 320, videocodecid: 7 },
    ]);
  });

  test('parseCommand() throws ParseError for a body without a command name, or malformed AMF0', () => {
    const bodies = [
      encodeAmf0(5),
      Buffer.from([0x02, 0x00, 0x05, 0x61]),
      Buffer.from([0x11]),
      Buffer.concat([encodeAmf0('x'), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff])]),
    ];
    for (const body of bodies) {
      assert.throws(
        () => parseCommand({ csid: 3, type: MessageType.COMMAND_AMF0, streamId: 0, timestamp: 0, body }),
        ParseError,
      );
    }
  });

  test('parseCommand() throws ParseError for objects nested deeper than the AMF0 limit', () => {
    let value: Amf0Value = 1;
    for (let i = 0; i < 40; i++) value = { v: value };
    const message = commandMessage(3, 0, 'deep', 1, value);
    assert.throws(() => parseCommand(message), /nesting deeper/);
  });
});

describe('RTMP control messages', () => {
  test('userControlMessage() and parseUserControl() round-trip Stream Begin, Set Buffer Length and ping', () => {
    assert.deepEqual(parseUserControl(streamBeginMessage(1).body), {
      event: UserControlEvent.STREAM_BEGIN,
      value: 1,
    });
    assert.deepEqual(parseUserControl(setBufferLengthMessage(1, 3000).body), {
      event: UserControlEvent.SET_BUFFER_LENGTH,
      value: 1,
      value2: 3000,
    });
    const ping = userControlMessage(UserControlEvent.PING_REQUEST, 0xfffffffe);
    assert.equal(ping.csid, 2);
    assert.equal(ping.streamId, 0);
    assert.deepEqual(parseUserControl(ping.body), {
      event: UserControlEvent.PING_REQUEST,
      value: 0xfffffffe,
    });
  });

  test('parseUserControl() throws ParseError for a truncated event', () => {
    assert.throws(() => parseUserControl(Buffer.from([0, 0, 0])), ParseError);
    assert.throws(() => parseUserControl(Buffer.from([0, 3, 0, 0, 0, 1])), ParseError);
  });

  test('setPeerBandwidthMessage() writes the window and the limit type', () => {
    const m = setPeerBandwidthMessage(2_500_000, 2);
    assert.equal(m.type, MessageType.SET_PEER_BANDWIDTH);
    assert.deepEqual(m.body, Buffer.from([0x00, 0x26, 0x25, 0xa0, 0x02]));
  });

  test('splitAggregate() splits sub-messages and shifts their times to the aggregate time', () => {
    const sub = (type: number, ts: number, data: Buffer) => {
      const head = Buffer.alloc(11);
      head[0] = type;
      head.writeUIntBE(data.length, 1, 3);
      head.writeUIntBE(ts & 0xffffff, 4, 3);
      head[7] = ts >>> 24;
      const back = Buffer.alloc(4);
      back.writeUInt32BE(11 + data.length);
      return Buffer.concat([head, data, back]);
    };
    const body = Buffer.concat([sub(9, 5000, Buffer.from('video')), sub(8, 5020, Buffer.from('au'))]);
    const out = splitAggregate({ csid: 6, type: MessageType.AGGREGATE, streamId: 1, timestamp: 100, body });
    assert.deepEqual(
      out.map((m) => [m.type, m.timestamp, m.body.toString()]),
      [
        [9, 100, 'video'],
        [8, 120, 'au'],
      ],
    );
    assert.throws(
      () => splitAggregate({ csid: 6, type: 22, streamId: 1, timestamp: 0, body: body.subarray(0, 25) }),
      ParseError,
    );
  });
});

describe('RTMP handshake', () => {
  test('ServerHandshake and ClientHandshake complete against each other, with early chunk bytes kept', () => {
    const server = new ServerHandshake(() => 1000);
    const client = new ClientHandshake(() => 2000);
    const c0c1 = client.start();
    assert.equal(c0c1.length, 1 + HANDSHAKE_SIZE);
    // Split C0+C1 to check that the server waits for all of it.
    assert.deepEqual(server.push(c0c1.subarray(0, 700)), { done: false });
    const s = server.push(c0c1.subarray(700));
    assert.equal(s.done, false);
    assert.equal(s.send?.length, 1 + 2 * HANDSHAKE_SIZE);
    assert.deepEqual(
      s.send?.subarray(1 + HANDSHAKE_SIZE + 8),
      c0c1.subarray(1 + 8),
      'S2 echoes the random part of C1',
    );
    const c = client.push(s.send!);
    assert.equal(c.done, true);
    assert.equal(c.send?.length, HANDSHAKE_SIZE);
    const end = server.push(Buffer.concat([c.send!, Buffer.from([1, 2, 3])]));
    assert.equal(end.done, true);
    assert.deepEqual(end.rest, Buffer.from([1, 2, 3]));
  });

  test('ServerHandshake.push() accepts a digest C1 (Flash, FMLE) by echoing it', () => {
    const c1 = Buffer.alloc(HANDSHAKE_SIZE, 7);
    c1.writeUInt32BE(0x80000702, 4); // a Flash Player version where simple clients put zeros
    const step = new ServerHandshake().push(Buffer.concat([Buffer.from([3]), c1]));
    assert.deepEqual(step.send?.subarray(1 + HANDSHAKE_SIZE + 8), c1.subarray(8));
    assert.equal(step.send?.readUInt32BE(1 + 4), 0, 'S1 has no version: the client expects no digest');
  });

  test('ServerHandshake.push() throws ParseError for version 6 (RTMPE) and other versions', () => {
    for (const version of [6, 0, 0x47]) {
      assert.throws(
        () =>
          new ServerHandshake().push(Buffer.concat([Buffer.from([version]), Buffer.alloc(HANDSHAKE_SIZE)])),
        ParseError,
      );
    }
  });
});

describe('RTMP URLs and stream names', () => {
  test('parseRtmpUrl() splits app and stream as ffmpeg does and keeps the query', () => {
    const a = parseRtmpUrl('rtmp://cam.local/live/door?token=x#timeout=2');
    assert.deepEqual(
      [a.host, a.port, a.app, a.playPath, a.tcUrl, a.connectTimeoutMs, a.tls],
      ['cam.local', 1935, 'live', 'door?token=x', 'rtmp://cam.local/live', 2000, false],
    );
    const b = parseRtmpUrl('rtmps://u:p%40ss@[::1]:8443/door');
    assert.deepEqual(
      [b.host, b.port, b.app, b.playPath, b.tls],
      ['::1', 8443, '', 'door?user=u&pass=p%40ss', true],
    );
    assert.match(b.display, /u:\*\*\*@/);
  });

  test('parseRtmpUrl() throws BadRequestError for another scheme, no stream or a bad timeout', () => {
    for (const url of ['http://h/live/x', 'rtmp://h/', 'rtmp://h/live/x#timeout=0', 'rtmp://']) {
      assert.throws(() => parseRtmpUrl(url), /source/);
    }
  });

  test('resolveTarget() maps live/NAME, NAME and APP/NAME to streams and collects credentials', () => {
    const exists = (n: string) => n === 'cams/door';
    assert.equal(resolveTarget('live', 'cam', exists)?.stream, 'cam');
    assert.equal(resolveTarget('', 'cam', exists)?.stream, 'cam');
    assert.equal(resolveTarget('cam', '', exists)?.stream, 'cam');
    assert.equal(resolveTarget('cams', 'door', exists)?.stream, 'cams/door');
    assert.equal(resolveTarget('cams', 'yard', exists)?.stream, 'yard');
    const t = resolveTarget('live?user=a', 'cam?pass=b', exists);
    assert.deepEqual([t?.stream, t?.params.get('user'), t?.params.get('pass')], ['cam', 'a', 'b']);
    assert.equal(resolveTarget('', '', exists), undefined);
  });
});
