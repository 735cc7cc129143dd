/**
 * lintMessage: what a p2psip node would do with one raw message before
 * routing it — parse (./message), validate (./validate.ts), map the failure to
 * an action (`responseFor`, ./errors.ts). This is `p2psip sip-lint`'s engine
 * and the reference the RFC 4475 torture tests run through.
 *
 * Rules (RFC 4475 §3.1.2, RFC 3261 §16.3, §18.1.2):
 * - a request that fails is rejected with the RFC's status when it can be
 *   answered, i.e. its header lines could be recovered and include a Via;
 *   otherwise it is dropped (there is nowhere to send a response);
 * - a response that fails is dropped, never answered;
 * - a message that passes is accepted; `reason` says "ok" or what was notable.
 */
import { responseFor, SipError } from './errors.js';
import {
  BRANCH_MAGIC_COOKIE,
  getMaxForwards,
  parseMessage,
  type SipMessage,
  type SipRequest,
  topVia,
} from './message/index.js';
import {
  resolvePolicy,
  type ValidationPolicy,
  validateRequest,
  validateResponse,
} from './validate.js';

export interface LintResult {
  /** The parser produced a complete message (false: it failed, partial or not). */
  parsed: boolean;
  verdict: 'accept' | 'reject' | 'drop';
  /** Response status when `verdict` is 'reject'. */
  status?: number;
  /** "ok", what was notable about an accepted message, or why it failed. */
  reason: string;
  /** The SipErrorCode of the failure. */
  code?: string;
}

export interface LintOptions {
  /** How this element treats the request (forward/answer, schemes, extensions, size). */
  policy?: Partial<ValidationPolicy>;
  /**
   * true (default): the bytes are one UDP datagram (octets past Content-Length
   * are discarded, RFC 3261 §18.3). false: one message cut from a stream, where
   * Content-Length must be present and exact.
   */
  datagram?: boolean;
}

/** Lint one raw message. Throws only on internal errors (never on bad input). */
export function lintMessage(bytes: Uint8Array, opts?: LintOptions): LintResult {
  const policy = resolvePolicy(opts?.policy);
  // The size limit is the validator's (so an oversized request can still be
  // answered 513); the parser gets to see every byte.
  const parseOpts = { maxSize: Math.max(bytes.length, 1), datagram: opts?.datagram ?? true };
  let msg: SipMessage;
  try {
    msg = parseMessage(bytes, parseOpts);
  } catch (e) {
    if (!(e instanceof SipError)) throw e;
    return failed(e, e.partial, false);
  }
  if (msg.kind === 'response') {
    const err = validateResponse(msg);
    return err ? failed(err, msg, true) : { parsed: true, verdict: 'accept', reason: 'ok' };
  }
  const err = validateRequest(msg, policy, bytes.length);
  if (err) return failed(err, msg, true);
  return { parsed: true, verdict: 'accept', reason: notes(msg, policy) };
}

function failed(err: SipError, msg: SipMessage | undefined, parsed: boolean): LintResult {
  const base = { parsed, reason: err.message, code: err.code };
  if (msg?.kind !== 'request') return { ...base, verdict: 'drop' };
  if (!msg.has('Via')) {
    return { ...base, verdict: 'drop', reason: `${err.message}; no Via to answer along` };
  }
  const action = responseFor(err, true);
  if (action.verdict === 'drop') return { ...base, verdict: 'drop' };
  return { ...base, verdict: 'reject', ...(action.status ? { status: action.status } : {}) };
}

/** What is worth saying about an accepted request. */
function notes(req: SipRequest, policy: ValidationPolicy): string {
  const out: string[] = [];
  const via = topVia(req);
  const branch = via?.params.get('branch');
  if (branch === undefined || branch === null || !branch.startsWith(BRANCH_MAGIC_COOKIE)) {
    out.push('no RFC 3261 branch: RFC 2543 transaction matching');
  } else if (branch.length === BRANCH_MAGIC_COOKIE.length) {
    // RFC 4475 §3.2.1 badbranch: the cookie without an identifier.
    out.push('branch is the bare magic cookie: RFC 2543 transaction matching');
  }
  if (policy.role === 'forward') {
    const mf = getMaxForwards(req);
    if (mf === undefined) out.push('no Max-Forwards: the proxy adds one (RFC 3261 §16.6)');
    else if (mf === 0)
      out.push('OPTIONS with Max-Forwards 0: answered here (RFC 3261 §16.3 step 3)');
  }
  return out.length === 0 ? 'ok' : `ok; ${out.join('; ')}`;
}
