/**
 * UDP port pairs for RTP over UDP (RFC 3550 §11: RTP on an even port, RTCP on the next one).
 * The operating system picks a free port; an odd pick or a taken neighbour is retried.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/** Two bound sockets; whoever holds the pair closes it with `closeUdpPair()`. */
export interface UdpPair {
  rtp: Socket;
  rtcp: Socket;
  /** The even RTP port; RTCP is on `rtpPort + 1`. */
  rtpPort: number;
}

const ATTEMPTS = 20;
/** Receive buffer asked for per socket; the kernel may cap it (net.core.rmem_max). */
const RECV_BUFFER_BYTES = 1 << 21;

/** Binds an even/odd pair on `address` (the local address of the RTSP connection). */
export async function bindUdpPair(address: string): Promise<UdpPair> {
  let lastError: unknown;
  for (let i = 0; i < ATTEMPTS; i++) {
    const rtp = await bind(address, 0).catch((err) => {
      lastError = err;
      return undefined;
    });
    if (!rtp) continue;
    let port = rtp.address().port;
    let first: Socket | undefined = rtp;
    if (port % 2 === 1) {
      closeQuietly(rtp);
      first = await bind(address, port + 1).catch(() => undefined);
      port += 1;
    }
    if (!first || port + 1 > 65535) {
      if (first) closeQuietly(first);
      continue;
    }
    const rtcp = await bind(address, port + 1).catch((err) => {
      lastError = err;
      return undefined;
    });
    if (rtcp) return { rtp: first, rtcp, rtpPort: port };
    closeQuietly(first);
  }
  throw new Error(`no free UDP port pair on ${address} after ${ATTEMPTS} attempts: ${String(lastError)}`);
}

/** Idempotent. */
export function closeUdpPair(pair: UdpPair): void {
  closeQuietly(pair.rtp);
  closeQuietly(pair.rtcp);
}

function bind(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({
      type: isIPv6(address) ? 'udp6' : 'udp4',
      recvBufferSize: RECV_BUFFER_BYTES,
    });
    const onError = (err: Error) => {
      closeQuietly(socket);
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      // Receive errors of an unconnected UDP socket carry nothing actionable; the owner may listen too.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}
