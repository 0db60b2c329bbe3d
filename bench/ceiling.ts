/**
 * The ceiling (a worker process): the least a Node RTSP relay can do. One publisher connection in
 * (ANNOUNCE/SETUP/RECORD answered from canned replies), and every chunk it reads written as it is
 * to each playing reader: no RTP parsing, no copies, no queues of ours. The only bookkeeping is the
 * interleaved frame boundary (`$`, channel, length: RFC 2326 §10.12), so a reader that joins starts
 * at a packet boundary. It shows what Node itself costs on this machine for the same fan-out.
 *
 * ops: listen -> { port }; stats -> counters.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { serveIpc } from './lib/ipc.ts';

const HEADER_END = Buffer.from('\r\n\r\n');
/** A reader further behind than this is disconnected (the gateway's consumers drop at 4 MiB). */
const MAX_BACKLOG = 8 * 1024 * 1024;

let announced = '';
const active: Socket[] = [];
const pending: Socket[] = [];
const counters = { chunks: 0, bytesIn: 0, readers: 0, slowClosed: 0 };
// Interleaved framing state of the publisher's stream.
let need = 0;
let header: number[] = [];

function forward(chunk: Buffer): void {
  counters.chunks++;
  counters.bytesIn += chunk.length;
  if (pending.length > 0 && need === 0 && header.length === 0) active.push(...pending.splice(0));
  for (let i = active.length - 1; i >= 0; i--) {
    const s = active[i];
    if (s.destroyed) active.splice(i, 1);
    else if (s.writableLength > MAX_BACKLOG) {
      counters.slowClosed++;
      s.destroy();
      active.splice(i, 1);
    } else s.write(chunk);
  }
  let pos = 0;
  while (pos < chunk.length) {
    if (need > 0) {
      const n = Math.min(need, chunk.length - pos);
      need -= n;
      pos += n;
      continue;
    }
    header.push(chunk[pos++]);
    if (header.length === 4) {
      need = (header[2] << 8) | header[3];
      header = [];
    }
  }
}

function reply(socket: Socket, cseq: string, extra: string[] = [], body = ''): void {
  const lines = ['RTSP/1.0 200 OK', `CSeq: ${cseq}`, 'Session: 12345678', ...extra];
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function onConnection(socket: Socket): void {
  socket.setNoDelay(true);
  let buf = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const end = buf.indexOf(HEADER_END);
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      const body = buf.subarray(end + 4, end + 4 + length).toString();
      buf = buf.subarray(end + 4 + length);
      const [method, url] = head.split(' ');
      const cseq = /cseq:\s*(\d+)/i.exec(head)?.[1] ?? '0';
      switch (method) {
        case 'ANNOUNCE':
          announced = body;
          reply(socket, cseq);
          break;
        case 'DESCRIBE':
          reply(socket, cseq, ['Content-Type: application/sdp', `Content-Base: ${url}/`], announced);
          break;
        case 'SETUP': {
          const transport =
            /transport:\s*([^\r\n]+)/i.exec(head)?.[1] ?? 'RTP/AVP/TCP;unicast;interleaved=0-1';
          reply(socket, cseq, [`Transport: ${transport}`]);
          break;
        }
        case 'RECORD':
          reply(socket, cseq);
          socket.removeListener('data', onData);
          socket.on('data', forward);
          if (buf.length > 0) forward(buf);
          return;
        case 'PLAY':
          reply(socket, cseq);
          // What readers send from now on (RTCP, keep-alives) is ignored: answering would break
          // the framing of the relayed bytes.
          socket.removeListener('data', onData);
          socket.on('data', () => {});
          counters.readers++;
          pending.push(socket);
          return;
        default:
          reply(socket, cseq, ['Public: OPTIONS, DESCRIBE, SETUP, PLAY, ANNOUNCE, RECORD']);
      }
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

let server: Server | undefined;

serveIpc({
  listen: () =>
    new Promise((resolve, reject) => {
      server = createServer(onConnection);
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve({ port: (server!.address() as { port: number }).port }));
    }),
  stats: () => ({ ...counters, active: active.length }),
});
