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

  // The header section ends at the first empty line (CRLF CRLF, or bare LFs leniently).
  let headEnd = buf.length;
  let bodyStart = buf.length;
  let deferred: SipError | undefined;
  const a = buf.indexOf(LF_CRLF, start);
  const b = buf.indexOf(LF_LF, start);
  if (a !== -1 && (b === -1 || a < b)) {
    headEnd = a;
    bodyStart = a + 3;
  } else if (b !== -1) {
    headEnd = b;
    bodyStart = b + 2;
  } else {
    deferred = SipError.badHeader('no empty line after the header fields');
  }
  // RFC 3261 §7.3.1 / §25: header text is UTF-8 (invalid sequences become U+FFFD).
  const head = buf.toString('utf8', start, headEnd);

  // ---- start line -------------------------------------------------------
  let eol = head.indexOf('\n');
  if (eol === -1) eol = head.length;
  let lineEnd = eol > 0 && head.charCodeAt(eol - 1) === 0x0d ? eol - 1 : eol;
  const line = head.slice(0, lineEnd);
  if (line.indexOf('\r') !== -1) throw SipError.badStartLine('bare CR in start line');
  const sl = parseStartLine(line);
  if (sl.error !== undefined) deferred = sl.error;

  // ---- header lines -----------------------------------------------------
  const headers: HeaderField[] = [];
  let contentLength = -2; // -2: absent; -1: malformed
  let clError: SipError | undefined;
  let name: string | undefined;
  let value = '';
  let skipping = false; // inside a malformed header line and its continuations
  let pos = eol + 1;
  let nextCr = head.indexOf('\r', pos);
  const flush = () => {
    if (name === undefined) return;
    if (headers.length >= maxHeaders) {
      const err = SipError.tooLarge(`more than ${maxHeaders} header fields`);
      err.partial = build(sl, headers, EMPTY);
      throw err;
    }
    headers.push({ name, value });
    if (name === 'Content-Length') {
      const n = parseDigits(value);
      if (n < 0)
        clError ??= SipError.badContentLength(
          `Content-Length ${JSON.stringify(value)} is not 1*DIGIT`,
        );
      else if (contentLength >= 0 && contentLength !== n) {
        clError ??= SipError.badContentLength('several different Content-Length values');
      } else contentLength = n;
    }
    name = undefined;
  };
  const fail = (err: SipError) => {
    deferred ??= err;
    name = undefined;
    skipping = true;
  };

  while (pos < head.length) {
    eol = head.indexOf('\n', pos);
    if (eol === -1) eol = head.length;
    lineEnd = eol > pos && head.charCodeAt(eol - 1) === 0x0d ? eol - 1 : eol;
    while (nextCr !== -1 && nextCr < pos) nextCr = head.indexOf('\r', pos);
    const bareCr = nextCr !== -1 && nextCr < lineEnd;
    const c0 = head.charCodeAt(pos);
    if (c0 === 0x20 || c0 === 0x09) {
      // Folding: CRLF followed by SP/HT continues the value; the LWS becomes one SP.
      if (bareCr) fail(SipError.badHeader('bare CR in header field'));
      else if (name !== undefined) {
        const seg = trimWs(head, pos, lineEnd);
        if (seg !== '') value = value === '' ? seg : value + ' ' + seg;
      } else if (!skipping) fail(SipError.badHeader('continuation line without a header field'));
    } else {
      flush();
      skipping = false;
      const colon = head.indexOf(':', pos);
      if (bareCr) fail(SipError.badHeader('bare CR in header field'));
      else if (colon === -1 || colon >= lineEnd) {
        fail(
          SipError.badHeader(
            `header line without ":": ${JSON.stringify(head.slice(pos, Math.min(lineEnd, pos + 60)))}`,
          ),
        );
      } else {
        // HCOLON = *( SP / HTAB ) ":" SWS
        let nameEnd = colon;
        while (nameEnd > pos && isWsp(head.charCodeAt(nameEnd - 1))) nameEnd--;
        let ok = nameEnd > pos;
        for (let k = pos; ok && k < nameEnd; k++) ok = is(head.charCodeAt(k), C_TOKEN);
        if (!ok)
          fail(
            SipError.badHeader(`malformed header name ${JSON.stringify(head.slice(pos, nameEnd))}`),
          );
        else {
          name = canonical(head.slice(pos, nameEnd));
          value = trimWs(head, colon + 1, lineEnd);
        }
      }
    }
    pos = eol + 1;
  }
  flush();

  // ---- body ---------------------------------------------------------------
  const avail = buf.length - bodyStart;
  let bodyLen = avail;
  if (clError !== undefined) deferred ??= clError;
  else if (contentLength >= 0) {
    if (contentLength > avail) deferred ??= SipError.truncatedBody(contentLength, avail);
    else if (contentLength < avail && !datagram) {
      deferred ??= SipError.badContentLength(
        `${avail - contentLength} octets after the body of a stream message`,
      );
    } else bodyLen = contentLength; // RFC 3261 §18.3: extra datagram octets are discarded
  } else if (!datagram)
    deferred ??= SipError.badContentLength('Content-Length missing on a stream');

  let body = EMPTY;
  if (bodyLen > 0) {
    body = new Uint8Array(bodyLen);
    body.set(buf.subarray(bodyStart, bodyStart + bodyLen));
  }
  const msg = build(sl, headers, body);
  if (deferred !== undefined) {
    deferred.partial = msg;
    throw deferred;
  }
  return msg;
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
  if (sp1 <= 0)
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
  if (uri === '' || version.indexOf(' ') !== -1 || line.indexOf('\t') !== -1 || version === '') {
    // Recover the three parts for the partial message, but reject the line.
    const parts = trimWs(line).split(/[ \t]+/);
    if (parts.length !== 3)
      throw SipError.badStartLine(`malformed Request-Line ${JSON.stringify(line.slice(0, 80))}`);
    [method, uri, version] = parts as [string, string, string];
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

/** Header names as written → canonical; bounded so hostile input cannot grow it. */
const NAMES = new Map<string, string>();
function canonical(raw: string): string {
  let c = NAMES.get(raw);
  if (c === undefined) {
    c = canonicalHeaderName(raw);
    if (NAMES.size < 1024) NAMES.set(raw, c);
  }
  return c;
}
