/** Free ports on 127.0.0.1, chosen by the OS (bind port 0, read it, close). */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A free even UDP port whose successor is free too (RTP + RTCP), as RTP receivers like them. */
export async function freeUdpPortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await bindUdp(0);
    if (port % 2 !== 0 || port > 65534) continue;
    const ok = await bindUdp(port + 1).then(
      () => true,
      () => false,
    );
    if (ok) return port;
  }
  throw new Error('no free UDP port pair on 127.0.0.1');
}

function bindUdp(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, '127.0.0.1', () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}
