/**
 * Transaction matching keys (RFC 3261 §17.1.3, §17.2.3, §9.2). A key is a
 * string, so the layer's lookups are plain Map gets. Fields are joined with
 * "\n", which cannot occur inside a parsed header value.
 *
 * Accessors throw SipError on a missing or malformed Via / CSeq / From / To /
 * Call-ID; the layer reports such messages to the TU as malformed.
 */
import { SipError } from '../errors.js';
import { getCallId, getCSeq, getFrom, getTo, topVia } from '../message/accessors.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.js';
import { BRANCH_MAGIC_COOKIE, type Via } from '../message/types.js';
import { formatVia } from '../message/via.js';

/** True for branch IDs made by RFC 3261 elements (§8.1.1.7: "z9hG4bK" prefix). */
export function isRfc3261Branch(branch: string | null | undefined): branch is string {
  return (
    typeof branch === 'string' &&
    branch.length > BRANCH_MAGIC_COOKIE.length &&
    branch.startsWith(BRANCH_MAGIC_COOKIE)
  );
}

function requiredTopVia(msg: SipMessage): Via {
  const via = topVia(msg);
  if (via === undefined) throw SipError.missingHeader('Via');
  return via;
}

/** sent-by with the transport's default port filled in (§18.1.1, §19.1.2). */
function sentBy(via: Via): string {
  const port = via.port ?? (via.transport === 'TLS' || via.transport === 'WSS' ? 5061 : 5060);
  return `${via.host}:${port}`;
}

/**
 * The key of the server transaction `request` belongs to. `method` stands in
 * for the request's own: §9.2 finds the transaction a CANCEL cancels "by
 * taking the CANCEL request, and then assuming that the request method is
 * anything but CANCEL or ACK and applying the transaction matching
 * procedures of Section 17.2.3".
 */
export function serverKey(request: SipRequest, method: string = request.method): string {
  const via = requiredTopVia(request);
  const branch = via.params.get('branch');
  if (isRfc3261Branch(branch)) {
    // §17.2.3: "1. the branch parameter in the request is equal to the one in
    // the top Via header field of the request that created the transaction,
    // and 2. the sent-by value in the top Via of the request is equal to the
    // one in the request that created the transaction, and 3. the method of
    // the request matches the one that created the transaction, except for
    // ACK, where the method of the request that created the transaction is
    // INVITE."
    return `3261\n${branch}\n${sentBy(via)}\n${method === 'ACK' ? 'INVITE' : method}`;
  }
  // §17.2.3, RFC 2543 compatibility: "The ACK request matches a transaction
  // if the Request-URI, From tag, Call-ID, CSeq number (not the method), and
  // top Via header field match those of the INVITE request which created the
  // transaction, and the To tag of the ACK matches the To tag of the response
  // sent by the server transaction." The To tag is checked by the layer.
  if (method === 'ACK') return legacyAckKey(request, via);
  // "For all other request methods, a request is matched to a transaction if
  // the Request-URI, To tag, From tag, Call-ID, CSeq (including the method),
  // and top Via header field match those of the request that created the
  // transaction."
  return [
    '2543',
    request.uri,
    toTag(request),
    fromTag(request),
    getCallId(request),
    getCSeq(request).seq,
    method,
    formatVia(via),
  ].join('\n');
}

/**
 * For an INVITE without an RFC 3261 branch: the key its ACK will have
 * (`serverKey(ack)`), so the layer can index the INVITE transaction by it.
 * Undefined for RFC 3261 INVITEs (their ACK shares the branch key).
 */
export function inviteAckKey(invite: SipRequest): string | undefined {
  const via = requiredTopVia(invite);
  return isRfc3261Branch(via.params.get('branch')) ? undefined : legacyAckKey(invite, via);
}

function legacyAckKey(request: SipRequest, via: Via): string {
  return [
    '2543-ack',
    request.uri,
    fromTag(request),
    getCallId(request),
    getCSeq(request).seq,
    formatVia(via),
  ].join('\n');
}

/** The To tag, '' when there is none. */
export function toTag(msg: SipMessage): string {
  return getTo(msg).params.get('tag') ?? '';
}

function fromTag(msg: SipMessage): string {
  return getFrom(msg).params.get('tag') ?? '';
}

/** The key of a client transaction: top Via branch + method (§17.1.3). */
export function clientKeyOfRequest(request: SipRequest): string {
  const branch = requiredTopVia(request).params.get('branch');
  return `${branch ?? ''}\n${request.method}`;
}

/**
 * §17.1.3: "1. If the response has the same value of the branch parameter in
 * the top Via header field as the branch parameter in the top Via header
 * field of the request that created the transaction. 2. If the method
 * parameter in the CSeq header field matches the method of the request that
 * created the transaction." Undefined when the response has no branch.
 */
export function clientKeyOfResponse(response: SipResponse): string | undefined {
  const branch = requiredTopVia(response).params.get('branch');
  if (typeof branch !== 'string' || branch === '') return undefined;
  return `${branch}\n${getCSeq(response).method}`;
}
