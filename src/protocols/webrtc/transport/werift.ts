/**
 * The parts of werift this transport uses, behind narrow types: its DTLS server (exported from the
 * package root) and its SCTP association.
 *
 * werift's package root does not export the SCTP association class (only the whole
 * `RTCSctpTransport`, which wants an `RTCDtlsTransport` and an ICE role), and its `exports` map
 * blocks deep imports. As a last resort the CommonJS build of `sctp/src` is loaded by absolute path
 * with `createRequire`. The association only talks to us through the `SctpLowerTransport` we give
 * it, so a second copy of werift's shared helpers in that module graph is harmless.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DtlsServer } from 'werift';

export { DtlsServer };

/** werift's `Transport` (from its common package) as seen by `DtlsSocket`. */
export interface WeriftDatagramTransport {
  type: string;
  address: { address: string; family: string; port: number };
  closed: boolean;
  onData: (data: Buffer, addr: [string, number]) => void;
  send: (data: Buffer, addr?: [string, number]) => Promise<void>;
  close: () => Promise<void>;
}

/** SRTP protection profile ids werift's DTLS negotiates (RFC 5764 §4.1.2, RFC 7714 §14.2). */
export const WERIFT_SRTP_PROFILE = {
  SRTP_AES128_CM_HMAC_SHA1_80: 0x0001,
  SRTP_AEAD_AES_128_GCM: 0x0007,
} as const;

/** SCTP association states (RFC 9260 §4) as werift numbers them. */
export const SctpState = { CLOSED: 1, ESTABLISHED: 4 } as const;

/** The lower transport werift's SCTP association sends through and is fed from. */
export interface SctpLowerTransport {
  onData?: (buf: Buffer) => void;
  send: (buf: Buffer) => Promise<void>;
  close: () => void;
}

interface WeriftEvent<A extends unknown[]> {
  subscribe(fn: (...args: A) => void): { unSubscribe: () => void };
}

/** The members of werift's `SCTP` class this code calls (some are private in its typings). */
export interface SctpAssociation {
  associationState: number;
  isServer: boolean;
  reconfigQueue: number[];
  readonly maxChannels: number | undefined;
  readonly onReceive: WeriftEvent<[number, number, Buffer]>;
  readonly onReconfigStreams: WeriftEvent<[number[]]>;
  readonly stateChanged: { connected: WeriftEvent<[]>; closed: WeriftEvent<[]> };
  onSackReceived: () => Promise<void>;
  handleData(data: Buffer): Promise<void>;
  send(streamId: number, ppId: number, data: Buffer, opts?: { ordered?: boolean }): Promise<void>;
  transmitReconfigRequest(): Promise<void>;
  start(remotePort?: number): Promise<void>;
  stop(): Promise<void>;
  setState(state: number): void;
}

interface SctpModule {
  SCTP: { server(transport: SctpLowerTransport, port?: number): SctpAssociation };
}

let sctpModule: SctpModule | undefined;

/** werift's `sctp/src` CommonJS module, loaded once by absolute path (see the file comment). */
function loadSctp(): SctpModule {
  if (!sctpModule) {
    const require = createRequire(import.meta.url);
    // `require.resolve('werift')` is lib/webrtc/src/index.js; the association lives in lib/sctp/src.
    const root = dirname(require.resolve('werift'));
    sctpModule = require(join(root, '..', '..', 'sctp', 'src', 'index.js')) as SctpModule;
  }
  return sctpModule;
}

/** A server-side (passive, waits for INIT) SCTP association on local `port` over `lower`. */
export function createSctpAssociation(lower: SctpLowerTransport, port: number): SctpAssociation {
  return loadSctp().SCTP.server(lower, port);
}
