/**
 * The SIP message model (RFC 3261 §7). Header values are kept as raw strings
 * (unfolded, trimmed) in arrival order, so a proxy forwards what it does not
 * understand untouched and serialisation is faithful. Structured views
 * (Via, From/To, CSeq, URIs) are parsed on demand by the accessors and helpers
 * in this folder, which keeps the hot path (parse a datagram, route it) cheap.
 *
 * This file imports nothing with I/O: the SIP core is pure.
 */

/** One header field line. `name` is the canonical long form ("Via", "Call-ID"). */
export interface HeaderField {
  name: string;
  value: string;
}

export type SipMessage = SipRequest | SipResponse;

/** @internal A parsed structured view of one header line (see accessors.ts). */
export interface HeaderView {
  raw: string;
  kind: number;
  value: unknown;
}

/** @internal The per-message cache of parsed header views, created on first use. */
export let headerViews: (msg: SipMessage) => Map<HeaderField, HeaderView>;

abstract class MessageBase {
  /**
   * Parsed views of header lines, keyed by the HeaderField object. A private
   * field: invisible to equality checks, spreading and JSON, so `headers`
   * stays the one source of truth and the cache never leaks into comparisons.
   */
  #views: Map<HeaderField, HeaderView> | undefined;

  static {
    headerViews = (msg) => {
      // An object that merely looks like a message (not constructed by these
      // classes) has no cache slot: it gets a throwaway map, never a TypeError.
      if (!(#views in msg)) return new Map();
      msg.#views ??= new Map();
      return msg.#views;
    };
  }

  /** Header fields in order; names canonical (compact forms expanded). */
  headers: HeaderField[];
  /** Body bytes; never decoded unless a caller asks (bodies may be binary). */
  body: Uint8Array;

  constructor(headers: HeaderField[] = [], body: Uint8Array = EMPTY) {
    this.headers = headers;
    this.body = body;
  }

  /** First value of a header (case-insensitive; compact names accepted). */
  get(name: string): string | undefined {
    const canon = canonicalHeaderName(name);
    for (const h of this.headers) if (h.name === canon) return h.value;
    return undefined;
  }

  /** All header field values of `name`, in order, one per header line (not comma-split). */
  getLines(name: string): string[] {
    const canon = canonicalHeaderName(name);
    const out: string[] = [];
    for (const h of this.headers) if (h.name === canon) out.push(h.value);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replace every occurrence of `name` with one header line (appended if absent). */
  set(name: string, value: string): void {
    const canon = canonicalHeaderName(name);
    const i = this.headers.findIndex((h) => h.name === canon);
    this.headers = this.headers.filter((h, j) => h.name !== canon || j === i);
    if (i === -1) this.headers.push({ name: canon, value });
    else this.headers[i] = { name: canon, value };
  }

  /** Insert a header line before all existing ones of the same name (e.g. a new top Via). */
  prepend(name: string, value: string): void {
    const canon = canonicalHeaderName(name);
    const i = this.headers.findIndex((h) => h.name === canon);
    const field = { name: canon, value };
    if (i === -1) this.headers.push(field);
    else this.headers.splice(i, 0, field);
  }

  /** Append a header line after the existing ones. */
  append(name: string, value: string): void {
    this.headers.push({ name: canonicalHeaderName(name), value });
  }

  /** Remove every line of `name`. */
  remove(name: string): void {
    const canon = canonicalHeaderName(name);
    this.headers = this.headers.filter((h) => h.name !== canon);
  }
}

export class SipRequest extends MessageBase {
  readonly kind = 'request' as const;
  /** Method token, case-sensitive as RFC 3261 §7.1 says (INVITE ≠ invite). */
  method: string;
  /** Request-URI as it appeared (raw text); parse with `parseUri`. */
  uri: string;
  version = 'SIP/2.0';

  constructor(method: string, uri: string, headers?: HeaderField[], body?: Uint8Array) {
    super(headers, body);
    this.method = method;
    this.uri = uri;
  }
}

export class SipResponse extends MessageBase {
  readonly kind = 'response' as const;
  status: number;
  reason: string;
  version = 'SIP/2.0';

  constructor(status: number, reason: string, headers?: HeaderField[], body?: Uint8Array) {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }
}

export const EMPTY: Uint8Array = new Uint8Array(0);

/** RFC 3261 §7.3.3 compact forms, plus RFC 3265/3515/3841/4028 ones in common use. */
export const COMPACT_FORMS: Readonly<Record<string, string>> = {
  i: 'Call-ID',
  m: 'Contact',
  e: 'Content-Encoding',
  l: 'Content-Length',
  c: 'Content-Type',
  f: 'From',
  s: 'Subject',
  k: 'Supported',
  t: 'To',
  v: 'Via',
  o: 'Event',
  r: 'Refer-To',
  b: 'Referred-By',
  u: 'Allow-Events',
  a: 'Accept-Contact',
  j: 'Reject-Contact',
  d: 'Request-Disposition',
  x: 'Session-Expires',
  y: 'Identity',
  n: 'Identity-Info',
};

/** Canonical spellings for well-known headers (lowercase → canonical). */
const CANONICAL: Map<string, string> = new Map(
  [
    'Accept',
    'Accept-Contact',
    'Accept-Encoding',
    'Accept-Language',
    'Alert-Info',
    'Allow',
    'Allow-Events',
    'Authentication-Info',
    'Authorization',
    'Call-ID',
    'Call-Info',
    'Contact',
    'Content-Disposition',
    'Content-Encoding',
    'Content-Language',
    'Content-Length',
    'Content-Type',
    'CSeq',
    'Date',
    'Error-Info',
    'Event',
    'Expires',
    'From',
    'Identity',
    'Identity-Info',
    'In-Reply-To',
    'Max-Forwards',
    'Min-Expires',
    'Min-SE',
    'MIME-Version',
    'Organization',
    'P-Asserted-Identity',
    'Path',
    'Priority',
    'Privacy',
    'Proxy-Authenticate',
    'Proxy-Authorization',
    'Proxy-Require',
    'RAck',
    'Reason',
    'Record-Route',
    'Refer-To',
    'Referred-By',
    'Reject-Contact',
    'Reply-To',
    'Request-Disposition',
    'Require',
    'Retry-After',
    'Route',
    'RSeq',
    'Server',
    'Session-Expires',
    'SIP-ETag',
    'SIP-If-Match',
    'Subject',
    'Subscription-State',
    'Supported',
    'Timestamp',
    'To',
    'Unsupported',
    'User-Agent',
    'Via',
    'Warning',
    'WWW-Authenticate',
  ].map((n) => [n.toLowerCase(), n]),
);

/**
 * Canonical header name: compact forms expanded, well-known names in their
 * RFC spelling, unknown names kept as written (header names are
 * case-insensitive, RFC 3261 §7.3.1, but we preserve unknown ones verbatim).
 */
export function canonicalHeaderName(name: string): string {
  if (name.length === 1) {
    const full = COMPACT_FORMS[name.toLowerCase()];
    if (full) return full;
  }
  return CANONICAL.get(name.toLowerCase()) ?? name;
}

/**
 * Headers whose value is a comma-separated list that may be split across
 * lines and joined (RFC 3261 §7.3.1). Others (e.g. WWW-Authenticate, Date) are
 * never comma-split.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'Accept',
  'Accept-Encoding',
  'Accept-Language',
  'Alert-Info',
  'Allow',
  'Allow-Events',
  'Call-Info',
  'Contact',
  'Content-Encoding',
  'Content-Language',
  'Error-Info',
  'In-Reply-To',
  'Path',
  'Proxy-Require',
  'Record-Route',
  'Require',
  'Route',
  'Supported',
  'Unsupported',
  'Via',
  'Warning',
]);
