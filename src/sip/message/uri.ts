/**
 * SIP and SIPS URIs (RFC 3261 §19.1, grammar §25.1); other absolute URIs
 * (tel:, http:, urn:, …) are kept opaque. Components are %-unescaped on parse
 * (as UTF-8) and re-escaped on format, so parseUri(formatUri(u)) equals u.
 */
import { SipError } from '../errors.js';
import { C_HEX, C_HNV, C_PARAM, C_PASSWORD, C_SCHEME, C_USER, is, lower } from './chars.js';
import { isHost } from './host.js';
import type { SipUri } from './types.js';

/** Parse a URI. Throws SipError BadUri on malformed input. */
export function parseUri(text: string): SipUri {
  return parseUriIn(text, 0, text.length, undefined);
}

/**
 * Parse a Request-URI: as parseUri, and RFC 3261 §19.1.1 (table): a SIP
 * Request-URI carries no headers component (RFC 4475 §3.1.2.11 escruri).
 */
export function parseRequestUri(text: string): SipUri {
  const uri = parseUriIn(text, 0, text.length, undefined);
  if (uri.opaque === undefined && uri.headers.size > 0) {
    throw SipError.badUri('headers are not allowed in a Request-URI');
  }
  return uri;
}

/** Scheme end (index of ":") of an absoluteURI starting at `start`, or -1. */
export function schemeEnd(s: string, start: number, end: number): number {
  const c0 = s.charCodeAt(start);
  if (!((c0 >= 0x41 && c0 <= 0x5a) || (c0 >= 0x61 && c0 <= 0x7a))) return -1;
  for (let i = start + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3a) return i;
    if (!is(c, C_SCHEME)) return -1;
  }
  return -1;
}

/** Characters that can never appear in any URI we accept (controls, SP, < > " and non-ASCII). */
function isUriChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x3c && c !== 0x3e && c !== 0x22;
}

/** @internal Parse s[start,end) as a URI; `header` names the header for error detail. */
export function parseUriIn(
  s: string,
  start: number,
  end: number,
  header: string | undefined,
): SipUri {
  const colon = schemeEnd(s, start, end);
  if (colon === -1) throw bad('missing or malformed scheme', s, start, end, header);
  const scheme = lower(s.slice(start, colon));
  if (scheme !== 'sip' && scheme !== 'sips') {
    if (colon + 1 >= end) throw bad('empty URI', s, start, end, header);
    for (let i = colon + 1; i < end; i++) {
      if (!isUriChar(s.charCodeAt(i))) throw bad('invalid character', s, start, end, header);
    }
    return {
      scheme,
      host: '',
      params: new Map(),
      headers: new Map(),
      opaque: s.slice(colon + 1, end),
    };
  }

  let i = colon + 1;
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };

  // userinfo = ( user / telephone-subscriber ) [ ":" password ] "@". "@" may
  // appear nowhere after the userinfo, so the first one ends it.
  const at = s.indexOf('@', i);
  if (at !== -1 && at < end) {
    let pw = s.indexOf(':', i);
    if (pw > at) pw = -1;
    const userEnd = pw === -1 ? at : pw;
    if (userEnd === i) throw bad('empty user part', s, start, end, header);
    uri.user = decode(s, i, userEnd, C_USER, header);
    if (pw !== -1) uri.password = decode(s, pw + 1, at, C_PASSWORD, header);
    i = at + 1;
  }

  // hostport = host [ ":" port ]
  let hostEnd: number;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close === -1 || close >= end)
      throw bad('unterminated IPv6 reference', s, start, end, header);
    hostEnd = close + 1;
  } else {
    hostEnd = i;
    while (hostEnd < end) {
      const c = s.charCodeAt(hostEnd);
      if (c === 0x3a || c === 0x3b || c === 0x3f) break;
      hostEnd++;
    }
  }
  if (!isHost(s, i, hostEnd)) throw bad('malformed host', s, start, end, header);
  uri.host = lower(s.slice(i, hostEnd));
  i = hostEnd;
  if (i < end && s.charCodeAt(i) === 0x3a) {
    let p = i + 1;
    let port = 0;
    while (p < end) {
      const c = s.charCodeAt(p) - 0x30;
      if (c < 0 || c > 9) break;
      port = port * 10 + c;
      if (port > 65535) throw bad('port out of range', s, start, end, header);
      p++;
    }
    if (p === i + 1) throw bad('empty port', s, start, end, header);
    uri.port = port;
    i = p;
  }

  // uri-parameters = *( ";" pname [ "=" pvalue ] )
  while (i < end && s.charCodeAt(i) === 0x3b) {
    let j = i + 1;
    let eq = -1;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c === 0x3b || c === 0x3f) break;
      if (c === 0x3d && eq === -1) eq = j;
      j++;
    }
    const nameEnd = eq === -1 ? j : eq;
    if (nameEnd === i + 1) throw bad('empty URI parameter name', s, start, end, header);
    const name = lower(decode(s, i + 1, nameEnd, C_PARAM, header));
    const value = eq === -1 ? null : decode(s, eq + 1, j, C_PARAM, header);
    // A parameter given twice: the first one counts (RFC 3261 §19.1.4 compares by name).
    if (!uri.params.has(name)) uri.params.set(name, value);
    i = j;
  }

  // headers = "?" header *( "&" header ); header = hname "=" hvalue
  if (i < end && s.charCodeAt(i) === 0x3f) {
    i++;
    while (i <= end) {
      let j = i;
      let eq = -1;
      while (j < end && s.charCodeAt(j) !== 0x26) {
        if (s.charCodeAt(j) === 0x3d && eq === -1) eq = j;
        j++;
      }
      const nameEnd = eq === -1 ? j : eq;
      if (nameEnd === i) throw bad('empty URI header name', s, start, end, header);
      const name = decode(s, i, nameEnd, C_HNV, header);
      const value = eq === -1 ? '' : decode(s, eq + 1, j, C_HNV, header);
      if (!uri.headers.has(name)) uri.headers.set(name, value);
      i = j + 1;
      if (j >= end) break;
    }
    return uri;
  }
  if (i !== end) throw bad('unexpected character', s, start, end, header);
  return uri;
}

/** Render a URI; components are %-escaped where their grammar needs it. */
export function formatUri(uri: SipUri): string {
  if (uri.opaque !== undefined) return `${uri.scheme}:${uri.opaque}`;
  let out = uri.scheme + ':';
  if (uri.user !== undefined) {
    out += pctEncode(uri.user, C_USER);
    if (uri.password !== undefined) out += ':' + pctEncode(uri.password, C_PASSWORD);
    out += '@';
  }
  if (!isHost(uri.host)) throw SipError.badUri(`malformed host ${JSON.stringify(uri.host)}`);
  out += uri.host;
  if (uri.port !== undefined) {
    if (!Number.isInteger(uri.port) || uri.port < 0 || uri.port > 65535) {
      throw SipError.badUri(`port ${uri.port} out of range`);
    }
    out += ':' + uri.port;
  }
  for (const [name, value] of uri.params) {
    if (name === '') throw SipError.badUri('empty URI parameter name');
    out += ';' + pctEncode(name, C_PARAM);
    if (value !== null) out += '=' + pctEncode(value, C_PARAM);
  }
  let sep = '?';
  for (const [name, value] of uri.headers) {
    if (name === '') throw SipError.badUri('empty URI header name');
    out += sep + pctEncode(name, C_HNV) + '=' + pctEncode(value, C_HNV);
    sep = '&';
  }
  return out;
}

function bad(
  what: string,
  s: string,
  start: number,
  end: number,
  header: string | undefined,
): SipError {
  const text = s.slice(start, Math.min(end, start + 200));
  return SipError.badUri(`${what} in URI ${JSON.stringify(text)}`, header);
}

const utf8 = new TextDecoder('utf-8');

/** Validate s[start,end) against class `flag` (plus %HH escapes) and unescape it. */
function decode(
  s: string,
  start: number,
  end: number,
  flag: number,
  header: string | undefined,
): string {
  let escapes = false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= end || !is(s.charCodeAt(i + 1), C_HEX) || !is(s.charCodeAt(i + 2), C_HEX)) {
        throw bad('malformed %-escape', s, start, end, header);
      }
      escapes = true;
      i += 2;
    } else if (!is(c, flag)) {
      throw bad(`invalid character ${JSON.stringify(s[i])}`, s, start, end, header);
    }
  }
  if (!escapes) return s.slice(start, end);
  const bytes = new Uint8Array(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      bytes[n++] = Number.parseInt(s.slice(i + 1, i + 3), 16);
      i += 2;
    } else bytes[n++] = c;
  }
  return utf8.decode(bytes.subarray(0, n));
}

const HEX = '0123456789ABCDEF';
const encoder = new TextEncoder();

/** %-escape every character of `s` outside class `flag` (UTF-8 octets for non-ASCII). */
function pctEncode(s: string, flag: number): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    if (!is(s.charCodeAt(i), flag)) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && is(c, flag)) {
      out += ch;
      continue;
    }
    for (const b of encoder.encode(ch)) out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}
