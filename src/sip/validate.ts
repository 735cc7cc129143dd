/**
 * The checks a p2psip node applies to a parsed message before routing it,
 * independent of who the node's user is: RFC 3261 §16.3 (proxy request
 * validation) and §8.2.2 (UAS request inspection), with the choices RFC 4475
 * leaves open made as recorded in docs/rfc4475.md.
 *
 * The validators RETURN the first failure as a SipError (or null) rather than
 * throw: a failed check is an expected outcome on the receive path, and the
 * caller always does the same next thing with it — `responseFor()` (the one
 * error → response mapping, ./errors.ts) and, for requests, `errorResponse()`.
 * Anything that is not a SipError (a bug) still propagates.
 *
 * Pure: no I/O, like the rest of src/sip/.
 */
import { type ErrorResponse, responseFor, SipError, SipErrorCode } from './errors.js';
import {
  getCallId,
  getContacts,
  getCSeq,
  getExpires,
  getFrom,
  getMaxForwards,
  getTo,
  getVias,
  isIPv4,
  isIPv6,
  makeResponse,
  parseRequestUri,
  SipRequest,
  type SipResponse,
  splitList,
  type Via,
} from './message/index.js';

/** What this element is and supports. Every field has a default (DEFAULT_POLICY). */
export interface ValidationPolicy {
  /**
   * 'forward': the node acts as a proxy for this request (RFC 3261 §16.3):
   * Max-Forwards 0 → 483, Proxy-Require is checked, Require is not.
   * 'answer': the node is the request's UAS (§8.2), e.g. its own registrar:
   * Max-Forwards is not consumed, Require is checked, Proxy-Require is not.
   */
  role: 'forward' | 'answer';
  /** Request-URI schemes this element can route or serve (lowercase). Others → 416. */
  schemes: readonly string[];
  /** Option tags this element supports (RFC 3261 §19.2). Others in (Proxy-)Require → 420. */
  extensions: readonly string[];
  /** Largest message handled, in bytes; larger → 513 (RFC 3261 §21.5.14). */
  maxMessageSize: number;
  /**
   * OPTIONS with Max-Forwards 0 while forwarding: true answers it here as the
   * final recipient (RFC 3261 §16.3 step 3, a MAY); false (default) → 483 as
   * RFC 4475 §3.3.11 says a proxy should.
   */
  answerOptionsAtZeroHops: boolean;
  /**
   * A missing Max-Forwards is an error (400). Default false: RFC 3261 §16.6
   * step 3 has a proxy add one, and RFC 4475 §3.4.1 (inv2543) wants RFC 2543
   * requests, which have none, accepted.
   */
  requireMaxForwards: boolean;
}

export const DEFAULT_POLICY: Readonly<ValidationPolicy> = Object.freeze({
  role: 'forward',
  // tel: is not routable by p2psip (no ENUM, no gateway): 416 tells the UA at
  // once that it must use a sip: URI. See docs/rfc4475.md.
  schemes: Object.freeze(['sip', 'sips']),
  // No SIP extensions needing Proxy-Require/Require support yet.
  extensions: Object.freeze([]),
  // The largest UDP payload; the parser's own default limit.
  maxMessageSize: 65535,
  answerOptionsAtZeroHops: false,
  requireMaxForwards: false,
});

/** Fill in a partial policy from DEFAULT_POLICY. */
export function resolvePolicy(policy?: Partial<ValidationPolicy>): ValidationPolicy {
  return { ...DEFAULT_POLICY, ...policy };
}

/** Headers RFC 3261 §8.1.1 / §20 require in every request (Max-Forwards: see the policy). */
const REQUIRED_IN_REQUEST = ['To', 'From', 'Call-ID', 'CSeq', 'Via'] as const;
/** Headers every response must carry (RFC 3261 §8.2.6.2 copies them from the request). */
const REQUIRED_IN_RESPONSE = ['Via', 'From', 'To', 'Call-ID', 'CSeq'] as const;
/** Single-valued headers an element reads to route (RFC 4475 §3.3.8 multi01 → 400). */
const SINGLE_VALUED = ['To', 'From', 'Call-ID', 'CSeq', 'Max-Forwards'] as const;

/**
 * Validate a request as this element would before routing it. `wireSize` is
 * the message's size on the wire when known (the parser saw the bytes);
 * otherwise it is estimated from the parsed form.
 *
 * Order follows RFC 3261 §16.3: version and size, then reasonable syntax
 * (step 1, which includes the required and single-valued headers, every
 * header the element reads, and the CSeq method), URI scheme (step 2),
 * Max-Forwards (step 3), Proxy-Require (step 5). Steps 4 (loop detection) and
 * 6 (Proxy-Authorization) belong to the routing chain, not here.
 */
export function validateRequest(
  req: SipRequest,
  policy?: Partial<ValidationPolicy>,
  wireSize: number = estimateSize(req),
): SipError | null {
  const p = resolvePolicy(policy);
  // RFC 3261 §8.2.2: SIP-Version other than 2.0 → 505 (the parser already
  // rejects it; a message built in code is checked here too).
  if (req.version.toUpperCase() !== 'SIP/2.0') return SipError.badVersion(req.version);
  if (wireSize > p.maxMessageSize) {
    return SipError.tooLarge(`message of ${wireSize} bytes exceeds ${p.maxMessageSize}`);
  }
  return (
    check(() => syntax(req, p)) ?? uriScheme(req, p) ?? maxForwards(req, p) ?? extensions(req, p)
  );
}

/**
 * Validate a response. A response that fails is dropped, never answered
 * (RFC 3261 §18.1.2, §16.7; RFC 4475 §3.1.2.5 scalarlg, §3.1.2.19 bigcode),
 * which is what `responseFor(err, false)` says for any code.
 */
export function validateResponse(res: SipResponse): SipError | null {
  if (res.version.toUpperCase() !== 'SIP/2.0') return SipError.badVersion(res.version);
  if (!Number.isInteger(res.status) || res.status < 100 || res.status > 699) {
    return SipError.badResponse(`status code ${res.status} outside 100-699`);
  }
  return check(() => {
    const missing = REQUIRED_IN_RESPONSE.filter((h) => !res.has(h));
    if (missing.length > 0) throw missingHeaders(missing);
    for (const h of SINGLE_VALUED)
      if (res.getLines(h).length > 1) throw SipError.duplicateHeader(h);
    const vias = getVias(res);
    getFrom(res);
    getTo(res);
    getCallId(res);
    getCSeq(res);
    // RFC 4475 §3.3.10 (bcast): a proxy forwarding this response would send it
    // to where the next Via points; to keep that from being an attack on a
    // broadcast or multicast address, such responses are dropped. The top Via
    // is this element's own.
    for (const via of vias.slice(1)) {
      const dest = responseDestination(via);
      if (!isUnicastDestination(dest)) {
        throw SipError.badResponse(`Via sends the response to non-unicast address ${dest}`);
      }
    }
  });
}

/**
 * The response a node sends for a request that failed validation (the error
 * came from validateRequest or parseMessage's `partial`): status and reason
 * from `responseFor()`, Via/From/To/Call-ID/CSeq copied (RFC 3261 §8.2.6),
 * and for 420 the Unsupported header listing the option tags (§8.2.2.3,
 * §16.3 step 5). Null when the request cannot be answered (no Via to send the
 * response along).
 */
export function errorResponse(req: SipRequest, err: SipError): SipResponse | null {
  if (!req.has('Via')) return null;
  const action: ErrorResponse = responseFor(err, true);
  if (action.verdict !== 'reject' || action.status === undefined) return null;
  const extra = err.detail?.unsupported?.length
    ? [{ name: 'Unsupported', value: err.detail.unsupported.join(', ') }]
    : [];
  try {
    return makeResponse(req, action.status, action.reason, { headers: extra });
  } catch (e) {
    if (!(e instanceof SipError)) throw e;
    // The To value itself is malformed (e.g. RFC 4475 §3.1.2.6 quotbal), so no
    // tag can be added to it: echo it as received, which is all a UAC needs
    // to match the response to its transaction (§17.1.3 uses Via and CSeq).
    const noTo = new SipRequest(
      req.method,
      req.uri,
      req.headers.filter((h) => h.name !== 'To'),
    );
    const res = makeResponse(noTo, action.status, action.reason, { headers: extra });
    for (const value of req.getLines('To')) res.append('To', value);
    return res;
  }
}

/** Size of the message as it would be serialised (start line, header lines, blank line, body). */
export function estimateSize(msg: SipRequest | SipResponse): number {
  let n =
    msg.kind === 'request'
      ? msg.method.length + msg.uri.length + msg.version.length + 4
      : msg.version.length + String(msg.status).length + msg.reason.length + 4;
  for (const h of msg.headers) n += Buffer.byteLength(h.name) + Buffer.byteLength(h.value) + 4;
  return n + 2 + msg.body.length;
}

// ---------------------------------------------------------------------------

/** Run `f`; a SipError it throws is the result, anything else propagates. */
function check(f: () => void): SipError | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof SipError) return e;
    throw e;
  }
}

/** RFC 3261 §16.3 step 1: everything this element reads must be well-formed. */
function syntax(req: SipRequest, p: ValidationPolicy): void {
  const required: string[] = [...REQUIRED_IN_REQUEST];
  if (p.requireMaxForwards) required.push('Max-Forwards');
  const missing = required.filter((h) => !req.has(h));
  if (missing.length > 0) throw missingHeaders(missing);
  for (const h of SINGLE_VALUED) if (req.getLines(h).length > 1) throw SipError.duplicateHeader(h);

  // A proxy copies the Request-URI into the forwarded request, so it must
  // parse, and a SIP Request-URI carries no headers (§19.1.1; RFC 4475
  // §3.1.2.11 escruri). Unknown schemes parse as opaque absoluteURIs and are
  // judged by uriScheme() below.
  parseRequestUri(req.uri);
  getVias(req);
  // From/To/Contact may hold any absoluteURI (RFC 4475 §3.3.4 unksm2): only
  // their syntax is checked, never their scheme.
  getFrom(req);
  getTo(req);
  getCallId(req);
  const cseq = getCSeq(req);
  // §8.1.1.5 / §12.2.1.1: the CSeq method matches the Request-Line (case-sensitive,
  // RFC 4475 §3.1.2.17 mismatch01, §3.1.2.18 mismatch02).
  if (cseq.method !== req.method) throw SipError.cseqMismatch(req.method, cseq.method);
  getMaxForwards(req);
  getContacts(req);
  if (p.role === 'answer') {
    // The UAS (e.g. the node's registrar) interprets expiry values: delta-seconds
    // must fit 32 bits (§20.19, §20.10; RFC 4475 §3.1.2.4 scalar02). A proxy
    // forwards them untouched, so it does not judge them.
    getExpires(req);
    const contacts = getContacts(req);
    if (contacts !== '*') {
      for (const c of contacts) {
        const e = c.params.get('expires');
        if (e !== undefined && !isDeltaSeconds(e)) {
          throw SipError.scalarOutOfRange('Contact', `expires=${e}`);
        }
      }
    }
  }
}

/** RFC 3261 §16.3 step 2 / §8.2.2.1: an unsupported Request-URI scheme → 416. */
function uriScheme(req: SipRequest, p: ValidationPolicy): SipError | null {
  const scheme = parseRequestUri(req.uri).scheme;
  return p.schemes.includes(scheme) ? null : SipError.unsupportedUriScheme(scheme);
}

/** RFC 3261 §16.3 step 3 (RFC 4475 §3.3.11 zeromf). */
function maxForwards(req: SipRequest, p: ValidationPolicy): SipError | null {
  // An endpoint processes the request as if Max-Forwards were still positive.
  if (p.role !== 'forward') return null;
  if (getMaxForwards(req) !== 0) return null;
  if (req.method === 'OPTIONS' && p.answerOptionsAtZeroHops) return null;
  return SipError.tooManyHops();
}

/**
 * RFC 3261 §16.3 step 5 (proxy: Proxy-Require) and §8.2.2.3 (UAS: Require,
 * except on ACK and CANCEL): unsupported option tags → 420 listing them.
 */
function extensions(req: SipRequest, p: ValidationPolicy): SipError | null {
  let header: string;
  if (p.role === 'forward') header = 'Proxy-Require';
  else if (req.method === 'ACK' || req.method === 'CANCEL') return null;
  else header = 'Require';
  const unsupported: string[] = [];
  for (const line of req.getLines(header)) {
    for (const tag of splitList(line)) {
      if (!p.extensions.includes(tag) && !unsupported.includes(tag)) unsupported.push(tag);
    }
  }
  if (unsupported.length === 0) return null;
  const err = SipError.badExtension(unsupported);
  return header === 'Require'
    ? new SipError(SipErrorCode.BadExtension, err.message, { header, unsupported })
    : err;
}

function missingHeaders(names: readonly string[]): SipError {
  const err = SipError.missingHeader(names[0] ?? '');
  if (names.length === 1) return err;
  return new SipError(
    SipErrorCode.MissingHeader,
    `missing ${names.join(', ')} headers`,
    err.detail,
  );
}

/** delta-seconds = 1*DIGIT, at most 2^32-1. */
function isDeltaSeconds(v: string | null): boolean {
  return v !== null && /^[0-9]{1,10}$/.test(v) && Number(v) <= 2 ** 32 - 1;
}

/** Where RFC 3261 §18.2.2 sends a response for this Via: maddr, else received, else sent-by. */
function responseDestination(via: Via): string {
  return via.params.get('maddr') ?? via.params.get('received') ?? via.host;
}

/**
 * False for the IPv4 limited broadcast and unspecified addresses, IPv4
 * multicast (224.0.0.0/4) and IPv6 unspecified/multicast (ff00::/8):
 * p2psip never sends SIP to a group. Hostnames are resolved (and judged)
 * by the transport, later.
 */
export function isUnicastDestination(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv4(h)) {
    const first = Number(h.slice(0, h.indexOf('.')));
    return h !== '255.255.255.255' && h !== '0.0.0.0' && (first < 224 || first > 239);
  }
  if (isIPv6(h)) {
    const lower = h.toLowerCase();
    return !lower.startsWith('ff') && !/^[0:]+$/.test(lower);
  }
  return true;
}
