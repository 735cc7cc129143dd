/**
 * parseMessage: one complete SIP message (a UDP datagram, or one message a
 * stream framer cut out) → SipMessage. RFC 3261 §7 (message format), §7.3.1
 * (header folding, HCOLON), §18.3 (Content-Length framing), §25 (grammar).
 *
 * Speed comes from doing little: the bytes are searched once (natively) for
 * the empty line, the header section is decoded once and cut into lines with
 * indexOf; header values stay raw strings, structured parsing happens later
 * and only for the headers a caller reads (accessors.ts).
 *
 * Errors found after the start line and header lines were split (bad
 * Content-Length, a malformed header line, a bad version, …) carry the message
 * as far as it was parsed in `SipError.partial`, so a node can still answer
 * 400/505 with the request's Via, From, To, Call-ID and CSeq.
 */
import { SipError } from '../errors.js';
import { C_TOKEN, is, isToken, isWsp, parseDigits, trimWs } from './chars.js';
import {
  COMPACT_FORMS,
  canonicalHeaderName,
  EMPTY,
  type HeaderField,
  type SipMessage,
  SipRequest,
  SipResponse,
} from './message.js';
import { schemeEnd } from './uri.js';

export interface ParseOptions {
  /** Largest accepted message in bytes (default 65535). Larger → TooLarge (RFC 3261 §18.1.1: 513). */
  maxSize?: number;
  /** Most header lines accepted (default 256). More → TooLarge. */
  maxHeaders?: number;
  /**
   * true (default): a UDP datagram — the body is truncated to Content-Length
   * and runs to the end when there is none. false: one framed stream message —
   * Content-Length is mandatory and must match the body exactly.
   */
  datagram?: boolean;
}

const LF_CRLF = Buffer.from('\n\r\n');
const LF_LF = Buffer.from('\n\n');

/** Parse one complete message. Throws only SipError. */
export function parseMessage(data: Uint8Array, opts?: ParseOptions): SipMessage {
  const maxSize = opts?.maxSize ?? 65535;
  const maxHeaders = opts?.maxHeaders ?? 256;
  const datagram = opts?.datagram ?? true;
  if (data.length > maxSize) {
    throw SipError.tooLarge(`message of ${data.length} bytes exceeds ${maxSize}`);
  }
  const buf = Buffer.isBuffer(data)
    ? data
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);

  // RFC 3261 §7.5: CRLFs before the start line are ignored (stream keep-alives).
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start === buf.length) throw SipError.badStartLine('empty message');

  // The header section ends at the first empty line: LF (CR)LF. Bare LF line
  // ends are accepted leniently, so "\n\n" counts too.
  let headEnd = buf.length;
  let bodyStart = buf.length;
  let deferred: SipError | undefined;
  const a = buf.indexOf(LF_CRLF, start);
  const b = (a === -1 ? buf.subarray(start) : buf.subarray(start, a)).indexOf(LF_LF);
  if (b !== -1) {
    headEnd = start + b;
    bodyStart = start + b + 2;
  } else if (a !== -1) {
    headEnd = a;
    bodyStart = a + 3;
  } else {
    deferred = SipError.badHeader('no empty line after the header fields');
  }
  // RFC 3261 §7.3.1 / §25: header text is UTF-8 (invalid sequences become U+FFFD).
  const head = buf.toString('utf8', start, headEnd);

  // ---- start line -------------------------------------------------------
  let eol = head.indexOf('\n');
  if (eol === -1) eol = head.length;
  const line = head.slice(0, eol > 0 && head.charCodeAt(eol - 1) === 0x0d ? eol - 1 : eol);
  if (line.indexOf('\r') !== -1) throw SipError.badStartLine('bare CR in start line');
  const sl = parseStartLine(line);
  if (sl.error !== undefined) deferred = sl.error;

  // ---- header lines -----------------------------------------------------
  const st: HeaderState = {
    sl,
    headers: [],
    maxHeaders,
    name: undefined,
    value: '',
    skipping: false,
    contentLength: -1,
    error: deferred,
    clError: undefined,
  };
  let pos = eol + 1;
  let nextCr = head.indexOf('\r', pos);
  while (pos < head.length) {
    eol = head.indexOf('\n', pos);
    if (eol === -1) eol = head.length;
    const lineEnd = eol > pos && head.charCodeAt(eol - 1) === 0x0d ? eol - 1 : eol;
    if (nextCr !== -1 && nextCr < pos) nextCr = head.indexOf('\r', pos);
    const c0 = head.charCodeAt(pos);
    if (nextCr !== -1 && nextCr < lineEnd) {
      if (c0 !== 0x20 && c0 !== 0x09) flush(st);
      fail(st, SipError.badHeader('bare CR in header field'));
    } else if (c0 === 0x20 || c0 === 0x09) {
      // Folding: CRLF followed by SP/HT continues the value; the LWS becomes one SP.
      if (st.name !== undefined) {
        const seg = trimWs(head, pos, lineEnd);
        if (seg !== '') st.value = st.value === '' ? seg : st.value + ' ' + seg;
      } else if (!st.skipping)
        fail(st, SipError.badHeader('continuation line without a header field'));
    } else {
      flush(st);
      st.skipping = false;
      headerLine(st, head, pos, lineEnd);
    }
    pos = eol + 1;
  }
  flush(st);
  const headers = st.headers;
  deferred = st.error;

  // ---- body ---------------------------------------------------------------
  const avail = buf.length - bodyStart;
  let bodyLen = avail;
  const contentLength = st.contentLength;
  if (st.clError !== undefined) deferred ??= st.clError;
  else if (contentLength >= 0) {
    if (contentLength > avail) deferred ??= SipError.truncatedBody(contentLength, avail);
    else if (contentLength < avail && !datagram) {
      deferred ??= SipError.badContentLength(
        `${avail - contentLength} octets after the body of a stream message`,
      );
    } else bodyLen = contentLength; // RFC 3261 §18.3: extra datagram octets are discarded
  } else if (!datagram)
    deferred ??= SipError.badContentLength('Content-Length missing on a stream');

  // The body is a copy (pooled Buffer: a fresh ArrayBuffer per message costs ~1 µs).
  let body = EMPTY;
  if (bodyLen > 0) {
    const copy = Buffer.allocUnsafe(bodyLen);
    buf.copy(copy, 0, bodyStart, bodyStart + bodyLen);
    body = copy;
  }
  const msg = build(sl, headers, body);
  if (deferred !== undefined) {
    deferred.partial = msg;
    throw deferred;
  }
  return msg;
}

/** Header-splitting state (module-level functions, not closures: no per-call allocation). */
interface HeaderState {
  sl: StartLine;
  headers: HeaderField[];
  maxHeaders: number;
  /** Header being assembled (folded lines join it); undefined between headers. */
  name: string | undefined;
  value: string;
  /** Inside a malformed header line and its continuations. */
  skipping: boolean;
  /** -1: absent. */
  contentLength: number;
  error: SipError | undefined;
  clError: SipError | undefined;
}

/** name HCOLON value, HCOLON = *( SP / HTAB ) ":" SWS. */
function headerLine(st: HeaderState, head: string, pos: number, lineEnd: number): void {
  const colon = head.indexOf(':', pos);
  if (colon === -1 || colon >= lineEnd) {
    const text = JSON.stringify(head.slice(pos, Math.min(lineEnd, pos + 60)));
    fail(st, SipError.badHeader(`header line without ":": ${text}`));
    return;
  }
  let nameEnd = colon;
  while (nameEnd > pos && isWsp(head.charCodeAt(nameEnd - 1))) nameEnd--;
  const known = knownName(head, pos, nameEnd);
  if (known !== undefined) st.name = known;
  else {
    let ok = nameEnd > pos;
    for (let k = pos; ok && k < nameEnd; k++) ok = is(head.charCodeAt(k), C_TOKEN);
    if (!ok) {
      const text = JSON.stringify(head.slice(pos, nameEnd));
      fail(st, SipError.badHeader(`malformed header name ${text}`));
      return;
    }
    st.name = canonicalHeaderName(head.slice(pos, nameEnd));
  }
  st.value = trimWs(head, colon + 1, lineEnd);
}

function flush(st: HeaderState): void {
  const name = st.name;
  if (name === undefined) return;
  st.name = undefined;
  if (st.headers.length >= st.maxHeaders) {
    const err = SipError.tooLarge(`more than ${st.maxHeaders} header fields`);
    err.partial = build(st.sl, st.headers, EMPTY);
    throw err;
  }
  const value = st.value;
  st.headers.push({ name, value });
  if (name === 'Content-Length') {
    const n = parseDigits(value);
    if (n < 0) {
      st.clError ??= SipError.badContentLength(
        `Content-Length ${JSON.stringify(value)} is not 1*DIGIT`,
      );
    } else if (st.contentLength >= 0 && st.contentLength !== n) {
      st.clError ??= SipError.badContentLength('several different Content-Length values');
    } else st.contentLength = n;
  }
}

function fail(st: HeaderState, err: SipError): void {
  st.error ??= err;
  st.name = undefined;
  st.skipping = true;
}

interface StartLine {
  request: boolean;
  method: string;
  uri: string;
  status: number;
  reason: string;
  version: string;
  error: SipError | undefined;
}

/**
 * Request-Line = Method SP Request-URI SP SIP-Version (exactly one SP each:
 * RFC 4475 §3.1.2.9 lwsstart, §3.1.2.10 trws); Status-Line = SIP-Version SP
 * Status-Code SP Reason-Phrase. Errors that leave the three parts
 * recognisable are returned (so the headers still get parsed for a partial
 * message); hopeless lines throw.
 */
function parseStartLine(line: string): StartLine {
  const sp1 = line.indexOf(' ');
  if (sp1 === -1)
    throw SipError.badStartLine(`malformed start line ${JSON.stringify(line.slice(0, 80))}`);
  const first = line.slice(0, sp1);
  if (first.length >= 4 && first.slice(0, 4).toUpperCase() === 'SIP/') {
    const sp2 = line.indexOf(' ', sp1 + 1);
    const code = line.slice(sp1 + 1, sp2 === -1 ? line.length : sp2);
    const status = code.length === 3 ? parseDigits(code) : -1;
    if (status < 100 || status > 699)
      throw SipError.badStartLine(`malformed status code ${JSON.stringify(code)}`);
    const reason = sp2 === -1 ? '' : line.slice(sp2 + 1);
    const error = checkVersion(first);
    return {
      request: false,
      method: '',
      uri: '',
      status,
      reason,
      version: error ? first : 'SIP/2.0',
      error,
    };
  }

  let method = first;
  let uri = '';
  let version = '';
  let error: SipError | undefined;
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 !== -1) {
    uri = line.slice(sp1 + 1, sp2);
    version = line.slice(sp2 + 1);
  }
  if (
    sp1 === 0 ||
    uri === '' ||
    version === '' ||
    version.indexOf(' ') !== -1 ||
    line.indexOf('\t') !== -1
  ) {
    // Recover method, URI and version for the partial message (RFC 4475
    // §3.1.2.6 lwsruri has SP inside the URI), but reject the line.
    const t = trimWs(line);
    const m = t.search(/[ \t]/);
    const v = Math.max(t.lastIndexOf(' '), t.lastIndexOf('\t'));
    if (m === -1 || v === m) {
      throw SipError.badStartLine(`malformed Request-Line ${JSON.stringify(line.slice(0, 80))}`);
    }
    method = t.slice(0, m);
    uri = trimWs(t, m, v);
    version = t.slice(v + 1);
    error = SipError.badStartLine('Request-Line elements must be separated by exactly one SP');
  }
  if (!isToken(method))
    throw SipError.badStartLine(`malformed method ${JSON.stringify(method.slice(0, 40))}`);
  error ??= checkVersion(version);
  error ??= checkRequestUri(uri);
  return {
    request: true,
    method,
    uri,
    status: 0,
    reason: '',
    version: error ? version : 'SIP/2.0',
    error,
  };
}

/** SIP-Version is compared case-insensitively (RFC 3261 §7.1); anything but 2.0 → 505. */
function checkVersion(v: string): SipError | undefined {
  if (v.length === 7 && v.toUpperCase() === 'SIP/2.0') return undefined;
  if (v.toUpperCase().startsWith('SIP/')) return SipError.badVersion(v);
  return SipError.badStartLine(`malformed SIP-Version ${JSON.stringify(v.slice(0, 40))}`);
}

/**
 * Request-URI = SIP-URI / SIPS-URI / absoluteURI: a scheme, then no SP,
 * controls, "<", ">" or '"' (RFC 4475 §3.1.2.7 ltgtruri). The full grammar
 * check is parseUri/parseRequestUri, run by whoever routes on it.
 */
function checkRequestUri(uri: string): SipError | undefined {
  if (schemeEnd(uri, 0, uri.length) === -1) {
    return SipError.badUri(`Request-URI ${JSON.stringify(uri.slice(0, 80))} has no scheme`);
  }
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x3c || c === 0x3e || c === 0x22) {
      return SipError.badUri(
        `invalid character in Request-URI ${JSON.stringify(uri.slice(0, 80))}`,
      );
    }
  }
  return undefined;
}

function build(sl: StartLine, headers: HeaderField[], body: Uint8Array): SipMessage {
  if (sl.request) {
    const req = new SipRequest(sl.method, sl.uri, headers, body);
    req.version = sl.version;
    return req;
  }
  const res = new SipResponse(sl.status, sl.reason, headers, body);
  res.version = sl.version;
  return res;
}

/**
 * Canonical names of the headers softphones send, bucketed by length, so the
 * usual exactly-spelled name is recognised in place (no slice, no lowercasing).
 */
const BY_LENGTH: string[][] = [];
for (const n of [
  ...'Via From To Call-ID CSeq Contact Max-Forwards Content-Length Content-Type'.split(' '),
  ...'User-Agent Allow Supported Record-Route Route Expires Require Server Accept'.split(' '),
  ...'Allow-Events Authorization WWW-Authenticate Proxy-Authorization Proxy-Authenticate'.split(
    ' ',
  ),
  ...'Event Subscription-State Date Min-Expires Session-Expires Min-SE Timestamp'.split(' '),
  ...'Content-Disposition Content-Encoding P-Asserted-Identity Privacy Reason RSeq RAck'.split(' '),
  ...'Refer-To Referred-By Path Organization Subject Warning Unsupported'.split(' '),
]) {
  (BY_LENGTH[n.length] ??= []).push(n);
}

function knownName(head: string, pos: number, end: number): string | undefined {
  const len = end - pos;
  if (len === 1) {
    const c = head.charCodeAt(pos) | 0x20; // compact forms, RFC 3261 §7.3.3
    return c >= 0x61 && c <= 0x7a ? COMPACT_FORMS[String.fromCharCode(c)] : undefined;
  }
  const names = BY_LENGTH[len];
  if (names === undefined) return undefined;
  for (const n of names) if (head.startsWith(n, pos)) return n;
  return undefined;
}
