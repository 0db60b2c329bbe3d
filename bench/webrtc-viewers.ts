/**
 * WebRTC viewers (a worker process): N sessions, each one UDP socket that does WHEP (mediagate) or
 * Janus's streaming `watch` (over its HTTP API), ICE as the controlling agent (STUN checks with
 * USE-CANDIDATE, RFC 8445), DTLS as client through werift's `DtlsClient`, and then only counts the
 * SRTP packets: the RTP header is in the clear (RFC 3711 §3.1), so sequence gaps (loss) are seen
 * without decrypting, which keeps 100+ viewers cheap in one process.
 *
 * ops: add { target, count } -> { opened, failed, errors, total }; reset; freeze; collect; close.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { CipherContext, DtlsClient } from 'werift';
import { serveIpc } from './lib/ipc.ts';
import { answerTo, type LocalIce, parseRemote, whepOffer } from './lib/sdp.ts';
import {
  bindingRequest,
  bindingSuccess,
  isStun,
  STUN_BINDING_REQUEST,
  STUN_BINDING_SUCCESS,
  stunHeader,
} from './lib/stun.ts';

/** ECDSA with SHA-256 as werift numbers it; SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764 §4.1.2). */
const SIGNATURE_HASH = { hash: 4, signature: 3 } as const;
const SRTP_AES128_CM_SHA1_80 = 1;
const CHECK_INTERVAL_MS = 50;
const CONSENT_INTERVAL_MS = 2000;
/** RTCP packet types 192-223 share the second byte's range with RTP (RFC 5761 §4). */
const isRtcp = (b: Buffer) => b[1] >= 192 && b[1] <= 223;

export type Target = { kind: 'whep'; url: string } | { kind: 'janus'; url: string; mountpoint: number };

interface Signaling {
  /** Sends the local description, returns the remote one. */
  negotiate(local: LocalIce): Promise<string>;
  close(): Promise<void>;
}

function whep(url: string): Signaling {
  let location: string | undefined;
  return {
    async negotiate(local) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: whepOffer(local),
        signal: AbortSignal.timeout(10000),
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`WHEP ${res.status}: ${text.slice(0, 200)}`);
      location = res.headers.get('location') ?? undefined;
      return text;
    },
    async close() {
      if (location) await fetch(new URL(location, url), { method: 'DELETE' }).catch(() => {});
    },
  };
}

/** Janus's HTTP API (janus.transport.http): create, attach streaming, watch, long-poll the offer, start. */
function janus(base: string, mountpoint: number): Signaling {
  let session: string | undefined;
  let tx = 0;
  const post = async (path: string, body: Record<string, unknown>) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      body: JSON.stringify({ ...body, transaction: `t${++tx}` }),
      signal: AbortSignal.timeout(10000),
    });
    const json = (await res.json()) as { janus: string; data?: { id: number }; error?: { reason: string } };
    if (json.janus === 'error') throw new Error(`janus ${String(body.janus)}: ${json.error?.reason}`);
    return json;
  };
  return {
    async negotiate(local) {
      session = String((await post('', { janus: 'create' })).data?.id);
      const handle = String(
        (await post(`/${session}`, { janus: 'attach', plugin: 'janus.plugin.streaming' })).data?.id,
      );
      await post(`/${session}/${handle}`, { janus: 'message', body: { request: 'watch', id: mountpoint } });
      const deadline = Date.now() + 10000;
      let offer: string | undefined;
      while (!offer && Date.now() < deadline) {
        const res = await fetch(`${base}/${session}?maxev=5`, { signal: AbortSignal.timeout(10000) });
        const events = (await res.json()) as unknown;
        for (const ev of (Array.isArray(events) ? events : [events]) as { jsep?: { sdp: string } }[]) {
          if (ev.jsep?.sdp) offer = ev.jsep.sdp;
        }
      }
      if (!offer) throw new Error('janus: no offer');
      const answer = answerTo(parseRemote(offer), local);
      await post(`/${session}/${handle}`, {
        janus: 'message',
        body: { request: 'start' },
        jsep: { type: 'answer', sdp: answer },
      });
      return offer;
    },
    async close() {
      if (session) await post(`/${session}`, { janus: 'destroy' }).catch(() => {});
    },
  };
}

interface Cert {
  certPem: string;
  keyPem: string;
  fingerprint: string;
}

class Viewer {
  packets = 0;
  bytes = 0;
  lost = 0;
  rtcp = 0;
  frozen = { packets: 0, bytes: 0, lost: 0 };
  closed = false;
  #lastSeq = -1;
  #timer: NodeJS.Timeout | undefined;
  #dtls: DtlsClient | undefined;
  #feedDtls: ((b: Buffer) => void) | undefined;

  constructor(
    readonly socket: Socket,
    readonly signaling: Signaling,
  ) {}

  /** ICE, then DTLS, then the first SRTP packet; rejects after `timeoutMs`. */
  async start(cert: Cert, timeoutMs: number): Promise<void> {
    const socket = this.socket;
    const local: LocalIce = {
      ufrag: randomBytes(4).toString('hex'),
      pwd: randomBytes(16).toString('hex'),
      fingerprint: cert.fingerprint,
      port: socket.address().port,
    };
    const remoteSdp = await this.signaling.negotiate(local);
    const remote = parseRemote(remoteSdp);
    if (!remote.candidate) {
      const found = remoteSdp.match(/a=candidate:.*/g)?.join(' | ') ?? 'none';
      throw new Error(`no UDP candidate on 127.0.0.1 in the remote description (candidates: ${found})`);
    }
    const { address, port } = remote.candidate;
    const tieBreaker = randomBytes(8).readBigUInt64BE();
    const pending = new Set<string>();
    let connected!: () => void;
    let failed!: (e: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      connected = resolve;
      failed = reject;
    });
    let iceDone = false;
    let firstMedia = false;
    const check = () => {
      const { packet, transactionId } = bindingRequest({
        username: `${remote.ufrag}:${local.ufrag}`,
        pwd: remote.pwd,
        tieBreaker,
      });
      pending.add(transactionId.toString('hex'));
      socket.send(packet, port, address);
    };
    socket.on('message', (msg, rinfo) => {
      const b0 = msg[0];
      if (b0 >= 128 && b0 <= 191) {
        if (isRtcp(msg)) {
          this.rtcp++;
          return;
        }
        this.#onRtp(msg);
        if (!firstMedia) {
          firstMedia = true;
          connected();
        }
      } else if (b0 >= 20 && b0 <= 63) this.#feedDtls?.(msg);
      else if (isStun(msg)) {
        const { type, transactionId } = stunHeader(msg);
        if (type === STUN_BINDING_SUCCESS && pending.delete(transactionId.toString('hex')) && !iceDone) {
          iceDone = true;
          clearInterval(this.#timer);
          this.#timer = setInterval(check, CONSENT_INTERVAL_MS);
          this.#startDtls(cert, address, port, failed);
        } else if (type === STUN_BINDING_REQUEST) {
          socket.send(bindingSuccess(msg, rinfo.address, rinfo.port, local.pwd), rinfo.port, rinfo.address);
        }
      }
    });
    check();
    this.#timer = setInterval(check, CHECK_INTERVAL_MS);
    const timeout = setTimeout(
      () =>
        failed(new Error(`not connected in ${timeoutMs} ms (ice ${iceDone}, dtls ${this.#dtls?.connected})`)),
      timeoutMs,
    );
    try {
      await done;
    } finally {
      clearTimeout(timeout);
    }
  }

  #startDtls(cert: Cert, address: string, port: number, failed: (e: Error) => void): void {
    const lower = {
      type: 'udp',
      address: { address, family: 'IPv4', port },
      closed: false,
      onData: (_b: Buffer, _a: [string, number]) => {},
      send: async (buf: Buffer) => {
        if (!this.closed) this.socket.send(buf, port, address);
      },
      close: async () => {},
    };
    const dtls = new DtlsClient({
      // biome-ignore lint/suspicious/noExplicitAny: werift's Transport wants its own socket type
      transport: lower as any,
      cert: cert.certPem,
      key: cert.keyPem,
      signatureHash: SIGNATURE_HASH,
      srtpProfiles: [SRTP_AES128_CM_SHA1_80],
      extendedMasterSecret: true,
    });
    this.#dtls = dtls;
    this.#feedDtls = (b) => lower.onData(b, [address, port]);
    dtls.onError.subscribe((err: Error) => failed(new Error(`dtls: ${err.message}`)));
    dtls.connect().catch((err: Error) => failed(new Error(`dtls: ${err.message}`)));
  }

  #onRtp(b: Buffer): void {
    const seq = b.readUInt16BE(2);
    if (this.#lastSeq >= 0) {
      const gap = (seq - this.#lastSeq - 1) & 0xffff;
      if (gap !== 0 && gap < 0x8000) this.lost += gap;
    }
    this.#lastSeq = seq;
    this.packets++;
    this.bytes += b.length;
  }

  reset(): void {
    this.packets = 0;
    this.bytes = 0;
    this.lost = 0;
  }

  freeze(): void {
    this.frozen = { packets: this.packets, bytes: this.bytes, lost: this.lost };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.#timer);
    try {
      this.#dtls?.close();
    } catch {
      // werift may throw closing a half-open session
    }
    await this.signaling.close();
    this.socket.close();
  }
}

const viewers: Viewer[] = [];
let failures = 0;
const errors = new Set<string>();
let cert: Cert | undefined;

async function makeCert(): Promise<Cert> {
  const { certPem, keyPem } = await CipherContext.createSelfSignedCertificateWithKey(SIGNATURE_HASH, 23);
  return { certPem, keyPem, fingerprint: new X509Certificate(certPem).fingerprint256 };
}

async function openViewer(target: Target, timeoutMs: number): Promise<Viewer> {
  cert ??= await makeCert();
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(4 * 1024 * 1024); // capped by net.core.rmem_max
  const viewer = new Viewer(
    socket,
    target.kind === 'whep' ? whep(target.url) : janus(target.url, target.mountpoint),
  );
  try {
    await viewer.start(cert, timeoutMs);
    return viewer;
  } catch (err) {
    await viewer.close();
    throw err;
  }
}

serveIpc({
  async add(args) {
    const target = args.target as Target;
    const count = Number(args.count);
    const timeoutMs = Number(args.timeoutMs ?? 20000);
    // No new viewer is started after this: a server that stops taking viewers cannot stall the run.
    const stopAt = Date.now() + Number(args.budgetMs ?? 60000);
    let next = 0;
    let opened = 0;
    const worker = async () => {
      while (next < count && Date.now() < stopAt) {
        next++;
        try {
          viewers.push(await openViewer(target, timeoutMs));
          opened++;
        } catch (err) {
          failures++;
          errors.add(err instanceof Error ? err.message : String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, count) }, worker));
    if (next < count) {
      failures += count - next;
      errors.add(`${count - next} viewers not started: the step's time budget ran out`);
    }
    return { opened, failed: failures, errors: [...errors].slice(0, 5), total: viewers.length };
  },
  reset() {
    for (const v of viewers) v.reset();
    return viewers.length;
  },
  freeze() {
    for (const v of viewers) v.freeze();
    return viewers.length;
  },
  collect(args) {
    const expected = Number(args.expectedPackets ?? 0);
    let behind = 0;
    let minPackets = Number.POSITIVE_INFINITY;
    let packets = 0;
    let bytes = 0;
    let lost = 0;
    let silent = 0;
    let lossy = 0;
    for (const v of viewers) {
      packets += v.frozen.packets;
      bytes += v.frozen.bytes;
      lost += v.frozen.lost;
      if (v.frozen.packets === 0) silent++;
      if (v.frozen.lost > 0) lossy++;
      if (v.frozen.packets < expected) behind++;
      minPackets = Math.min(minPackets, v.frozen.packets);
    }
    return {
      sessions: viewers.length,
      packets,
      bytes,
      lost,
      silent,
      lossy,
      behind,
      minPackets: viewers.length ? minPackets : 0,
    };
  },
  async close() {
    await Promise.all(viewers.splice(0).map((v) => v.close()));
    return true;
  },
});
