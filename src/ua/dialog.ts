/**
 * A SIP dialog as a user agent keeps it (RFC 3261 §12): who we are and who the
 * peer is (URIs and tags), where in-dialog requests go (remote target, route
 * set) and the CSeq counters. Pure: builds and matches messages, no I/O.
 */
import { SipError } from '../sip/errors.js';
import {
  formatNameAddr,
  formatUri,
  getCallId,
  getContacts,
  getCSeq,
  getFrom,
  getRecordRoutes,
  getTo,
} from '../sip/message/index.js';
import { SipRequest, type SipResponse } from '../sip/message/message.js';
import type { NameAddr } from '../sip/message/types.js';

export type DialogRole = 'caller' | 'callee';

export interface Dialog {
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our From (caller) / To (callee) URI, without tag: `<sip:alice@example.org>`. */
  readonly localUri: string;
  readonly remoteUri: string;
  /** The peer's AOR as it names itself (`bob@example.org`). */
  readonly peer: string;
  /** The peer's Contact URI: the Request-URI of in-dialog requests. */
  readonly remoteTarget: string;
  /** Route set in the order Route headers are written (RFC 3261 §12.2.1.1). */
  readonly routeSet: readonly NameAddr[];
  /** CSeq of our last request in the dialog. */
  localSeq: number;
}

/**
 * The caller's dialog from its INVITE and the 2xx (RFC 3261 §12.1.2): "The
 * route set MUST be set to the list of URIs in the Record-Route header field
 * from the response, taken in reverse order [...]. The remote target MUST be
 * set to the URI from the Contact header field of the response."
 */
export function dialogAsCaller(invite: SipRequest, ok: SipResponse): Dialog {
  const to = getTo(ok);
  return {
    role: 'caller',
    callId: getCallId(invite),
    localTag: tagOf(getFrom(invite), 'From'),
    remoteTag: tagOf(to, 'To'),
    localUri: withoutTag(getFrom(invite)),
    remoteUri: withoutTag(to),
    peer: addressOf(to),
    remoteTarget: contactUri(ok) ?? invite.uri,
    routeSet: getRecordRoutes(ok).reverse(),
    localSeq: getCSeq(invite).seq,
  };
}

/**
 * The callee's dialog from the INVITE (RFC 3261 §12.1.1): "The route set MUST
 * be set to the list of URIs in the Record-Route header field from the
 * request, taken in order [...]. The remote target MUST be set to the URI
 * from the Contact header field of the request." Our CSeq space starts fresh.
 */
export function dialogAsCallee(invite: SipRequest, localTag: string): Dialog {
  const from = getFrom(invite);
  const to = getTo(invite);
  return {
    role: 'callee',
    callId: getCallId(invite),
    localTag,
    remoteTag: tagOf(from, 'From'),
    localUri: withoutTag(to),
    remoteUri: withoutTag(from),
    peer: addressOf(from),
    remoteTarget: contactUri(invite) ?? formatUri(from.uri),
    routeSet: getRecordRoutes(invite),
    localSeq: 0,
  };
}

/**
 * A request inside the dialog (RFC 3261 §12.2.1.1) with `via` as its one Via.
 * ACK reuses the INVITE's CSeq number; other methods take the next one.
 * Loose routing when the first route has `lr`, else the strict-routing form.
 */
export function inDialogRequest(d: Dialog, method: string, via: string): SipRequest {
  const seq = method === 'ACK' ? d.localSeq : ++d.localSeq;
  const first = d.routeSet[0];
  let uri = d.remoteTarget;
  let routes = d.routeSet.map((r) => formatNameAddr(r, 'Route'));
  if (first !== undefined && !first.uri.params.has('lr')) {
    // "If the route set is not empty, and its first URI does not contain the
    // lr parameter, the UAC MUST place the first URI from the route set into
    // the Request-URI [...]. The UAC MUST add a route header field containing
    // the remainder of the route set values in order, [...] then place the
    // remote target URI into the route header field as the last value."
    uri = formatUri(first.uri);
    routes = [...routes.slice(1), `<${d.remoteTarget}>`];
  }
  const req = new SipRequest(method, uri);
  req.append('Via', via);
  req.append('Max-Forwards', '70');
  for (const r of routes) req.append('Route', r);
  req.append('From', `${d.localUri};tag=${d.localTag}`);
  req.append('To', `${d.remoteUri};tag=${d.remoteTag}`);
  req.append('Call-ID', d.callId);
  req.append('CSeq', `${seq} ${method}`);
  return req;
}

/**
 * True when `req` belongs to `d` (RFC 3261 §12.2.2): same Call-ID, its To tag
 * is our tag and its From tag the peer's.
 */
export function inDialog(d: Dialog, req: SipRequest): boolean {
  return (
    getCallId(req) === d.callId &&
    getTo(req).params.get('tag') === d.localTag &&
    getFrom(req).params.get('tag') === d.remoteTag
  );
}

function tagOf(na: NameAddr, header: string): string {
  const tag = na.params.get('tag');
  if (!tag) throw SipError.badHeaderValue(header, 'no tag: cannot form a dialog');
  return tag;
}

function withoutTag(na: NameAddr): string {
  const params = new Map(na.params);
  params.delete('tag');
  return formatNameAddr({ ...na, params });
}

/** `user@host` of a From/To/Contact (the host alone when there is no user). */
export function addressOf(na: NameAddr): string {
  return na.uri.user === undefined ? na.uri.host : `${na.uri.user}@${na.uri.host}`;
}

function contactUri(msg: SipRequest | SipResponse): string | undefined {
  const contacts = getContacts(msg);
  return contacts !== '*' && contacts[0] ? formatUri(contacts[0].uri) : undefined;
}
