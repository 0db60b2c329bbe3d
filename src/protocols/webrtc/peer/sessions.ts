/**
 * PeerSessions: turns an offer into a running session and its answer, and owns every session
 * until it closes. One entry point for every signaling path (WebSocket, WHEP, WHIP), so they all
 * negotiate, limit transports and clean up the same way.
 */
import { randomInt } from 'node:crypto';
import { BadRequestError, InvalidStateError, NotFoundError, UnavailableError } from '../../../core/errors.ts';
import type { StreamRegistry } from '../../../core/registry.ts';
import type { Logger } from '../../../log/logger.ts';
import { buildAnswer, type LocalParams } from './answer.ts';
import { type ParsedOffer, parseOffer } from './offer.ts';
import { planPublisher } from './plan.ts';
import { WebRtcPublisher } from './publisher.ts';
import { type PeerEndpoint, PeerSession } from './session.ts';
import type { PeerRole, PeerTransport, PeerTransportFactory, SectionPlan, TransportPolicy } from './types.ts';
import { WebRtcViewer } from './viewer.ts';

export interface OfferRequest {
  /** The offer's SDP text. */
  sdp: string | Buffer;
  /** Play this stream (`?src=`) ... */
  src?: string;
  /** ... or publish into this one (`?dst=`). */
  dst?: string;
  /** `?transport=`: limits the candidates; undefined means the configured policy. */
  transport?: string;
  remoteAddress?: string;
  userAgent?: string;
  /**
   * Aborting closes whatever the request created: the viewer while negotiating, the session after
   * (the WebSocket went away, the HTTP client hung up before its answer).
   */
  signal?: AbortSignal;
}

export interface PeerSessionsOptions {
  registry: StreamRegistry;
  factory: PeerTransportFactory;
  /** `webrtc.transport`: the protocols this gateway offers at all. */
  policy: TransportPolicy;
  log: Logger;
  /** Sessions open at once; an offer beyond gets UnavailableError (503). Default 1000. */
  maxSessions?: number;
}

interface SessionParts {
  plans: SectionPlan[];
  endpoint: PeerEndpoint;
  role: PeerRole;
  stream: string;
  cname: string;
}

const DEFAULT_MAX_SESSIONS = 1000;

const POLICIES: ReadonlySet<string> = new Set(['any', 'udp', 'tcp']);

/** A stream name as an `a=msid` id: RFC 8830 §2 allows 1-64 token characters (no spaces, `/`, `:`). */
function msidToken(name: string): string {
  return name.replace(/[^A-Za-z0-9.!#$%&'*+^_`{|}~-]/g, '-').slice(0, 64) || 'mediagate';
}

export class PeerSessions {
  readonly #sessions = new Map<string, PeerSession>();
  readonly #opts: PeerSessionsOptions;
  #accepting = true;

  constructor(opts: PeerSessionsOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(id: string): PeerSession | undefined {
    return this.#sessions.get(id);
  }

  list(): PeerSession[] {
    return [...this.#sessions.values()];
  }

  /**
   * Negotiates an offer and starts its session. Throws `BadRequestError` for a bad offer, query or
   * codec mismatch, `NotFoundError` for an unknown stream, `InvalidStateError` when shutting down.
   */
  async answer(req: OfferRequest): Promise<{ session: PeerSession; answer: string }> {
    this.#assertAccepting();
    const max = this.#opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    if (this.#sessions.size >= max)
      throw new UnavailableError(`too many WebRTC sessions (${max}), try again later`);
    if ((req.src === undefined) === (req.dst === undefined)) {
      throw new BadRequestError('expected exactly one of ?src=NAME (play) or ?dst=NAME (publish)');
    }
    const policy = this.#policy(req.transport);
    const offer = parseOffer(req.sdp);
    if (req.src !== undefined) return this.#view(req, req.src, offer, policy);
    return this.#publish(req, req.dst as string, offer, policy);
  }

  /** Ends a session (WHEP DELETE). NotFoundError for an unknown id. */
  close(id: string): void {
    const session = this.#sessions.get(id);
    if (!session) throw new NotFoundError(`webrtc session "${id.slice(0, 64)}" not found`);
    session.close();
  }

  stopAccepting(): void {
    this.#accepting = false;
  }

  /** Idempotent: refuses new offers and closes every session. */
  closeAll(): void {
    this.#accepting = false;
    for (const session of [...this.#sessions.values()]) session.close();
  }

  async #view(req: OfferRequest, name: string, offer: ParsedOffer, policy: TransportPolicy) {
    const stream = this.#opts.registry.require(name);
    const cname = `mediagate-${randomInt(1, 0x7fffffff).toString(36)}`;
    const viewer = new WebRtcViewer(offer, { cname });
    viewer.remoteAddress = req.remoteAddress;
    viewer.userAgent = req.userAgent;
    const abort = () => viewer.close(new Error('signaling closed'));
    req.signal?.addEventListener('abort', abort, { once: true });
    try {
      if (req.signal?.aborted) throw new InvalidStateError('signaling closed before the answer');
      await stream.addConsumer(viewer);
      this.#assertAccepting();
      if (viewer.closed) throw new InvalidStateError('viewer closed during negotiation');
      const plans = viewer.bind(msidToken(stream.name), stream);
      return this.#start(req, offer, policy, {
        plans,
        endpoint: viewer,
        role: 'viewer',
        stream: name,
        cname,
      });
    } catch (err) {
      viewer.close();
      throw err;
    } finally {
      req.signal?.removeEventListener('abort', abort);
    }
  }

  async #publish(req: OfferRequest, name: string, offer: ParsedOffer, policy: TransportPolicy) {
    const plans = planPublisher(offer);
    const stream = await this.#opts.registry.forPublish(name);
    this.#assertAccepting();
    if (req.signal?.aborted) throw new InvalidStateError('signaling closed before the answer');
    const publisher = new WebRtcPublisher(plans, { remoteAddress: req.remoteAddress });
    const started = this.#start(req, offer, policy, {
      plans,
      endpoint: publisher,
      role: 'publisher',
      stream: name,
      cname: 'mediagate',
    });
    try {
      publisher.setSink(
        stream.addPublisher(`webrtc:${req.remoteAddress ?? 'whip'}/${started.session.id}`, publisher),
      );
    } catch (err) {
      started.session.close();
      throw err;
    }
    return started;
  }

  /** Creates the transport and the session around a negotiated endpoint, and the answer. */
  #start(
    req: OfferRequest,
    offer: ParsedOffer,
    policy: TransportPolicy,
    { plans, endpoint, role, stream, cname }: SessionParts,
  ): { session: PeerSession; answer: string } {
    const factory = this.#opts.factory;
    const transport: PeerTransport = factory.createTransport({
      remoteUfrag: offer.iceUfrag,
      remotePwd: offer.icePwd,
      remoteFingerprints: offer.fingerprints,
      transports: policy,
    });
    const session = new PeerSession(transport, endpoint, { role, stream });
    const local: LocalParams = {
      ufrag: transport.localUfrag,
      pwd: transport.localPwd,
      fingerprint: transport.localFingerprint,
      candidates: factory.candidates(policy),
      sessionId: String(randomInt(1, 0xffffffffffff)),
      cname,
    };
    const answer = buildAnswer(plans, local);
    this.#sessions.set(session.id, session);
    const log = this.#opts.log;
    log.info(
      { id: session.id, role, stream, remote: req.remoteAddress, transports: policy },
      'webrtc session started',
    );
    session.on('close', (err) => {
      this.#sessions.delete(session.id);
      log.info({ id: session.id, role, stream, reason: err?.message }, 'webrtc session closed');
    });
    req.signal?.addEventListener('abort', () => session.close(), { once: true });
    return { session, answer };
  }

  #policy(requested: string | undefined): TransportPolicy {
    const configured = this.#opts.policy;
    if (requested === undefined || requested === '') return configured;
    if (!POLICIES.has(requested))
      throw new BadRequestError(`invalid ?transport=${requested.slice(0, 20)}: expected udp, tcp or any`);
    if (configured === 'any') return requested as TransportPolicy;
    if (requested !== 'any' && requested !== configured) {
      throw new BadRequestError(
        `transport ${requested} is disabled by config (webrtc.transport: ${configured})`,
      );
    }
    return configured;
  }

  #assertAccepting(): void {
    if (!this.#accepting) throw new InvalidStateError('server is shutting down');
  }
}
