/**
 * Structured views of SIP header values (RFC 3261 §19, §20, §25). Produced on
 * demand by the parsers in this folder; formatted back by their `format*`
 * counterparts.
 */

/** A SIP/SIPS URI (RFC 3261 §19.1) or another absolute URI kept opaque. */
export interface SipUri {
  /** Lowercase scheme: "sip", "sips", "tel", or any other absoluteURI scheme. */
  scheme: string;
  /** User part, %-unescaped. Undefined when absent. */
  user?: string;
  /** Password part, %-unescaped. */
  password?: string;
  /** Host, lowercased; an IPv6 reference keeps its brackets ("[2001:db8::1]"). */
  host: string;
  port?: number;
  /** uri-parameters; names lowercased, values %-unescaped, null for a flag (";lr"). */
  params: Map<string, string | null>;
  /** URI headers after "?" (names as written, values %-unescaped). */
  headers: Map<string, string>;
  /** For non-SIP schemes: everything after "scheme:", verbatim. */
  opaque?: string;
}

/** name-addr / addr-spec with header parameters (From, To, Contact, Route, …). */
export interface NameAddr {
  /** Display name, unquoted and unescaped; undefined when absent. */
  displayName?: string;
  uri: SipUri;
  /** header parameters (";tag=", ";expires=", ";q="), names lowercased. */
  params: Map<string, string | null>;
}

/** One Via header value (RFC 3261 §20.42). */
export interface Via {
  /** "SIP/2.0" */
  protocol: string;
  /** Uppercase transport: "UDP", "TCP", "TLS", "SCTP", "WS", … */
  transport: string;
  host: string;
  port?: number;
  /** via-params; names lowercased; "branch", "received", "rport" (null = flag), "maddr", "ttl". */
  params: Map<string, string | null>;
}

/** RFC 3261 §8.1.1.7: branch IDs from RFC 3261 elements start with this. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

export interface CSeq {
  seq: number;
  method: string;
}
