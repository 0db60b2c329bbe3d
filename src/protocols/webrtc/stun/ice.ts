/**
 * The STUN side of ICE connectivity checks for an ICE-lite gateway (RFC 8445 §7.3, RFC 8489 §9.1):
 * validate an incoming Binding request and build the success or error response. Pure: the caller
 * owns the socket and the candidate-pair state.
 */
import { ParseError } from '../../../core/errors.ts';
import type { TransportAddress } from './address.ts';
import { encodeAddress, encodeErrorCode, encodeUint32, encodeUint64 } from './attributes.ts';
import { StunAttr, StunClass, StunErrorCode, StunMethod } from './constants.ts';
import { verifyFingerprint, verifyMessageIntegrity } from './integrity.ts';
import { StunMessage } from './message.ts';

/** The local ICE credentials, as in `a=ice-ufrag` / `a=ice-pwd`. */
export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

/** An authenticated Binding request. */
export interface BindingRequestInfo {
  ok: true;
  /** The peer's ufrag, from `USERNAME = <local ufrag>:<remote ufrag>`. */
  remoteUfrag: string;
  /** PRIORITY of the peer-reflexive candidate the request would create; undefined if absent. */
  priority?: number;
  /** The controlling agent nominated this pair (RFC 8445 §7.3.1.5). */
  useCandidate: boolean;
  /** Tie-breaker when the sender claims the controlling role. */
  iceControlling?: bigint;
  /** Tie-breaker when the sender claims the controlled role. */
  iceControlled?: bigint;
}

/**
 * A request that failed a check. With `code` the caller answers with `bindingError()`; without it
 * the packet is dropped silently (not a request, or a bad FINGERPRINT: RFC 8489 §7.3).
 */
export interface BindingRejection {
  ok: false;
  code?: number;
  reason: string;
}

/**
 * Checks a parsed Binding request against the local credentials: FINGERPRINT (if present) must
 * match, USERNAME and MESSAGE-INTEGRITY must be present (else 400) and match (else 401).
 */
export function checkBindingRequest(
  msg: StunMessage,
  local: IceCredentials,
): BindingRequestInfo | BindingRejection {
  if (msg.method !== StunMethod.Binding || msg.cls !== StunClass.Request) {
    return { ok: false, reason: `not a Binding request (type 0x${msg.type.toString(16)})` };
  }
  const raw = msg.raw ?? msg.serialize();
  try {
    if (msg.has(StunAttr.Fingerprint) && !verifyFingerprint(raw))
      return { ok: false, reason: 'FINGERPRINT mismatch' };
    const username = msg.username;
    if (username === undefined || !msg.has(StunAttr.MessageIntegrity)) {
      return { ok: false, code: StunErrorCode.BadRequest, reason: 'USERNAME or MESSAGE-INTEGRITY missing' };
    }
    const colon = username.indexOf(':');
    if (colon < 0 || username.slice(0, colon) !== local.ufrag) {
      return {
        ok: false,
        code: StunErrorCode.Unauthorized,
        reason: `USERNAME "${username.slice(0, 64)}" is not for us`,
      };
    }
    if (!verifyMessageIntegrity(raw, local.pwd)) {
      return { ok: false, code: StunErrorCode.Unauthorized, reason: 'MESSAGE-INTEGRITY mismatch' };
    }
    const info: BindingRequestInfo = {
      ok: true,
      remoteUfrag: username.slice(colon + 1),
      useCandidate: msg.useCandidate,
    };
    const priority = msg.priority;
    if (priority !== undefined) info.priority = priority;
    const controlling = msg.iceControlling;
    if (controlling !== undefined) info.iceControlling = controlling;
    const controlled = msg.iceControlled;
    if (controlled !== undefined) info.iceControlled = controlled;
    return info;
  } catch (err) {
    if (err instanceof ParseError) return { ok: false, code: StunErrorCode.BadRequest, reason: err.message };
    throw err;
  }
}

/**
 * The Binding success response to `request`: XOR-MAPPED-ADDRESS = where the request came from,
 * MESSAGE-INTEGRITY keyed with the local password, FINGERPRINT.
 */
export function bindingSuccess(
  request: StunMessage,
  source: Pick<TransportAddress, 'address' | 'port'>,
  localPwd: string,
): Buffer {
  const res = StunMessage.create(StunMethod.Binding, StunClass.SuccessResponse, request.transactionId);
  res.add(StunAttr.XorMappedAddress, encodeAddress(source, request.transactionId));
  return res.serialize({ integrityKey: localPwd, fingerprint: true });
}

/**
 * A Binding error response. Pass `localPwd` only where RFC 8489 wants integrity (e.g. 487 Role
 * Conflict); 400 and 401 answers carry none.
 */
export function bindingError(request: StunMessage, code: number, reason: string, localPwd?: string): Buffer {
  const res = StunMessage.create(StunMethod.Binding, StunClass.ErrorResponse, request.transactionId);
  res.add(StunAttr.ErrorCode, encodeErrorCode(code, reason));
  return res.serialize({ integrityKey: localPwd, fingerprint: true });
}

/** Parameters of an outgoing connectivity check (RFC 8445 §7.2.2). */
export interface BindingRequestOptions {
  /** `<remote ufrag>:<local ufrag>`. */
  username: string;
  /** The remote password (keys MESSAGE-INTEGRITY). */
  remotePwd: string;
  priority: number;
  /** Exactly one of these is set by a full agent. */
  iceControlling?: bigint;
  iceControlled?: bigint;
  useCandidate?: boolean;
  /** 12 bytes; random when omitted. */
  transactionId?: Uint8Array;
}

/** A Binding request with USERNAME, PRIORITY, role, USE-CANDIDATE, integrity and fingerprint. */
export function bindingRequest(options: BindingRequestOptions): Buffer {
  const req = StunMessage.create(StunMethod.Binding, StunClass.Request, options.transactionId);
  req.addText(StunAttr.Username, options.username);
  req.add(StunAttr.Priority, encodeUint32(options.priority));
  if (options.iceControlling !== undefined)
    req.add(StunAttr.IceControlling, encodeUint64(options.iceControlling));
  if (options.iceControlled !== undefined)
    req.add(StunAttr.IceControlled, encodeUint64(options.iceControlled));
  if (options.useCandidate) req.add(StunAttr.UseCandidate);
  return req.serialize({ integrityKey: options.remotePwd, fingerprint: true });
}
